"""The benchmarks' loopback world: its plans are stable and its truth is what a resolver finds.

The comparison in ``bench/compare_resolvers.py`` scores every tool against
``world.World.truth``; these tests check that truth against the world's own server
(run as the benchmarks run it, in its own process on 127.0.0.x) through our resolver.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from resolver_world import RecordingSleep

from scraper.config import ResolverConfig
from scraper.resolve.batch import resolve_urls

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import world as bench_world  # bench/ is not a package: on the path above


def test_plans_are_seeded_and_faults_come_at_their_rates() -> None:
    """The same index gives the same plan; over many URLs each fault is near its rate."""
    assert bench_world.plan_for(123) == bench_world.plan_for(123)
    assert bench_world.plan_for(123, seed=8) != bench_world.plan_for(123)
    plans = [bench_world.plan_for(i) for i in range(5000)]
    faults = Counter(plan.fault for plan in plans)
    for fault, rate in bench_world.FAULT_RATES.items():
        assert abs(faults[fault] / 5000 - rate) < 0.006, fault
    assert {len(plan.hops) for plan in plans} == {1, 2, 3}
    for plan in plans:
        assert all(a != b for a, b in zip(plan.hops, plan.hops[1:], strict=False))
        assert 0 <= plan.fault_hop < len(plan.hops)


async def test_our_resolver_finds_the_worlds_truth() -> None:
    """Every fault but the hanging hop, resolved through the world's server, matches the truth."""
    wanted = Counter({"none": 30, "429": 4, "503": 4, "dead": 4})
    indices = []
    for index in range(2000):
        fault = bench_world.plan_for(index).fault
        if wanted[fault] > 0:
            wanted[fault] -= 1
            indices.append(index)
    assert not +wanted  # the first 2,000 plans hold every kind asked for
    config = ResolverConfig(
        allow_private=True,
        timeout=10.0,
        concurrency=8,
        per_host=8,
        shorteners=list(bench_world.SHORTENERS),
    )
    sleep = RecordingSleep()  # Retry-After and backoff waits are recorded, not slept
    with bench_world.running_world() as port:
        place = bench_world.World(port, bench_world.make_token(1, 0.0))
        urls = [place.short_url(i) for i in indices]
        results = await resolve_urls(urls, config, sleep=sleep)
        truths = [place.truth(i) for i in indices]
    for index, result, truth in zip(indices, results, truths, strict=True):
        assert (result.final_url, result.final_status_code) == (truth.final_url, truth.final_status)
        assert len(result.hops) == len(bench_world.plan_for(index).hops) + 1  # + destination
    assert 1.0 in sleep.waits  # the one-off 429s said Retry-After: 1
