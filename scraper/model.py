"""The records that flow between the stages: parse produces them, store saves them.

An :class:`Article` holds the :class:`Post` objects it cites and every :class:`Link`
it contains. :class:`Resolution` and :class:`Hop` are what the resolver hands back
for one URL. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar

LinkContext = Literal["article", "post"]
EntityKind = Literal["mention", "hashtag", "cashtag"]
ResolutionStatus = Literal["pending", "resolved", "failed", "blocked"]
HopVia = Literal["header", "meta-refresh", "js", "refresh-header", "wrapper", "none"]
_Record = TypeVar("_Record")


def pickled_by_fields(cls: type[_Record]) -> type[_Record]:
    """Pickle a slotted dataclass as its class and its field values in order.

    What workers of a cluster send back (articles, their posts and links) crosses a
    process boundary for every page; the pickling dataclasses give slotted classes asks
    :func:`dataclasses.fields` for every object, and took half of that time (measured
    on a unit of 250 pages: 0.34 to 0.18 ms per page to dump, 0.32 to 0.15 to load).
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    values = operator.attrgetter(*names)
    one = len(names) == 1  # attrgetter of one name gives the value, not a tuple

    def __reduce__(self: _Record) -> tuple[type[_Record], tuple[Any, ...]]:
        return cls, (values(self),) if one else values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Entity:
    """A mention, hashtag or cashtag found in a post's text (offsets are str indices)."""

    kind: EntityKind
    value: str
    start: int
    end: int


@pickled_by_fields
@dataclass(slots=True)
class Post:
    """One embedded or quoted social post.

    ``kind`` says how it was found: ``blockquote``, ``blockquote-video``, ``blockquote-other``,
    ``rendered`` (JavaScript-rendered, id only), ``amp``, ``embed-id``, ``wp-embed``,
    ``escaped`` (inside a script/JSON string, or kept base64-encoded by a consent tool),
    ``text-signature`` (plain-text quote), ``wrapped``, ``consent``, ``screenshot`` (a tweet
    in a publisher's own markup, a consent placeholder of any platform, an image of the
    post), ``iframe``, ``lite``, ``placeholder``, ``xfbml`` (other platforms' embed forms),
    ``oembed`` (an editor's or embed service's placeholder holding only the post's URL:
    CKEditor's ``<oembed url>``, Embedly's AMP card, Iframely's div) and ``link`` (a link in
    the article text to a post, not an embed).
    """

    platform: str
    kind: str
    post_id: str | None = None
    handle: str | None = None
    display_name: str | None = None
    date: str | None = None
    date_text: str | None = None
    posted_at: str | None = None
    date_mismatch: bool = False
    text: str | None = None
    lang: str | None = None
    url: str | None = None
    links: list[str] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The stable primary key: ``platform:post_id``, else a hash of handle and text."""
        if self.post_id:
            return f"{self.platform}:{self.post_id}"
        basis = "\x1f".join(
            [self.platform, (self.handle or "").lower(), " ".join((self.text or "").split())]
        )
        digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]
        return f"{self.platform}:h-{digest}"

    def to_json(self) -> dict[str, Any]:
        """The ``scraper parse`` shape of this post."""
        data = asdict(self)
        data["entities"] = [{"kind": e.kind, "value": e.value} for e in self.entities]
        return data


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Link:
    """An ``<a href>`` (or a URL in text), made absolute.

    ``context`` is ``post`` when the link sits inside a cited post; ``post_index`` then
    points into :attr:`Article.posts`.
    """

    url: str
    text: str
    context: LinkContext
    post_index: int | None
    position: int


@pickled_by_fields
@dataclass(slots=True)
class Article:
    """Everything parse found in one document."""

    source: str
    url: str | None = None
    title: str | None = None
    published: str | None = None
    encoding: str | None = None
    posts: list[Post] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    #: What the parser could not read as written (a page nested too deep), for the record.
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``scraper parse`` JSON object (DESIGN.md's contract)."""
        return {
            "source": self.source,
            "url": self.url,
            "title": self.title,
            "published": self.published,
            "encoding": self.encoding,
            "posts": [p.to_json() for p in self.posts],
            "links": [
                {
                    "url": link.url,
                    "text": link.text,
                    "context": link.context,
                    "post_index": link.post_index,
                }
                for link in self.links
            ],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a redirect chain: the URL requested and what it answered."""

    url: str
    status_code: int | None
    location: str | None
    via: HopVia


@dataclass(slots=True)
class Resolution:
    """The outcome of resolving one URL.

    ``status`` is ``resolved``, ``failed`` (``error`` is ``"category: detail"``),
    ``blocked`` (the address guard refused a hop) or ``pending`` (deferred to a later
    run, ``next_attempt_at`` says when). ``hops`` is the chain up to the last hop reached.
    """

    url: str
    status: ResolutionStatus
    expanded_url: str | None = None
    final_url: str | None = None
    final_status_code: int | None = None
    error: str | None = None
    hops: list[Hop] = field(default_factory=list)
    next_attempt_at: str | None = None
    resolved_at: str | None = None

    @property
    def error_category(self) -> str | None:
        """The part of ``error`` before the colon (``timeout``, ``dns``, ...)."""
        if not self.error:
            return None
        return self.error.split(":", 1)[0]

    def to_json(self) -> dict[str, Any]:
        """The ``scraper resolve URL`` JSON object (DESIGN.md's contract)."""
        return {
            "url": self.url,
            "status": self.status,
            "expanded_url": self.expanded_url,
            "final_url": self.final_url,
            "final_status_code": self.final_status_code,
            "error": self.error,
            "hops": [asdict(h) for h in self.hops],
            "next_attempt_at": self.next_attempt_at,
        }


PostState = Literal["available", "gone", "restricted", "unknown"]

#: The failures that make a link dead for link-rot counts (the page or its host is gone or
#: broken); ``blocked``, ``invalid_url`` and ``internal`` say nothing about the page.
DEAD_CATEGORIES = (
    "http_4xx",
    "http_5xx",
    "dns",
    "connect",
    "tls",
    "timeout",
    "too_many_redirects",
    "loop",
)


@dataclass(frozen=True, slots=True)
class PostRef:
    """A stored post, as much of it as a liveness check needs (``id`` is ``posts.id``)."""

    id: str
    platform: str
    post_id: str | None
    handle: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class PostCheck:
    """Whether a cited post is still there: one ``post_checks`` row.

    ``state`` is ``available``, ``gone`` (deleted, or its account suspended or removed),
    ``restricted`` (protected, age- or region-gated) or ``unknown`` (rate limited, an
    error, or no keyless way to ask): a rate limit or an error is never ``gone``.
    """

    post: str
    state: PostState
    http_status: int | None
    detail: str
    checked_at: str


@dataclass(frozen=True, slots=True)
class ArchiveTarget:
    """A dead link (``kind`` ``url``, ``key`` its id) or gone post to find a copy of."""

    kind: Literal["url", "post"]
    key: str
    url: str
    near: str | None  # ISO date the copy should be nearest to (the citing article's)


@dataclass(frozen=True, slots=True)
class ArchiveLookup:
    """What the archive said about one target: its nearest copy, or none (both None)."""

    target: ArchiveTarget
    archived_url: str | None
    archived_at: str | None
    checked_at: str
