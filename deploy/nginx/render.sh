#!/bin/sh
# Render an nginx template from stdin to stdout, for compose (inside the nginx container) and
# for the balancer test alike, so the configuration has one source.
#   SHOP_LISTEN_PORT, SHOP_BUY_HOP_PORT, SHOP_ACCESS_LOG   replace ${NAME}
#   SHOP_UPSTREAMS   space-separated host:port list; a line naming the SHOP_UPSTREAM placeholder
#                    is repeated once per address (compose gives one name, `app:8080`, which
#                    Docker's DNS resolves to every replica; the test gives one address each).
# Any other ${UPPER_CASE} placeholder left over is an error, so a typo cannot reach nginx.
set -eu
: "${SHOP_UPSTREAMS:?}" "${SHOP_LISTEN_PORT:?}" "${SHOP_BUY_HOP_PORT:?}" "${SHOP_ACCESS_LOG:?}"
exec awk '
function subst(s, from, to,    out, i) {
  out = ""
  while ((i = index(s, from)) > 0) {
    out = out substr(s, 1, i - 1) to
    s = substr(s, i + length(from))
  }
  return out s
}
BEGIN { n_names = split("SHOP_LISTEN_PORT SHOP_BUY_HOP_PORT SHOP_ACCESS_LOG", names, " ") }
{
  line = $0
  for (k = 1; k <= n_names; k++) line = subst(line, "${" names[k] "}", ENVIRON[names[k]])
  if (index(line, "${SHOP_UPSTREAM}")) {
    n = split(ENVIRON["SHOP_UPSTREAMS"], addresses, " ")
    for (k = 1; k <= n; k++) print subst(line, "${SHOP_UPSTREAM}", addresses[k])
    next
  }
  if (line ~ /\$\{[A-Z_]+\}/) {
    print "render.sh: unknown placeholder in: " line > "/dev/stderr"
    failed = 1
    exit 1
  }
  print line
}
END { if (failed) exit 1 }
'
