"""An attacker from one address: slow-body and silent connections, reopened when closed.

Run as `python -m tests.api.slow_clients HOST PORT SOURCE SLOW SILENT SECONDS`; prints
`ready` once every connection has been tried once, then `done <opened> <longest>` at the
end: connections opened, and the longest time the server kept one open before closing it. A
separate process, so its work does not delay the measuring client's event loop.
"""

from __future__ import annotations

import asyncio
import random
import resource
import sys

SLOW_HEAD = (
    b"POST /api/auth HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
    b"Content-Length: 5000\r\n\r\n{"
)


async def one(
    host: str,
    port: int,
    source: str,
    slow: bool,
    stop: float,
    tried: list[int],
    longest: list[float],
) -> None:
    loop = asyncio.get_running_loop()
    first = True
    while loop.time() < stop:
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
        except OSError:
            reader = writer = None
        if first:
            tried[0] += 1
            first = False
        if writer is not None:
            tried[1] += 1
            opened = loop.time()
            try:
                if slow:
                    writer.write(SLOW_HEAD)
                while loop.time() < stop:
                    try:
                        async with asyncio.timeout(5):
                            if not await reader.read(1024):
                                break  # closed by the server
                    except TimeoutError:
                        if slow:
                            writer.write(b" ")  # one byte every 5 s
            except OSError:
                pass
            finally:
                writer.close()
                if loop.time() < stop:  # closed by the server, not by the end of the attack
                    longest[0] = max(longest[0], loop.time() - opened)
        await asyncio.sleep(random.uniform(1.0, 3.0))  # then try again, as an attacker would


async def main(host: str, port: int, source: str, slow: int, silent: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.time() + seconds
    tried = [0, 0]
    longest = [0.0]
    kinds = [True] * slow + [False] * silent
    random.shuffle(kinds)
    tasks = []
    for kind in kinds:
        tasks.append(asyncio.create_task(one(host, port, source, kind, stop, tried, longest)))
        await asyncio.sleep(0)
    while tried[0] < len(kinds):  # noqa: ASYNC110 - a count, polled; no event to wait on
        await asyncio.sleep(0.05)
    say("ready")
    await asyncio.gather(*tasks)
    say(f"done {tried[1]} {longest[0]:.1f}")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    host, port, source, slow, silent, seconds = sys.argv[1:]
    asyncio.run(main(host, int(port), source, int(slow), int(silent), float(seconds)))
