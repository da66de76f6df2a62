"""The Dask engine on a real LocalCluster: the same database as one process, faults, resolving."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster
from resolver_world import Reply as WorldReply
from resolver_world import SeenRequest, World, world  # noqa: F401 (a fixture)
from site_server import build_news_site, serve_site
from test_run import DNS, make_config, no_sleep, table_sizes
from test_warc import FIXTURES, config_for, last_run, mixed_records, table_rows
from warc_files import Rec, write_warc

from scraper import archives, file_batches
from scraper.cli import cli
from scraper.config import Config
from scraper.engine import EngineSpec
from scraper.engine.resolving import host_partition, resolve_on_cluster
from scraper.resolve.batch import resolve_urls
from scraper.run import RunCounts, RunOptions, run_batch

# Other users of this machine may run Dask too: a taken default port is only a warning.
pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")

DEADLINE = 120.0  # seconds: a test that waits on the cluster gives up here, never hangs


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes of one thread each, no dashboard (as CI runs it)."""
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as local:
        yield local


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[Client]:
    """A client of the module's cluster."""
    with Client(cluster, timeout=DEADLINE) as connected:
        connected.wait_for_workers(2, timeout=DEADLINE)
        yield connected


def many_pages_warc(path: Path, copies: int) -> None:
    """The fixture pages ``copies`` times over, each under its own URL, plus odd records."""
    pages = sorted((FIXTURES / "html").glob("*.html")) + sorted(
        (FIXTURES / "platforms").glob("*.html")
    )
    records = [
        Rec(uri=f"https://site.example/{n}/{p.stem}", body=p.read_bytes())
        for n in range(copies)
        for p in pages
    ]
    write_warc(path, [*mixed_records(), *records])


def on_cluster(address: str) -> RunOptions:
    """Run options that use the running cluster at ``address``."""
    return RunOptions(progress=False, engine=EngineSpec(scheduler=address))


def test_cluster_run_equals_one_process_run(
    tmp_path: Path, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many small units on 2 workers leave the same tables and counts as one process."""
    monkeypatch.setattr(archives, "UNIT_BYTES", 30_000)
    warc = tmp_path / "many.warc.gz"
    many_pages_warc(warc, 6)
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    single = run_batch(config_for(one), [str(warc)], RunOptions(progress=False))
    spread = run_batch(config_for(many), [str(warc)], on_cluster(cluster.scheduler_address))
    assert spread.records_read > 100
    assert spread == single
    assert table_rows(many) == table_rows(one)


_MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def rows_at_any_time(db: Path) -> dict[str, list[str]]:
    """:func:`table_rows` with the moments of the run (``fetched_at``...) blanked."""
    return {
        name: [_MOMENT.sub("<t>", row) for row in rows] for name, rows in table_rows(db).items()
    }


def test_files_on_the_cluster_equal_one_process(
    tmp_path: Path, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of local files read and parsed on 2 workers: the same tables and counts as one
    process, skipped files recorded alike, and a rerun finds every page unchanged."""
    monkeypatch.setattr(file_batches, "FILES_PER_BATCH", 4)
    monkeypatch.chdir(tmp_path)
    pages = tmp_path / "pages"
    pages.mkdir()
    for path in sorted((FIXTURES / "html").glob("*.html")):
        shutil.copy(path, pages / path.name)
    (pages / "empty.html").write_bytes(b"")
    (pages / "program.html").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8)
    page_count = len(list((FIXTURES / "html").glob("*.html")))
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    single = run_batch(config_for(one), ["pages"], RunOptions(progress=False))
    spread = run_batch(config_for(many), ["pages"], on_cluster(cluster.scheduler_address))
    assert spread.fetched == page_count > 8
    assert spread.skipped == 2
    assert spread == single
    assert rows_at_any_time(many) == rows_at_any_time(one)
    again = run_batch(config_for(many), ["pages"], on_cluster(cluster.scheduler_address))
    assert (again.unchanged, again.new_articles, again.skipped) == (page_count, 0, 2)


