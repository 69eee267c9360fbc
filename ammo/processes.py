"""Start the processes of a run and always stop them: the service, ceiling apps, locust, py-spy."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from ammo import cpu


@contextlib.contextmanager
def started(
    argv: Sequence[str], env: Mapping[str, str], log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run argv for the duration of the block; SIGTERM at the end, SIGKILL if it lingers."""
    out = log.open("ab") if log else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            list(argv), env=dict(env), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            stop(proc)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]


def stop(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:
    """Until something accepts on 127.0.0.1:port; fail early if proc exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout:.0f} s")


def wait_line(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Until `text` appears in the log of proc; False if it ends or the time runs out first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and text in log.read_text(errors="replace"):
            return True
        time.sleep(0.2)
    return False


def workers(root: int) -> list[int]:
    """The worker processes of `shop serve` (multiprocessing children), or root itself."""
    procs = cpu.processes()
    children = [pid for pid, (ppid, cmdline, _) in procs.items() if ppid == root]
    spawned = [pid for pid in children if "spawn_main" in procs[pid][1]]
    return sorted(spawned or [root])


def free_env(**extra: str) -> dict[str, str]:
    """This process's environment plus extra variables (values as given)."""
    return {**os.environ, **extra}
