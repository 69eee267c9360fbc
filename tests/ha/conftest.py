"""A real Patroni cluster (3 etcd, 3 PostgreSQL 15 under Patroni, HAProxy) once per module.

CI installs patroni, etcd-server and haproxy (run_tests.sh); elsewhere the module is skipped
with the missing programs named.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ammo.stack.patroni import Cluster, missing_programs


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    missing = missing_programs()
    if missing:
        pytest.skip(
            f"the HA cluster needs {', '.join(missing)}"
            " (apt-get install patroni etcd-server haproxy)"
        )
    started = Cluster().start()
    try:
        yield started
    finally:
        started.stop()