def test_fetched_pages_are_parsed_on_the_cluster(tmp_path: Path, cluster: LocalCluster) -> None:
    """A crawl (sitemap index, feed, 20 articles on a loopback site) fetched by the client
    and parsed on the workers stores what one process stores."""
    counts: dict[str, object] = {}
    with serve_site(build_news_site(20)) as base:
        for name, options in (
            ("one", RunOptions(progress=False)),
            ("many", on_cluster(cluster.scheduler_address)),
        ):
            feeds = [f"{base}/sitemap_index.xml", f"{base}/feed.xml"]
            config = make_config(tmp_path / f"{name}.db", feeds=feeds)
            counts[name] = run_batch(config, [], options, dns=DNS, sleep=no_sleep)
    one, many = counts["one"], counts["many"]
    assert isinstance(one, RunCounts) and isinstance(many, RunCounts)
    assert many.new_articles == one.new_articles == 20
    assert (many.posts, many.links, many.errors) == (one.posts, one.links, one.errors)
    assert table_sizes(tmp_path / "many.db") == table_sizes(tmp_path / "one.db")

    def parsed(name: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(tmp_path / f"{name}.db")
        found = sorted(conn.execute("SELECT url, title, n_posts, n_links FROM articles"))
        conn.close()
        return found

    assert parsed("many") == parsed("one")


def test_workers_flag_starts_a_local_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`scraper run WARC --workers 2` reads the archive on its own cluster, same database."""
    write_warc(tmp_path / "a.warc.gz", mixed_records())
    monkeypatch.chdir(tmp_path)
    args = ["run", "a.warc.gz", "--no-resolve", "--no-progress"]
    plain = CliRunner().invoke(cli, [*args, "--db", "one.db"])
    spread = CliRunner().invoke(cli, [*args, "--db", "two.db", "--workers", "2"])
    assert plain.exit_code == 0 and spread.exit_code == 0, spread.output
    assert "records read 8" in spread.output
    assert table_rows(tmp_path / "two.db") == table_rows(tmp_path / "one.db")


def test_local_workers_are_set_up_for_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers of a cluster we start run below the client's priority, keep glibc's own
    mmap threshold and have the parser warm; the client is never lowered."""
    from scraper.engine.cluster import open_client

    # A cluster started with Dask's defaults earlier in this process (this module's
    # fixture) left the variable in os.environ, where Dask puts it before spawning.
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)

    with open_client(EngineSpec(workers=1)) as started:
        started.wait_for_workers(1, timeout=DEADLINE)
        niceness = list(started.run(os.nice, 0).values())
        trim = list(started.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values())
        warm = list(started.run(lambda: "scraper.parse" in sys.modules).values())
    assert niceness == [os.nice(0) + 10]
    assert trim == [None]
    assert warm == [True]


def _killed() -> None:
    from types import SimpleNamespace

    from distributed import KilledWorker

    raise KilledWorker("parse-1", SimpleNamespace(address="tcp://127.0.0.1:1"), 3)


def _boom() -> None:
    raise ValueError("boom")


def test_cluster_executor_turns_killed_workers_into_one_line_errors() -> None:
    """Fetched pages parsed on the cluster: a task that killed its workers fails the run
    as an EngineError (one line), other results and errors pass through."""
    from concurrent.futures import ThreadPoolExecutor

    from scraper.engine.cluster import ClusterExecutor, EngineError

    executor = ClusterExecutor(ThreadPoolExecutor(1))
    try:
        assert executor.submit(sum, [1, 2, 3]).result(timeout=DEADLINE) == 6
        killed = executor.submit(_killed).exception(timeout=DEADLINE)
        assert isinstance(killed, EngineError)
        assert "killed its workers too many times" in str(killed)
        assert isinstance(executor.submit(_boom).exception(timeout=DEADLINE), ValueError)
    finally:
        executor.shutdown()


def test_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    """A scheduler file naming nothing is a one-line error, no traceback."""
    missing = tmp_path / "scheduler.json"
    result = CliRunner().invoke(
        cli,
        ["run", str(tmp_path), "--db", str(tmp_path / "c.db"), "--scheduler-file", str(missing)],
    )
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")


