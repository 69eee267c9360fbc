"""The load scenarios, declared once: the driver runs these rows and the report judges them.

Adding a scenario is adding a row to SCENARIOS; neither `driver.py` nor `report.py` names one.
Each row says which locust user classes run (ammo/locustfile.py), how many, at what rates for
how long, against which target, and the service level a step must meet to count as good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SERVICE = "{service}"
"""Target placeholder: the `shop serve` the driver starts."""
CEILING = "{ceiling}"
"""Target placeholder: the ceiling app (ammo/ceiling.py) the driver starts."""
TARGET_URL = "{target_url}"
"""Target placeholder: the base URL given as `--target-url` (any running instance)."""
PYTHON = "{python}"
"""Placeholder in a `start` command: the Python running the driver."""

INFO_HISTORY_MAX_RATIO = 2.0
"""/api/info of the long-history employee may cost at most this many times a new one's."""


@dataclass(frozen=True)
class Step:
    """A stretch of constant total arrival rate of the paced classes; None: as fast as it goes."""

    rate: float | None
    seconds: float
    judged: bool = True
    """False: shown, but not held to the SLO (e.g. a look above the promised rate)."""


@dataclass(frozen=True)
class Slo:
    """What a step must do to count as good."""

    p99_ms: float
    endpoint: str = "Aggregated"
    """Locust's name of the requests judged; "Aggregated" is all of them."""
    failures: int = 0
    reach: float = 0.97
    """Share of a paced step's target rate that must actually be served."""

    def met(self, row: Mapping[str, Any], rate: float | None) -> bool:
        """Whether a step's row for `endpoint` (numbers, as the locustfile writes) meets it."""
        reached = rate is None or self.endpoint != "Aggregated" or row["rps"] >= self.reach * rate
        return reached and row["failures"] <= self.failures and row["p99_ms"] <= self.p99_ms

    def describe(self) -> str:
        failures = f"≤ {self.failures} failures" if self.failures else "0 failures"
        if self.endpoint != "Aggregated":
            return f"{self.endpoint} p99 ≤ {self.p99_ms:g} ms, {failures}"
        return f"p99 ≤ {self.p99_ms:g} ms, {failures}, ≥ {self.reach:.0%} of the rate served"


@dataclass(frozen=True)
class Throughput:
    """A figure worth its own line: the combined rate of the endpoints named with a prefix."""

    label: str
    prefix: str
    of_hashing_capacity: bool = False
    """Also give it as a share of the machine's measured bcrypt verifications per second."""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    what: str
    classes: tuple[str, ...]
    users: int
    steps: tuple[Step, ...]
    slo: Slo | None = None
    target: str = SERVICE
    """SERVICE, CEILING, TARGET_URL or a literal base URL."""
    search: bool = False
    """Stop after the first step that misses the SLO; the result is the highest good rate."""
    ceiling_share: float | None = None
    """Goal for the highest good rate as a share of the same run's ceiling (efficiency)."""
    fixed_users: dict[str, int] = field(default_factory=dict)
    """User classes with a set number of users (the rest share `users`)."""
    fixed_rates: dict[str, float] = field(default_factory=dict)
    """User classes paced at a rate of their own, whatever the step."""
    throughput: tuple[Throughput, ...] = ()
    audit: bool = True
    """Run `shop audit` after the scenario."""
    profile: bool = False
    """Sample the service's workers with py-spy during the scenario (if py-spy is installed)."""
    yardstick: bool = False
    """Other scenarios' rates are also given as a share of this one's."""
    components: dict[str, str] = field(default_factory=dict)
    """Extra CPU groups: label -> substring of the process command line (e.g. pgbouncer)."""
    start: tuple[str, ...] = ()
    """A command bringing up the target before the scenario; stopped after it. Its process
    tree is the CPU group *started*, less what `components` name."""
    compare_with: str = ""
    """Name of a scenario run before it (same rates) to set its figures beside: the report's
    side-by-side table shows both and the difference (this row minus that one)."""
    default: bool = True
    """Part of `python -m ammo run` without scenario names."""
    generator: str = "locust"
    """`locust` (ammo/locustfile.py, every class) or `pacer` (ammo/pacer.py: one paced class,
    a fraction of locust's CPU per request; ammo/README.md has the figures)."""


