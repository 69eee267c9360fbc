"""Measure how many bcrypt verifications per second this machine does with N threads.

    python -m ammo.hash_capacity THREADS ROUNDS

The login storm is judged against this: logins "at the hashing capacity of the machine" means
the storm's logins/s come close to it. Runs with nothing else of the benchmark running.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from passlib.context import CryptContext

from ammo import accounts


def measure(threads: int, rounds: int, seconds: float = 4.0) -> dict[str, float]:
    """Verifications per second of `threads` threads hashing for `seconds`."""
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
    digest = context.hash(accounts.PASSWORD)
    done = [0] * threads
    deadline = time.monotonic() + seconds

    def spin(slot: int) -> None:
        while time.monotonic() < deadline:
            context.verify(accounts.PASSWORD, digest)
            done[slot] += 1

    workers = [threading.Thread(target=spin, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    rate = sum(done) / (time.monotonic() - started)
    return {"threads": threads, "rounds": rounds, "verifies_per_s": round(rate, 1)}


def main() -> int:
    print(json.dumps(measure(int(sys.argv[1]), int(sys.argv[2]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
