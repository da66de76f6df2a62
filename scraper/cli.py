"""The ``scraper`` command line: a thin layer over :mod:`scraper.run` and friends.

Exit codes: 0 the job completed (per-item failures are data), 1 a fatal error,
2 bad usage or config, 75 another run holds the lock.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import click

from scraper import __version__
from scraper.config import Config, load_config
from scraper.errors import ConfigError, LockHeldError, ScraperError, SourceError

if TYPE_CHECKING:
    import sqlite_utils

EXIT_FATAL = 1
EXIT_USAGE = 2
EXIT_LOCKED = 75

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def config_options(func: F) -> F:
    """The ``--config`` and ``--db`` options shared by the commands that use the database."""
    func = click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        help="SQLite database file (overrides [database] path).",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="SCRAPER_CONFIG",
        help="Config file (default: ./config.toml, or $SCRAPER_CONFIG).",
    )(func)
    return func


def get_config(config_path: str | None, db_path: str | None) -> Config:
    """Load the config and apply ``--db``; a bad config exits 2 naming the key."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        fail(f"config: {exc}", EXIT_USAGE)
    return config.with_overrides("database", path=db_path)


@contextmanager
def locked_database(path: str) -> Iterator[sqlite_utils.Database]:
    """The database at ``path``, under its run lock and checked writable, for one command.

    Every command that writes the database goes through here: another process holding
    the lock exits 75, a database that cannot be opened or written exits 1, each with one
    line, before the command does any work.
    """
    from scraper import store
    from scraper.lock import RunLock

    lock = RunLock(path)
    try:
        lock.acquire()
    except LockHeldError as exc:
        fail(str(exc), EXIT_LOCKED)
    except ScraperError as exc:
        fail(str(exc), EXIT_FATAL)
    try:
        try:
            db = store.open_database(path, writable=True)
        except ScraperError as exc:
            fail(str(exc), EXIT_FATAL)
        try:
            yield db
        finally:
            db.close()
    finally:
        lock.release()


def setup_logging(level: str) -> None:
    """Log to stderr at ``level``."""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scraper")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default=None,
    help="Log level (overrides -v).",
)
def cli(verbose: int, log_level: str | None) -> None:
    """Find the social posts that articles cite, and where their links really go.

    \b
    Quick start:
        scraper run                     # the sample articles -> data/citations.db
        datasette data/citations.db     # browse it
    """
    level = log_level or {0: "warning", 1: "info"}.get(verbose, "debug")
    setup_logging(level)


@cli.command()
@click.argument("sources", nargs=-1)
@config_options
@click.option("--no-resolve", is_flag=True, help="Store only; do not expand short links.")
@click.option("--no-progress", is_flag=True, help="No progress bars, plain log lines only.")
@click.option("--retry-failed", is_flag=True, help="Retry failed URLs now, whatever their delay.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Run on a local Dask cluster of N worker processes (needs the dask extra).",
)
@click.option("--scheduler", metavar="ADDRESS", help="Run on the Dask scheduler at ADDRESS.")
@click.option(
    "--scheduler-file",
    type=click.Path(dir_okay=False),
    help="Run on the Dask scheduler named in this file (dask-jobqueue, SLURM).",
)
def run(
    sources: tuple[str, ...],
    config_path: str | None,
    db_path: str | None,
    no_resolve: bool,
    no_progress: bool,
    retry_failed: bool,
    workers: int | None,
    scheduler: str | None,
    scheduler_file: str | None,
) -> None:
    """Read SOURCES (files, directories, globs, WARCs, URLs, -), store citations, resolve links.

    Without SOURCES, reads the [sources] of the config. Examples:

    \b
        scraper run data/articles --db data/citations.db
        scraper run crawls/*.warc.gz --workers 2
    """
    from scraper.engine import EngineSpec
    from scraper.run import RunOptions, run_batch

    config = get_config(config_path, db_path)
    chosen = [flag for flag in (workers, scheduler, scheduler_file) if flag is not None]
    if len(chosen) > 1:
        fail("use one of --workers, --scheduler and --scheduler-file", EXIT_USAGE)
    engine = EngineSpec(workers, scheduler, scheduler_file) if chosen else None
    options = RunOptions(
        resolve=not no_resolve,
        progress=not no_progress,
        retry_failed=retry_failed,
        engine=engine,
    )
    try:
        counts = run_batch(config, list(sources), options)
    except LockHeldError as exc:
        fail(str(exc), EXIT_LOCKED)
    except (SourceError, ConfigError) as exc:
        fail(str(exc), EXIT_USAGE)
    except ScraperError as exc:
        fail(str(exc), EXIT_FATAL)
    if no_resolve or not config.resolver.enabled:
        click.echo("note: link resolution skipped (--no-resolve or enabled = false)", err=True)
    click.echo(f"scraper run: {counts.summary()} -> {config.database.path}", err=True)


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--base-url", help="Base URL for relative links (when the page names none).")
def parse(sources: tuple[str, ...], base_url: str | None) -> None:
    """Parse SOURCES and print one JSON object per article (JSON Lines); no database.

    \b
        scraper parse data/articles/raids.txt | jq '.posts[].handle'
    """
    from scraper.config import SourcesConfig
    from scraper.parse import parse_document
    from scraper.sniff import unreadable_reason
    from scraper.sources import collect_sources

    try:
        found = collect_sources(list(sources), SourcesConfig(paths=[]))
    except SourceError as exc:
        fail(str(exc), EXIT_USAGE)
    if found.urls:
        fail("parse reads files and stdin only; use `scraper run URL` to fetch", EXIT_USAGE)
    documents: list[tuple[str, bytes]] = []
    if found.stdin:
        documents.append(("-", sys.stdin.buffer.read()))
    for path in found.files:
        try:
            documents.append((str(path), path.read_bytes()))
        except OSError as exc:
            fail(f"cannot read {path}: {exc}", EXIT_USAGE)
    for source, data in documents:
        reason = unreadable_reason(data)
        if reason is not None:  # no empty article for a file that holds none
            click.echo(f"skipped {source}: {reason}", err=True)
            continue
        article = parse_document(data, source=source, base_url=base_url)
        click.echo(json.dumps(article.to_json(), ensure_ascii=False))