def test_a_worker_killed_mid_task_loses_nothing(
    tmp_path: Path, client: Client, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL to a busy worker: its task reruns elsewhere; nothing lost, nothing counted twice."""
    monkeypatch.setattr(archives, "UNIT_BYTES", 30_000)
    warc = tmp_path / "many.warc.gz"
    many_pages_warc(warc, 25)
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    single = run_batch(config_for(one), [str(warc)], RunOptions(progress=False))
    pids: dict[str, int] = client.run(os.getpid)
    outcome: dict[str, object] = {}

    def spread() -> None:
        try:
            outcome["counts"] = run_batch(
                config_for(many), [str(warc)], on_cluster(cluster.scheduler_address)
            )
        except BaseException as exc:  # handed to the test thread to fail there
            outcome["error"] = exc

    runner = threading.Thread(target=spread)
    runner.start()
    killed = None
    deadline = time.monotonic() + DEADLINE
    while killed is None and time.monotonic() < deadline and runner.is_alive():
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        if busy and busy[0] in pids:
            killed = pids[busy[0]]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.005)  # polling the scheduler, not waiting for the code under test
    runner.join(DEADLINE)
    assert not runner.is_alive()
    assert killed is not None, "the run ended before a worker could be killed"
    assert "error" not in outcome, outcome.get("error")
    assert outcome["counts"] == single
    assert table_rows(many) == table_rows(one)
    client.wait_for_workers(2, timeout=DEADLINE)  # the nanny brought a worker back


def test_client_killed_leaves_a_consistent_database(tmp_path: Path) -> None:
    """`kill -9` of a `--workers 2` run mid-way: the next run finishes it, same as a clean run."""
    warc = tmp_path / "many.warc.gz"
    many_pages_warc(warc, 40)
    clean = tmp_path / "clean.db"
    run_batch(config_for(clean), [str(warc)], RunOptions(progress=False))
    db = tmp_path / "c.db"
    code = (
        "import sys\n"
        "from scraper import archives\n"
        "from scraper.cli import cli\n"
        "archives.UNIT_BYTES = 30_000\n"
        "sys.argv = ['scraper', 'run', sys.argv[1], '--db', sys.argv[2], '--no-resolve',"
        " '--no-progress', '--workers', '2']\n"
        "cli()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(warc), str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    family: set[int] = set()
    try:
        deadline = time.monotonic() + DEADLINE
        stored = 0
        while time.monotonic() < deadline and child.poll() is None and stored < 20:
            family |= {p.pid for p in psutil.Process(child.pid).children(recursive=True)}
            stored = article_count(db)
            time.sleep(0.05)  # polling the child's database
        assert child.poll() is None, "the run ended before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(DEADLINE)
    finally:
        child.kill()
        # the worker processes this test started through the child: end them too
        for pid in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()
    assert 0 < article_count(db) < article_count(clean)
    counts = run_batch(config_for(db), [str(warc)], RunOptions(progress=False))
    assert counts.records_read > 0
    assert table_rows(db) == table_rows(clean)
    assert last_run(db)["status"] == "completed"


def article_count(db: Path) -> int:
    """Articles stored so far (0 before the database exists)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


# ---------------------------------------------------------------------------- resolving


def test_host_partition_is_stable() -> None:
    """A host's URLs share a partition, whatever their path or scheme."""
    assert host_partition("https://t.co/a", 4) == host_partition("http://T.CO/b?x=1", 4)
    assert {host_partition(f"https://h{i}.example/", 4) for i in range(40)} == {0, 1, 2, 3}


async def test_resolving_on_the_cluster(world: World, client: Client) -> None:  # noqa: F811
    """Loopback shorteners resolved by 2 workers: results as in one process, per-host bound kept."""
    short = await world.add("t.co")
    other = await world.add("bit.ly")
    dest = await world.add("dest.example")

    async def hop(request: SeenRequest, reply: WorldReply) -> None:
        await asyncio.sleep(0.005)  # the server is slow enough for requests to overlap
        await reply.redirect(dest.url("/to" + request.path))

    async def land(request: SeenRequest, reply: WorldReply) -> None:
        await reply.html(b"<html><title>here</title></html>")

    short.route("*", hop)
    other.route("*", hop)
    dest.route("*", land)
    urls = [short.url(f"/s{i}") for i in range(30)] + [other.url(f"/b{i}") for i in range(30)]
    config = World.config(per_host=2, concurrency=8)
    dns = world.dns
    results: list[object] = []
    count = await asyncio.to_thread(
        resolve_on_cluster, client, urls, config, on_result=results.append, dns=dns, chunk=7
    )
    local = await resolve_urls(urls, config, dns=dns)
    assert count == len(results) == 60
    on_cluster = {r.url: (r.status, r.final_url) for r in results}  # type: ignore[attr-defined]
    assert on_cluster == {r.url: (r.status, r.final_url) for r in local}
    assert {status for status, _ in on_cluster.values()} == {"resolved"}
    assert short.max_active <= 2 and other.max_active <= 2


async def test_run_resolves_on_the_cluster(
    tmp_path: Path,
    world: World,  # noqa: F811
    cluster: LocalCluster,
) -> None:
    """A run on the cluster resolves its pages' short links there: urls as in one process."""
    short = await world.add("t.co")
    dest = await world.add("dest.example")

    async def hop(request: SeenRequest, reply: WorldReply) -> None:
        await reply.redirect(dest.url("/to" + request.path))

    async def land(request: SeenRequest, reply: WorldReply) -> None:
        await reply.html(b"<html><title>here</title></html>")

    short.route("*", hop)
    dest.route("*", land)
    links = "".join(f'<p><a href="{short.url(f"/x{i}")}">link {i}</a></p>' for i in range(12))
    body = f"<html><head><title>Links</title></head><body>{links}</body></html>".encode()
    warc = tmp_path / "a.warc.gz"
    write_warc(warc, [Rec(uri="https://news.example/links", body=body)])

    def config(name: str) -> Config:
        base = config_for(tmp_path / name)
        resolver = World.config(shorteners=["t.co"], per_host=2)
        return dataclasses.replace(base, resolver=resolver)

    one = await asyncio.to_thread(
        run_batch, config("one.db"), [str(warc)], RunOptions(progress=False), dns=world.dns
    )
    spread = await asyncio.to_thread(
        run_batch,
        config("many.db"),
        [str(warc)],
        on_cluster(cluster.scheduler_address),
        dns=world.dns,
    )
    assert (one.urls_resolved, spread.urls_resolved) == (12, 12)

    def urls(name: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(tmp_path / name)
        rows = conn.execute(
            "SELECT url, status, expanded_url, final_url, final_status_code, hops FROM urls "
            "ORDER BY url"
        ).fetchall()
        conn.close()
        return rows

    assert urls("many.db") == urls("one.db")
    assert short.max_active <= 2
