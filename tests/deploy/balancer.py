"""nginx in front of local `shop serve` replicas, configured from deploy/nginx like compose."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.helpers import free_port

UPSTREAMS = re.compile(r" upstream=(.+?) upstream_status=")
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"


def find_nginx() -> str | None:
    """nginx on the PATH, or where Debian puts it (/usr/sbin is not on every PATH)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def render(upstreams: list[str], listen_port: int, buy_hop_port: int, access_log: Path) -> str:
    """deploy/nginx/shop.conf.template through deploy/nginx/render.sh, as compose does."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SHOP_UPSTREAMS": " ".join(upstreams),
        "SHOP_LISTEN_PORT": str(listen_port),
        "SHOP_BUY_HOP_PORT": str(buy_hop_port),
        "SHOP_ACCESS_LOG": str(access_log),
    }
    template = (DEPLOY / "shop.conf.template").read_text()
    done = subprocess.run(
        ["sh", str(DEPLOY / "render.sh")],  # noqa: S607 - sh from the PATH, as in the image
        input=template,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


# What the official image's nginx.conf provides around conf.d/*.conf, with paths of our own:
# every path nginx opens or creates by default is in {dir}, so it also runs unprivileged (the
# test image runs as the `shop` user, who may not write /var/lib/nginx or /var/log/nginx).
MAIN_CONF = """\
pid {dir}/nginx.pid;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/shop.conf;
}}
"""


class Balancer:
    """nginx (foreground, its own directory) balancing over `upstreams` on a free port."""

    def __init__(self, nginx: str, upstreams: list[str]) -> None:
        # Readable by the unprivileged worker user that nginx switches to when run as root.
        self.dir = Path(tempfile.mkdtemp(prefix="shop-nginx-"))
        self.dir.chmod(0o755)
        self.port = free_port()
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        (self.dir / "shop.conf").write_text(
            render(upstreams, self.port, free_port(), self.access_log)
        )
        (self.dir / "nginx.conf").write_text(MAIN_CONF.format(dir=self.dir))
        command = [nginx, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")]
        command += ["-e", str(self.error_log)]
        subprocess.run([*command, "-t", "-q"], check=True, capture_output=True)
        self.process = subprocess.Popen(
            [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_listening(self, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while True:
            assert self.process.poll() is None, "nginx exited: " + self.errors()
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            assert time.monotonic() < deadline, "nginx did not start: " + self.errors()
            time.sleep(0.05)

    def upstream_counts(self) -> Counter[str]:
        """How often each replica was tried so far (its address in the access log)."""
        counts: Counter[str] = Counter()
        for match in UPSTREAMS.finditer(self.access_log.read_text()):
            counts.update(match.group(1).split(", "))
        return counts

    def errors(self) -> str:
        return self.error_log.read_text() if self.error_log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
