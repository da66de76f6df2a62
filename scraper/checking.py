"""The check stage: links and cited posts that are due, checked again, with archived copies.

Used by ``scraper check`` and at the end of ``scraper run`` (``[liveness] enabled``).
In order: links due after ``[resolver] ttl_days`` are resolved again (every link, not
only shorteners; each answer appends a ``url_checks`` row); posts due after
``[liveness] recheck_days`` are asked about on their platform (``post_checks``); dead
links and gone posts get the archived copy nearest the citing article's date. Each
answer is stored as it arrives, in its own transaction, so a crash loses only what was in
flight and the next check picks up the rest.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import sqlite_utils

from scraper.config import Config
from scraper.liveness.checker import LivenessChecker
from scraper.liveness.posts import CHECKED_PLATFORMS
from scraper.model import Resolution
from scraper.net.client import make_client
from scraper.net.guard import DnsResolver, IPNetwork
from scraper.net.limits import Sleep
from scraper.resolve.batch import resolve_urls
from scraper.shorteners import shortener_hosts
from scraper.store.checks import (
    is_dead,
    save_archive_lookup,
    save_post_check,
    select_archive_targets,
    select_posts_to_check,
    select_urls_to_check,
)
from scraper.store.urls import save_resolution
from scraper.timestamps import utc_now


@dataclass
class CheckSummary:
    """What one check found (printed by ``scraper check`` and logged by ``scraper run``)."""

    links_checked: int = 0
    links_alive: int = 0
    links_dead: int = 0
    links_died: int = 0  # worked at the check before, dead now
    posts_checked: int = 0
    posts_available: int = 0
    posts_gone: int = 0
    posts_restricted: int = 0
    posts_unknown: int = 0
    posts_gone_since: int = 0  # available at the check before, gone now
    archives_looked_up: int = 0
    archives_found: int = 0

    def line(self) -> str:
        """One line for people."""
        return (
            f"links checked {self.links_checked}: {self.links_alive} alive, "
            f"{self.links_dead} dead ({self.links_died} died since the last check); "
            f"posts checked {self.posts_checked}: {self.posts_available} available, "
            f"{self.posts_gone} gone ({self.posts_gone_since} since the last check), "
            f"{self.posts_restricted} restricted, {self.posts_unknown} unknown; "
            f"archived copies found {self.archives_found} of {self.archives_looked_up} looked up"
        )


@dataclass(frozen=True)
class CheckOptions:
    """What to check: everything now (``check_all``), or only what is due."""

    check_all: bool = False
    links: bool = True


async def check_due(
    db: sqlite_utils.Database,
    config: Config,
    options: CheckOptions | None = None,
    *,
    dns: DnsResolver | None = None,
    sleep: Sleep = asyncio.sleep,
    now: Callable[[], datetime] = utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    allowed_networks: tuple[IPNetwork | str, ...] = (),
) -> CheckSummary:
    """Check the links and posts of ``db`` that are due, storing every answer.

    ``dns``, ``sleep``, ``now``, ``transport`` and ``allowed_networks`` are for tests
    (loopback endpoints, no real waits).
    """
    options = options or CheckOptions()
    summary = CheckSummary()
    if options.links:
        await _check_links(db, config, options, summary, dns=dns, sleep=sleep, now=now)
    liveness = config.liveness
    if not (liveness.posts or liveness.archives):
        return summary
    client = make_client(
        user_agent=liveness.user_agent,
        timeout=liveness.timeout,
        concurrency=liveness.concurrency,
        allow_private=liveness.allow_private,
        dns=dns,
        transport=transport,
        allowed_networks=allowed_networks,
    )
    async with client:
        checker = LivenessChecker(liveness, client, sleep=sleep, now=now)
        if liveness.posts:
            await _check_posts(db, config, options, checker, summary, now())
        if liveness.archives:
            targets = select_archive_targets(db)
            summary.archives_looked_up = len(targets)
            async for lookup in checker.find_archives(targets):
                save_archive_lookup(db, lookup)
                summary.archives_found += lookup.archived_url is not None
    return summary


async def _check_links(
    db: sqlite_utils.Database,
    config: Config,
    options: CheckOptions,
    summary: CheckSummary,
    *,
    dns: DnsResolver | None,
    sleep: Sleep,
    now: Callable[[], datetime],
) -> None:
    urls = select_urls_to_check(
        db, now=now(), ttl_days=config.resolver.ttl_days, check_all=options.check_all
    )
    if not urls:
        return
    shorteners = shortener_hosts(config.resolver.shorteners)
    # link rot is about every link, so every URL is followed to its end
    resolver_config = dataclasses.replace(config.resolver, resolve="all")

    def save(resolution: Resolution) -> None:
        previous = save_resolution(db, resolution, now=now(), shorteners=shorteners)
        if resolution.status == "pending":  # deferred (rate limited): no answer yet
            return
        summary.links_checked += 1
        if resolution.status == "resolved":
            summary.links_alive += 1
        elif is_dead(resolution.status, resolution.error_category):
            summary.links_dead += 1
            summary.links_died += previous == "resolved"

    await resolve_urls(urls, resolver_config, on_result=save, dns=dns, sleep=sleep, now=now)


async def _check_posts(
    db: sqlite_utils.Database,
    config: Config,
    options: CheckOptions,
    checker: LivenessChecker,
    summary: CheckSummary,
    moment: datetime,
) -> None:
    posts = select_posts_to_check(
        db,
        now=moment,
        recheck_days=config.liveness.recheck_days,
        platforms=CHECKED_PLATFORMS,
        check_all=options.check_all,
    )
    async for check in checker.check_posts(posts):
        previous = save_post_check(db, check)
        summary.posts_checked += 1
        if check.state == "available":
            summary.posts_available += 1
        elif check.state == "gone":
            summary.posts_gone += 1
            summary.posts_gone_since += previous == "available"
        elif check.state == "restricted":
            summary.posts_restricted += 1
        else:
            summary.posts_unknown += 1
