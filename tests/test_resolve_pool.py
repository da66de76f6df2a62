"""Resolving in several worker processes: same results, split limits, workers that die."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from resolver_world import Reply, SeenRequest, World, world

import scraper.model
import scraper.resolve
import scraper.resolve.pool
from scraper.config import ResolverConfig
from scraper.model import Resolution
from scraper.resolve.batch import resolve_iter, resolve_urls
from scraper.resolve.pool import (
    MAX_RESTARTS,
    ResolverPoolError,
    pool_size,
    resolve_in_processes,
    share_of,
)
from scraper.resolve.worker import resolution_from_wire, resolution_to_wire

__all__ = ["world"]  # the fixture, imported for pytest


def test_pool_size_follows_the_cores_and_the_limits() -> None:
    """0 means one per core (at most 4); never more than per_host or concurrency allow."""
    assert pool_size(ResolverConfig(processes=0), cpus=2) == 2
    assert pool_size(ResolverConfig(processes=0), cpus=16) == 4
    assert pool_size(ResolverConfig(processes=0), cpus=1) == 1
    assert pool_size(ResolverConfig(processes=6, per_host=8), cpus=2) == 6
    assert pool_size(ResolverConfig(processes=6, per_host=3), cpus=2) == 3
    assert pool_size(ResolverConfig(processes=6, concurrency=2), cpus=8) == 2
    assert pool_size(ResolverConfig(processes=1), cpus=8) == 1


def test_a_share_splits_the_limits_without_exceeding_them() -> None:
    """Each worker gets its part of concurrency and per_host, and resolves in-process."""
    share = share_of(ResolverConfig(concurrency=5, per_host=7, processes=2), 2)
    assert (share.concurrency, share.per_host, share.processes) == (3, 3, 1)
    assert share_of(ResolverConfig(per_host=2), 2).per_host == 1


def test_results_cross_the_pipe_unchanged() -> None:
    """Every field, hops and non-ASCII text included, survives the wire format."""
    result = Resolution(
        url="https://t.co/x",
        status="resolved",
        expanded_url="https://bücher.example/ü",
        final_url="https://bücher.example/ü",
        final_status_code=200,
        hops=[
            scraper.model.Hop("https://t.co/x", 301, "https://bücher.example/ü", "header"),
            scraper.model.Hop("https://bücher.example/ü", 200, None, "none"),
        ],
        resolved_at="2026-11-28T07:00:00+00:00",
    )
    line = resolution_to_wire(result)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert resolution_from_wire(line) == result


async def test_many_urls_resolve_in_processes_as_in_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past POOL_MIN_URLS the batch goes to worker processes; the results are the same."""
    short = await world.add("short.example")
    dest = await world.add("dest.example")

    async def hop(request: SeenRequest, reply: Reply) -> None:
        number = request.path.rsplit("/", 1)[1]
        if number.endswith("7"):  # some chains are dead ends
            await reply.send(404)
        else:
            await reply.redirect(f"http://{dest.ip}:{dest.port}/page/{number}")

    async def page(request: SeenRequest, reply: Reply) -> None:
        await reply.html("<html><body>a page</body></html>")

    for number in range(40):
        short.route(f"/s/{number}", hop)
        dest.route(f"/page/{number}", page)
    urls = [f"http://{short.ip}:{short.port}/s/{n}" for n in range(40)]
    config = World.config(concurrency=6, per_host=6, processes=2)
    monkeypatch.setattr(scraper.resolve.batch, "POOL_MIN_URLS", 10)
    started: list[ResolverConfig] = []
    real_start = scraper.resolve.pool._start_worker

    async def recording_start(share: ResolverConfig) -> Any:
        started.append(share)
        return await real_start(share)

    monkeypatch.setattr(scraper.resolve.pool, "_start_worker", recording_start)

    pooled = await resolve_urls(urls + urls[:5], config)  # duplicates resolved once

    assert [s.concurrency for s in started] == [3, 3]  # two workers, half the limits each
    in_process = await resolve_urls(urls, config, dns=world.dns)  # injected: one process
    assert len(started) == 2

    def comparable(result: Resolution) -> tuple[object, ...]:
        return (result.url, result.status, result.final_url, result.final_status_code, result.hops)

    assert [comparable(r) for r in pooled] == [comparable(r) for r in in_process]
    assert sum(r.status == "resolved" for r in pooled) == 36
    assert {r.final_status_code for r in pooled} == {200, 404}
    assert len(short.requests) == 80  # every URL once per run: none lost, none doubled


