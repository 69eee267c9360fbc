"""Per-request metrics held in plain Python publish exactly what direct updates would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from shop.observability import metrics

BUCKETS = (0.001, 0.01, 0.1, 1.0)
AMOUNTS = (0.0005, 0.001, 0.0011, 0.05, 0.1, 0.5, 2.0, 0.0)


def pair(name: str, kind: type, **kwargs: object) -> tuple[object, object, CollectorRegistry]:
    """The same metric twice in one registry: one updated directly, one through the tally."""
    registry = CollectorRegistry()
    direct = kind(f"{name}_direct", "d", registry=registry, **kwargs)
    held = kind(f"{name}_held", "h", registry=registry, **kwargs)
    return direct, held, registry


def samples(registry: CollectorRegistry, name: str) -> tuple[list[str], list[str]]:
    text = generate_latest(registry).decode()
    lines = [
        line for line in text.splitlines() if not line.startswith("#") and "_created" not in line
    ]
    return sorted(
        line.replace(f"{name}_direct", name) for line in lines if f"{name}_direct" in line
    ), sorted(line.replace(f"{name}_held", name) for line in lines if f"{name}_held" in line)


def test_held_observations_publish_the_histogram_that_observe_builds() -> None:
    direct, held, registry = pair("latency", Histogram, buckets=BUCKETS)
    observations = metrics.Observations(held)
    for amount in AMOUNTS:
        direct.observe(amount)
        observations.observe(amount)

    assert samples(registry, "latency")[1] != samples(registry, "latency")[0]  # not yet
    metrics.publish()

    expected, published = samples(registry, "latency")
    assert published == expected


def test_tallies_publish_their_sum_once_and_gauges_may_go_down() -> None:
    direct, held, registry = pair("requests", Counter)
    tally = metrics.Tally(held)
    for _ in range(3):
        direct.inc()
        tally.inc()
    gauge = Gauge("in_use", "g", registry=registry)
    in_use = metrics.Tally(gauge)
    in_use.inc()
    in_use.inc()
    in_use.inc(-1)

    metrics.publish()
    metrics.publish()  # nothing new: nothing added twice

    expected, published = samples(registry, "requests")
    assert published == expected
    assert registry.get_sample_value("in_use") == 1


def test_a_scrape_publishes_what_this_process_holds() -> None:
    tally = metrics.Tally(metrics.INFO_BODIES.labels("reused"))
    before = metrics.INFO_BODIES.labels("reused")._value.get()
    tally.inc(5)

    body, _ = metrics.render()

    assert metrics.INFO_BODIES.labels("reused")._value.get() == before + 5
    assert b"shop_info_bodies_total" in body
