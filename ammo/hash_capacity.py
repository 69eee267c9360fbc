"""Measure how many bcrypt verifications per second this machine does with N threads.

    python ammo/hash_capacity.py THREADS ROUNDS OUT.json

The login storm is judged against this: logins "at the hashing capacity of the machine" means
the storm's logins/s come close to it. Runs with nothing else of the benchmark running.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import accounts
from passlib.context import CryptContext

SECONDS = 4.0


def main() -> int:
    threads, rounds, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    context = CryptContext(schemes=["bcrypt"], bcrypt__rounds=rounds)
    digest = context.hash(accounts.PASSWORD)
    done = [0] * threads
    deadline = time.monotonic() + SECONDS

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
    result = {"threads": threads, "rounds": rounds, "verifies_per_s": round(rate, 1)}
    with open(out, "w") as f:
        json.dump(result, f)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