async def test_small_batches_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below POOL_MIN_URLS no process is started (they would cost more than they save)."""

    async def refuse(share: ResolverConfig) -> Any:
        raise AssertionError("no worker should start")

    monkeypatch.setattr(scraper.resolve.pool, "_start_worker", refuse)
    config = World.config(processes=2)
    results = [r async for r in resolve_iter(["ftp://x.example/"], config)]
    assert [r.error_category for r in results] == ["invalid_url"]


# -- workers that die -----------------------------------------------------------------------

# A stand-in worker: answers every URL at once, except that it exits (code 3) on
# reading a URL containing "poison", or on start when $DIE_AT_ONCE is set.
FAKE_WORKER = textwrap.dedent(
    """
    import json, os, sys
    sys.stdin.readline()  # the config header
    if os.environ.get("DIE_AT_ONCE"):
        os._exit(3)
    for line in sys.stdin:
        url = json.loads(line)
        if "poison" in url:
            os._exit(3)
        result = {"url": url, "status": "resolved", "expanded_url": None,
                  "final_url": url, "final_status_code": 200, "error": None,
                  "hops": [], "next_attempt_at": None, "resolved_at": None}
        sys.stdout.write(json.dumps(result) + "\\n")
        sys.stdout.flush()
    """
)


@pytest.fixture
def fake_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Replace the worker command with FAKE_WORKER; yields the list of start counts."""
    starts: list[int] = []

    async def start(share: ResolverConfig) -> asyncio.subprocess.Process:
        starts.append(1)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            FAKE_WORKER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None
        process.stdin.write(b"{}\n")
        return process

    monkeypatch.setattr(scraper.resolve.pool, "_start_worker", start)
    yield starts


async def test_a_dying_worker_is_replaced_and_its_urls_are_not_lost(
    fake_workers: list[int],
) -> None:
    """The URLs a dead worker held go to its replacement; the poison URL is reported."""
    urls = [f"https://example.org/{n}" for n in range(30)]
    urls.insert(12, "https://example.org/poison")
    config = ResolverConfig(concurrency=4, per_host=4)

    results = [r async for r in resolve_in_processes(iter(urls), config, 1)]

    by_url = {r.url: r for r in results}
    assert sorted(by_url) == sorted(urls) and len(results) == len(urls)  # each exactly once
    poison = by_url.pop("https://example.org/poison")
    assert poison.status == "failed" and poison.error_category == "internal"
    assert "died 2 times" in (poison.error or "") and "--retry-failed" in (poison.error or "")
    assert all(r.status == "resolved" for r in by_url.values()), [
        (r.url, r.status, r.error) for r in by_url.values() if r.status != "resolved"
    ]
    assert len(fake_workers) == 3  # the first, and one replacement per death


async def test_workers_that_keep_dying_stop_the_run(
    fake_workers: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MAX_RESTARTS deaths the run stops with an error that says what to do."""
    monkeypatch.setenv("DIE_AT_ONCE", "1")
    urls = iter([f"https://example.org/{n}" for n in range(5)])
    with pytest.raises(ResolverPoolError, match=r"processes = 1"):
        [r async for r in resolve_in_processes(urls, ResolverConfig(), 1)]
    assert len(fake_workers) == MAX_RESTARTS + 1


def test_a_worker_whose_parent_is_gone_stops_quietly() -> None:
    """A worker that cannot hand its results over (the parent died) exits with one line."""
    import subprocess

    from scraper.resolve.worker import config_to_wire

    worker = subprocess.Popen(
        [sys.executable, "-m", "scraper.resolve.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdout.close()  # the parent's end of the results pipe: gone
    worker.stdin.write(config_to_wire(ResolverConfig(), 30) + b'"ftp://example.org/x"\n')
    worker.stdin.close()
    assert worker.wait(timeout=60) == 1
    assert worker.stderr is not None
    err = worker.stderr.read()
    worker.stderr.close()
    assert err.decode().strip() == "scraper resolver worker: parent process gone, stopping"
