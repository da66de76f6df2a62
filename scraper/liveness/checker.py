"""Checking cited posts and looking up archived copies, over the network floor.

:class:`LivenessChecker` makes every request through the one redirect follower
(:class:`scraper.net.follow.Follower`): the address guard at every hop, ``per_host``
requests per host, the whole-request deadline, the one retry policy with ``Retry-After``
honoured up to ``retry_after_max``. It returns results and never writes the database:
``run`` hands them to :mod:`scraper.store.checks`.

An endpoint that cannot be reached, rate-limits us past the retries or answers nonsense
gives ``unknown`` (posts) or no lookup (archives, tried again at the next check): a
failure of ours or theirs is never taken for a deleted post.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from itertools import islice
from typing import TypeVar

import httpx

from scraper.config import LivenessConfig
from scraper.liveness.archives import ArchiveAnswerError, availability_url, read_availability
from scraper.liveness.posts import CHECKERS, Verdict
from scraper.model import ArchiveLookup, ArchiveTarget, PostCheck, PostRef
from scraper.net.body import read_capped
from scraper.net.chain import error_category
from scraper.net.follow import Follower, FollowOptions
from scraper.net.limits import Sleep
from scraper.net.retry import RetryableStatus, RetryDeferred
from scraper.timestamps import iso_utc, utc_now

logger = logging.getLogger("scraper.liveness")

#: An endpoint's JSON answer is small; anything longer is cut (and then fails to parse).
MAX_ANSWER_BYTES = 256 * 1024
MAX_API_REDIRECTS = 3

T = TypeVar("T")
R = TypeVar("R")


class EndpointFailed(Exception):
    """A request got no usable answer; ``http_status`` is the last status seen, if any."""

    def __init__(self, detail: str, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.http_status = http_status


class LivenessChecker:
    """Asks platforms about posts and the archive about copies, with one client."""

    def __init__(
        self,
        config: LivenessConfig,
        client: httpx.AsyncClient,
        *,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.now = now
        self.follower = Follower(
            client,
            concurrency=config.concurrency,
            per_host=config.per_host,
            retries=config.retries,
            retry_after_max=config.retry_after_max,
            sleep=sleep,
            now=now,
        )
        self.options = FollowOptions(
            timeout=config.timeout,
            max_redirects=MAX_API_REDIRECTS,
            allow_private=config.allow_private,
        )

    async def ask(self, url: str) -> tuple[int, bytes]:
        """GET ``url``: its final status and (capped) body, or :class:`EndpointFailed`."""
        followed = await self.follower.follow(url, self.options, read_final=_read_body)
        error = followed.error
        if error is None and followed.answer is not None and followed.value is not None:
            return followed.answer.status_code, followed.value
        if isinstance(error, RetryableStatus | RetryDeferred):
            raise EndpointFailed(f"rate limited or unavailable: {error}", error.status_code)
        detail = f"{error_category(error)}: {error}" if error else "no answer"
        raise EndpointFailed(detail, followed.arrived)

    async def check_post(self, post: PostRef) -> PostCheck:
        """Whether ``post`` is still there, as its platform's endpoint answers now."""
        checker = CHECKERS.get(post.platform)
        if checker is None:
            verdict = Verdict("unknown", None, f"no keyless endpoint for {post.platform}")
        else:
            try:
                verdict = await checker(post, self.config, self.ask)
            except EndpointFailed as exc:
                verdict = Verdict("unknown", exc.http_status, str(exc))
        return PostCheck(
            post.id, verdict.state, verdict.http_status, verdict.detail, iso_utc(self.now())
        )

    async def find_archive(self, target: ArchiveTarget) -> ArchiveLookup | None:
        """The nearest archived copy of ``target`` (a lookup with None when there is none).

        None when the archive could not be asked or answered nonsense: the target is
        looked up again at the next check.
        """
        request = availability_url(self.config.wayback, target.url, target.near)
        try:
            status, body = await self.ask(request)
            if status != 200:
                raise EndpointFailed(f"the archive answered {status}", status)
            found = read_availability(body)
        except (EndpointFailed, ArchiveAnswerError) as exc:
            logger.warning("archive lookup for %s failed: %s", target.url, exc)
            return None
        archived_url, archived_at = found if found is not None else (None, None)
        return ArchiveLookup(target, archived_url, archived_at, iso_utc(self.now()))

    def check_posts(self, posts: Iterable[PostRef]) -> AsyncIterator[PostCheck]:
        """:meth:`check_post` over ``posts``, a bounded number at once, as they finish."""
        return _bounded(self.check_post, posts, 4 * self.config.concurrency)

    async def find_archives(self, targets: Iterable[ArchiveTarget]) -> AsyncIterator[ArchiveLookup]:
        """:meth:`find_archive` over ``targets``; only the lookups that got an answer."""
        async for lookup in _bounded(self.find_archive, targets, 4 * self.config.concurrency):
            if lookup is not None:
                yield lookup


async def _read_body(url: httpx.URL, response: httpx.Response) -> bytes:
    body, _ = await read_capped(response, MAX_ANSWER_BYTES)
    return body


async def _bounded(
    work: Callable[[T], Awaitable[R]], items: Iterable[T], window: int
) -> AsyncIterator[R]:
    """``work`` over ``items``, at most ``window`` at once, results in completion order."""
    pending: set[asyncio.Task[R]] = set()
    source = iter(items)

    def refill() -> None:
        chunk: Sequence[T] = list(islice(source, window - len(pending)))
        pending.update(asyncio.ensure_future(work(item)) for item in chunk)

    refill()
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending.difference_update(done)
            for task in done:
                yield task.result()
            refill()
    finally:
        for task in pending:
            task.cancel()
