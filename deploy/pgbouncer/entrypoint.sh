#!/bin/sh
# Write the user list PgBouncer authenticates clients with (and logs in to PostgreSQL with)
# from the environment, so the password lives in .env only, never in the image.
set -eu
: "${PGBOUNCER_USER:?}" "${PGBOUNCER_PASSWORD:?}"
umask 077
quote() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }
printf '%s %s\n' "$(quote "$PGBOUNCER_USER")" "$(quote "$PGBOUNCER_PASSWORD")" \
    >/run/pgbouncer/userlist.txt
exec "$@"
