"""Time the four kinds of login against a running `shop serve`: does timing give names away?

    BCRYPT_ROUNDS=10 shop serve &                       # the production cost
    python ammo/login_timing.py http://127.0.0.1:8080 [SAMPLES]

An unknown name (registered on the spot: one bcrypt hash), a wrong password and a right one
(one bcrypt verification each) should take about the same time; a locked-out name (no bcrypt)
far less. The kinds are interleaved, so load from elsewhere on the machine hits them alike,
and the result is given as medians and as ratios within this one run. The suite asserts the
work behind this (tests/api/test_login_timing.py: bcrypt operations and their cost), not the
time, which a busy machine distorts.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid

import aiohttp

DEFAULT_SAMPLES = 20
MAX_GUESSES = 1000


async def timed_login(
    http: aiohttp.ClientSession, url: str, username: str, password: str, expected: int
) -> float:
    """Milliseconds from sending the request to the end of the answer."""
    started = time.perf_counter()
    async with http.post(
        url + "/api/auth", json={"username": username, "password": password}
    ) as response:
        await response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != expected:
        raise SystemExit(f"{username}: expected {expected}, got {response.status}")
    return elapsed


async def lock_out(http: aiohttp.ClientSession, url: str, username: str) -> None:
    """Guess wrong until the server answers with Retry-After."""
    for n in range(MAX_GUESSES):
        body = {"username": username, "password": f"wrong-{n}"}
        async with http.post(url + "/api/auth", json=body) as response:
            await response.read()
            if "Retry-After" in response.headers:
                return
    raise SystemExit(f"{username} was not locked out after {MAX_GUESSES} wrong passwords")


async def measure(url: str, samples: int) -> dict[str, object]:
    run = uuid.uuid4().hex[:8]  # fresh names, so runs against one database don't interfere
    known, locked = f"timing-{run}-known", f"timing-{run}-locked"
    kinds: dict[str, list[float]] = {"unknown": [], "wrong": [], "right": [], "locked": []}
    async with aiohttp.ClientSession() as http:
        await timed_login(http, url, known, "right-password", 200)
        await timed_login(http, url, locked, "right-password", 200)
        await lock_out(http, url, locked)
        for n in range(samples):
            # A right password after each wrong one resets the count: `known` never locks.
            kinds["unknown"].append(await timed_login(http, url, f"{known}-{n}", "pw", 200))
            kinds["wrong"].append(await timed_login(http, url, known, f"wrong-{n}", 401))
            kinds["right"].append(await timed_login(http, url, known, "right-password", 200))
            kinds["locked"].append(await timed_login(http, url, locked, "wrong", 401))
    medians = {kind: round(statistics.median(ms), 2) for kind, ms in kinds.items()}
    return {
        "samples": samples,
        "median_ms": medians,
        "wrong_over_unknown": round(medians["wrong"] / medians["unknown"], 3),
        "locked_over_wrong": round(medians["locked"] / medians["wrong"], 3),
    }


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    url = sys.argv[1].rstrip("/")
    samples = int(sys.argv[2]) if len(sys.argv) == 3 else DEFAULT_SAMPLES
    print(json.dumps(asyncio.run(measure(url, samples))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