MIXED = (
    "80% GET /api/info, 10% GET /api/buy/{pen|socks|cup}, 10% POST /api/sendCoin of 1-5 coins "
    "to a random colleague; users paced to a constant total arrival rate; 5% of them are "
    "broke employees whose 400s count as success."
)
MIXED_SLO = Slo(p99_ms=50)

SCALEOUT_URL = "http://127.0.0.1:18500"
SCALEOUT_START = (PYTHON, "-m", "ammo.topology", "replicas", "3")
"""nginx on SCALEOUT_URL -> 3 replicas (WORKERS=1) -> PgBouncer (transaction) -> PostgreSQL."""
SCALEOUT_PARTS = {"nginx": "nginx: ", "pgbouncer": "pgbouncer"}
SCALEOUT_WHAT = (
    " Through nginx, 3 replicas of `shop serve` (WORKERS=1 each, DATABASE_POOLER=transaction) "
    "and PgBouncer in transaction mode, configured from deploy/ (ammo/topology.py); on the "
    "same database and cores as the direct instance, so the difference is the cost of the "
    "two extra hops."
)
SCALEOUT_STEPS = tuple(Step(r, 10) for r in (400, 600, 800, 1000, 1200, 1400, 1600, 1800))

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        name="ceiling",
        title="Ceiling: JWT check + one SELECT (ammo/ceiling.py)",
        what="GET /api/ceiling as fast as it goes, one process per service worker on one "
        "port, the service's own token codec and pool settings. The yardstick for the rest.",
        classes=("CeilingUser",),
        users=64,
        steps=(Step(None, 20),),
        target=CEILING,
        audit=False,
        yardstick=True,
    ),
    Scenario(
        name="mixed_floor",
        title="Mixed at 1,000 requests/s for 60 s (the floor)",
        what=MIXED,
        classes=("MixedEmployee",),
        users=100,
        steps=(Step(1000, 60),),
        generator="pacer",
        slo=MIXED_SLO,
    ),
    Scenario(
        name="mixed_floor_locust",
        title="Mixed at 1,000 requests/s for 60 s, generated by locust",
        what=MIXED + " The same load as mixed_floor from locust's MixedEmployee instead of "
        "ammo/pacer.py, to set the two generators' own costs side by side.",
        classes=("MixedEmployee",),
        users=100,
        steps=(Step(1000, 60),),
        slo=MIXED_SLO,
        compare_with="mixed_floor",
        default=False,
    ),
    Scenario(
        name="mixed_goal",
        title="Mixed at 1,500 requests/s for 60 s (the goal)",
        what=MIXED,
        classes=("MixedEmployee",),
        users=150,
        steps=(Step(1500, 60),),
        generator="pacer",
        slo=MIXED_SLO,
    ),
    Scenario(
        name="mixed_steps",
        title="Mixed, stepping the rate to find the highest good one",
        what=MIXED + " Stops after the first step that misses the SLO.",
        classes=("MixedEmployee",),
        users=150,
        steps=tuple(Step(r, 12) for r in (500, 750, 1000, 1250, 1500, 1750, 2000, 2500)),
        generator="pacer",
        slo=MIXED_SLO,
        search=True,
        ceiling_share=0.35,
    ),
    Scenario(
        name="hot",
        title="Hot colleague",
        what="Half the requests send 1 coin to one and the same employee, half read "
        "/api/info; 1,000/s is judged, 1,500/s is a look above it.",
        classes=("HotColleagueEmployee",),
        users=100,
        steps=(Step(1000, 30), Step(1500, 30, judged=False)),
        generator="pacer",
        slo=Slo(p99_ms=100),
    ),
    Scenario(
        name="storm",
        title="Login storm",
        what="16 users log in back to back (half first logins of new employees, half "
        "re-logins of seeded ones) while 50 users read /api/info at 500/s in total.",
        classes=("InfoReader", "StormLogin"),
        users=66,
        steps=(Step(None, 45),),
        slo=Slo(p99_ms=50, endpoint="/api/info"),
        fixed_users={"InfoReader": 50, "StormLogin": 16},
        fixed_rates={"InfoReader": 500},
        throughput=(Throughput("logins", "/api/auth", of_hashing_capacity=True),),
    ),
    Scenario(
        name="profile",
        title="Mixed at 1,000/s under py-spy (profiling run)",
        what="Only to sample the workers; figures are perturbed by the profiler.",
        classes=("MixedEmployee",),
        users=100,
        steps=(Step(1000, 15, judged=False),),
        generator="pacer",
        slo=MIXED_SLO,
        profile=True,
    ),
    Scenario(
        name="mixed_at_url",
        title="Mixed at 1,000/s against --target-url",
        what=MIXED + " Against any running instance on the benchmark's database (e.g. "
        "behind a proxy and a pooler), to compare with mixed_floor in the same run.",
        classes=("MixedEmployee",),
        users=100,
        steps=(Step(1000, 60),),
        generator="pacer",
        slo=MIXED_SLO,
        target=TARGET_URL,
        default=False,
    ),
    Scenario(
        name="scaleout_direct_fixed",
        title="Scale-out baseline: mixed at 800/s, one instance straight to PostgreSQL",
        what=MIXED + " `shop serve` with 2 workers, no proxy, no pooler.",
        classes=("MixedEmployee",),
        users=100,
        steps=(Step(800, 40),),
        generator="pacer",
        slo=MIXED_SLO,
        default=False,
    ),
    Scenario(
        name="scaleout_replicas_fixed",
        title="Scale-out: mixed at 800/s through nginx, 3 replicas and PgBouncer",
        what=MIXED + SCALEOUT_WHAT,
        classes=("MixedEmployee",),
        users=100,
        steps=(Step(800, 40),),
        generator="pacer",
        slo=MIXED_SLO,
        compare_with="scaleout_direct_fixed",
        target=SCALEOUT_URL,
        start=SCALEOUT_START,
        components=SCALEOUT_PARTS,
        default=False,
    ),
    Scenario(
        name="scaleout_direct_steps",
        title="Scale-out baseline: mixed, stepped, one instance straight to PostgreSQL",
        what=MIXED + " `shop serve` with 2 workers. Stops after the first step that misses.",
        classes=("MixedEmployee",),
        users=150,
        steps=SCALEOUT_STEPS,
        generator="pacer",
        slo=MIXED_SLO,
        search=True,
        default=False,
    ),
    Scenario(
        name="scaleout_replicas_steps",
        title="Scale-out: mixed, stepped, through nginx, 3 replicas and PgBouncer",
        what=MIXED + SCALEOUT_WHAT + " Stops after the first step that misses.",
        classes=("MixedEmployee",),
        users=150,
        steps=SCALEOUT_STEPS,
        generator="pacer",
        slo=MIXED_SLO,
        search=True,
        compare_with="scaleout_direct_steps",
        target=SCALEOUT_URL,
        start=SCALEOUT_START,
        components=SCALEOUT_PARTS,
        default=False,
    ),
)


def from_dict(data: Mapping[str, Any]) -> Scenario:
    """A scenario as recorded in a results file (dataclasses.asdict of the row as run)."""
    return Scenario(
        **{
            **data,
            "classes": tuple(data["classes"]),
            "steps": tuple(Step(**step) for step in data["steps"]),
            "slo": Slo(**data["slo"]) if data["slo"] else None,
            "throughput": tuple(Throughput(**t) for t in data["throughput"]),
            "start": tuple(data["start"]),
        }
    )


def by_name(names: list[str] | None) -> list[Scenario]:
    """The named scenarios in table order, or the default ones; unknown names are an error."""
    known = {s.name: s for s in SCENARIOS}
    unknown = sorted(set(names or ()) - set(known))
    if unknown:
        raise KeyError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    if not names:
        return [s for s in SCENARIOS if s.default]
    return [s for s in SCENARIOS if s.name in names]