@cli.command()
@click.argument("urls", nargs=-1)
@config_options
@click.option("--retry-failed", is_flag=True, help="Retry failed URLs now, whatever their delay.")
def resolve(
    urls: tuple[str, ...], config_path: str | None, db_path: str | None, retry_failed: bool
) -> None:
    """Expand URLS hop by hop and print one JSON object each; without URLS, the database's.

    \b
        scraper resolve https://t.co/B8x1pckIkH
        scraper resolve --db data/citations.db      # pending and due URLs
    """
    import asyncio

    from scraper.resolve.batch import resolve_urls
    from scraper.run import resolve_into_db
    from scraper.store import refresh_summaries

    config = get_config(config_path, db_path)

    def emit(resolution: Any) -> None:
        click.echo(json.dumps(resolution.to_json(), ensure_ascii=False))

    if urls:
        asyncio.run(resolve_urls(list(urls), config.resolver, on_result=emit))
        return
    with locked_database(config.database.path) as db:
        results = resolve_into_db(db, config, retry_failed=retry_failed, on_result=emit)
        refresh_summaries(db)
    click.echo(f"scraper resolve: {len(results)} URLs", err=True)


@cli.command()
@config_options
@click.option("--all", "check_all", is_flag=True, help="Check every link and post now.")
def check(config_path: str | None, db_path: str | None, check_all: bool) -> None:
    """Check again the links and cited posts that are due; find archived copies of the dead.

    Links are due after [resolver] ttl_days, posts after [liveness] recheck_days. Every
    answer is kept (url_checks, post_checks); a rate limit or an error is never "gone".

    \b
        scraper check --db data/citations.db
        scraper check --all        # everything now
    """
    import asyncio

    from scraper.checking import CheckOptions, check_due
    from scraper.store import refresh_summaries

    config = get_config(config_path, db_path)
    if not Path(config.database.path).exists():
        fail(f"no database at {config.database.path}; run `scraper run` first", EXIT_USAGE)
    with locked_database(config.database.path) as db:
        summary = asyncio.run(check_due(db, config, CheckOptions(check_all=check_all)))
        refresh_summaries(db)
    click.echo(f"scraper check: {summary.line()}", err=True)


@cli.command()
@config_options
def stats(config_path: str | None, db_path: str | None) -> None:
    """Print counts: articles, posts, accounts, links, URLs by status, last runs."""
    from scraper import store

    config = get_config(config_path, db_path)
    if not Path(config.database.path).exists():
        fail(f"no database at {config.database.path}; run `scraper run` first", EXIT_USAGE)
    try:
        db = store.open_database(config.database.path, writable=False)
    except ScraperError as exc:
        fail(str(exc), EXIT_FATAL)
    click.echo(json.dumps(store.collect_stats(db), indent=2, ensure_ascii=False))


@cli.command()
@config_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port to listen on.")
def serve(config_path: str | None, db_path: str | None, host: str, port: int) -> None:
    """Open the database in Datasette with the project's metadata (needs the datasette extra).

    \b
        pip install 'scraper[datasette]'
        scraper serve --db data/citations.db
    """
    config = get_config(config_path, db_path)
    if not Path(config.database.path).exists():
        fail(f"no database at {config.database.path}; run `scraper run` first", EXIT_USAGE)
    try:
        from scraper.serve import serve_database
    except ImportError as exc:  # datasette is an optional extra
        fail(f"{exc}; install it with: pip install 'scraper[datasette]'", EXIT_USAGE)
    try:
        serve_database(config.database.path, host=host, port=port)
    except OSError as exc:  # e.g. the port is in use
        fail(f"cannot serve on {host}:{port}: {exc}", EXIT_FATAL)
    except (ValueError, ScraperError) as exc:
        fail(str(exc), EXIT_USAGE)


@cli.command()
@click.argument("table", default="cited_posts")
@config_options
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
def export(
    table: str, config_path: str | None, db_path: str | None, fmt: str, output: str | None
) -> None:
    """Write TABLE (a table or view, default cited_posts) as CSV or JSON Lines.

    CSV cells that begin with =, +, -, @, a tab or a carriage return get a leading ' so a
    spreadsheet shows them as text instead of running them as a formula (a post's text is
    written by anyone); JSON Lines keeps every value exact. With -o, the file is replaced
    only once the export is complete, and never when it names the database.

    \b
        scraper export cited_posts --format csv -o cited_posts.csv
    """
    from scraper.export import ExportFormat, OutputError, export_table, export_to_file

    config = get_config(config_path, db_path)
    if not Path(config.database.path).exists():
        fail(f"no database at {config.database.path}; run `scraper run` first", EXIT_USAGE)
    export_format = cast(ExportFormat, fmt)  # click.Choice guarantees csv or jsonl
    try:
        if output:
            count = export_to_file(config.database.path, table, export_format, output)
        else:
            count = export_table(config.database.path, table, export_format, sys.stdout)
    except (ValueError, OutputError) as exc:
        fail(str(exc), EXIT_USAGE)
    except ScraperError as exc:
        fail(str(exc), EXIT_FATAL)
    click.echo(f"scraper export: {count} rows of {table}", err=True)


def main() -> None:
    """Console-script entry point."""
    cli()
