"""Reddit posts and comments: ``blockquote.reddit-embed-bq``, the older
``blockquote.reddit-card`` and ``div.reddit-embed``, ``amp-reddit``, embed iframes, links.

The embed code is ``<blockquote class="reddit-embed-bq"><a href="https://www.reddit.com/r/
SUB/comments/ID/slug/">Title</a><br> by <a href="https://www.reddit.com/user/NAME/">
u/NAME</a> in <a href="https://www.reddit.com/r/SUB/">SUB</a></blockquote>``; the older
card is ``<a href=POST>Title</a> from <a href=".../r/SUB">r/SUB</a>``. The title becomes
the text, the author the handle, and the subreddit is kept in the canonical URL.

Ids are Reddit's "fullnames": ``t3_ID`` for a post, ``t1_ID`` for a comment (key
``reddit:t3_1d4x0qa``), at ``https://www.reddit.com/r/SUB/comments/ID/`` (without
``/r/SUB`` when the subreddit is unknown) and ``.../comments/ID/_/COMMENT/``. Base-36 ids
are sequential and carry no time. Share links (``/r/SUB/s/CODE``) need resolving first.
"""

from __future__ import annotations

import re
from typing import ClassVar

from scraper.model import Post
from scraper.parse.html import Element, PageContext
from scraper.parse.platforms.common import (
    EmbedDetector,
    PlatformUrls,
    TagGuards,
    UrlParts,
    attr,
    classes,
    make_post,
    split_url,
)
from scraper.parse.tree import text_content
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "RedditDetector", "parse_url", "post_url"]

PLATFORM = "reddit"
_ID_RE = re.compile(r"[a-z0-9]{1,13}")
_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,40}")
_EMBED_CLASSES = ("reddit-embed-bq", "reddit-card", "reddit-embed")


def _url(sub: str | None, post: str, comment: str | None) -> str:
    base = f"https://www.reddit.com/r/{sub}" if sub else "https://www.reddit.com"
    tail = f"_/{comment}/" if comment else ""
    return f"{base}/comments/{post}/{tail}"


def post_url(post_id: str) -> str | None:
    """``https://www.reddit.com/comments/ID/`` for a post (``t3_ID``); comments need their post."""
    kind, _, bare = post_id.partition("_")
    return _url(None, bare, None) if kind == "t3" and _ID_RE.fullmatch(bare) else None


def _ref(sub: str | None, post: str, comment: str | None, author: str | None) -> StatusRef | None:
    if not _ID_RE.fullmatch(post) or (comment is not None and not _ID_RE.fullmatch(comment)):
        return None
    if sub is not None and not _NAME_RE.fullmatch(sub):
        sub = None
    post_id = f"t1_{comment}" if comment else f"t3_{post}"
    return StatusRef(PLATFORM, author, post_id, _url(sub, post, comment))


def _comments(rest: list[str], sub: str | None, author: str | None) -> StatusRef | None:
    """``ID[/slug[/COMMENT]]`` or ``ID/comment/COMMENT`` after ``/comments/``."""
    if not rest:
        return None
    comment = None
    if (len(rest) >= 3 and rest[1] == "comment") or (len(rest) >= 3 and _ID_RE.fullmatch(rest[2])):
        comment = rest[2]
    return _ref(sub, rest[0], comment, author)


def parse_url(parts: UrlParts) -> StatusRef | None:
    """``/r/SUB/comments/ID/...``, ``/comments/ID``, ``/user/NAME/comments/ID``, ``redd.it/ID``."""
    segments = parts.segments()
    if parts.host == "redd.it":
        return _ref(None, segments[0], None, None) if len(segments) == 1 else None
    if len(segments) >= 2 and segments[0] == "comments":
        return _comments(segments[1:], None, None)
    if len(segments) >= 4 and segments[2] == "comments":
        if segments[0] == "r":
            return _comments(segments[3:], segments[1], None)
        if segments[0] in ("user", "u") and _NAME_RE.fullmatch(segments[1]):
            return _comments(segments[3:], None, segments[1])
    return None


URLS = PlatformUrls(
    PLATFORM,
    frozenset({"reddit.com", "redd.it", "redditmedia.com", "embed.reddit.com"}),
    parse_url,
    post_url,
)


def _parts(href: str | None) -> UrlParts | None:
    if not href or "redd" not in href:
        return None
    parts = split_url(href)
    return parts if parts is not None and parts.host.endswith(("reddit.com", "redd.it")) else None


def _parse_embed(element: Element, page: PageContext) -> Post | None:
    """Post (or comment), title, author and subreddit of a Reddit embed."""
    ref = None
    title = None
    author = None
    sub = None
    for anchor in element.iter("a"):
        parts = _parts(anchor.get("href"))
        if parts is None:
            continue
        found = parse_url(parts)
        segments = parts.segments()
        if found is not None and ref is None:
            ref = found
            # A post's link shows its title; a comment's shows only "Comment".
            if found.post_id.startswith("t3_"):
                title = " ".join(text_content(anchor).split())
        elif found is None and len(segments) == 2 and segments[0] in ("user", "u"):
            author = author or segments[1]
        elif found is None and len(segments) == 2 and segments[0] == "r":
            sub = sub or segments[1]
    if ref is None:
        return None
    url = ref.url
    if sub and "/r/" not in url and _NAME_RE.fullmatch(sub):
        url = url.replace("https://www.reddit.com/", f"https://www.reddit.com/r/{sub}/", 1)
    return make_post(
        PLATFORM,
        "blockquote",
        post_id=ref.post_id,
        url=url,
        handle=ref.handle or author,
        text=title,
    )


class RedditDetector(EmbedDetector):
    """Reddit embeds: the blockquote codes, ``div.reddit-embed`` and ``amp-reddit``."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {
        "blockquote": ("reddit-embed-bq", "reddit-card"),
        "div": ("reddit-embed",),
        "amp-reddit": (),
    }
    markers = ("reddit-embed", "reddit-card", "amp-reddit")

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The Reddit post or comment ``element`` embeds, or ``None``."""
        if element.tag == "amp-reddit":
            parts = _parts(attr(element, "data-src"))
            ref = parse_url(parts) if parts is not None else None
            if ref is None:
                return None
            return make_post(PLATFORM, "amp", post_id=ref.post_id, url=ref.url)
        names = classes(element)
        if "reddit" not in names or not any(c in names.split() for c in _EMBED_CLASSES):
            return None
        return _parse_embed(element, page)
