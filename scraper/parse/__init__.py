"""Pure parsers: article text or HTML in, :class:`scraper.model.Article` out.

:func:`parse_document` is the one entry point: no network, no database, no state kept
between calls, and no exception for bad input (malformed markup, wrong encodings,
binary junk): it returns what it can read. For HTML it walks the page once
(:func:`scraper.parse.html.walk_html`) and assembles the article here: every sighting of
a post id becomes one post (the richest record, in order of first appearance), a quote
that repeats an embed joins it, and links are made absolute against ``<base href>``,
else the canonical URL, else ``base_url``, and numbered in document order.

A link in the article's own text to a post on any platform (``parse_post_url``) cites
that post: it becomes a post of kind ``link`` (one citation, like an embed) while the
link itself stays an ``article`` link. A post both embedded and linked is one post, of
the embed's kind, at its first appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import PurePath

from scraper.model import Article, Link, Post
from scraper.parse.dates import is_date_mismatch
from scraper.parse.encoding import charset_from_content_type, decode_html, utf8_markup
from scraper.parse.html import PageFindings, PostDetector, RawLink, Sighting, walk_html
from scraper.parse.platforms import LINK_KIND, PlatformDetectors
from scraper.parse.post_urls import link_post, parse_post_url, post_alias
from scraper.parse.text import parse_text_article
from scraper.parse.twitter import TwitterDetector
from scraper.parse.urls import absolutize_url

__all__ = ["DETECTORS", "parse_document", "parse_html"]

#: The platform plug-ins offered every element of an HTML page (stateless, so shared).
#: The other platforms' embeds carry their platform's class, so they go first.
DETECTORS: tuple[PostDetector, ...] = (PlatformDetectors(), TwitterDetector())
_TEXT_TYPES = ("text/plain", "text/markdown", "text/x-markdown")
_TEXT_SUFFIXES = (".txt", ".md", ".markdown", ".text")
#: A quoted post's text and an embed's are the same post when their starts agree.
_DUPLICATE_PREFIX_CHARS = 40
_MERGED_FIELDS = [f.name for f in fields(Post) if f.name not in ("platform", "kind")]


def parse_document(
    data: bytes | str,
    *,
    source: str,
    base_url: str | None = None,
    content_type: str | None = None,
) -> Article:
    """Parse one document (HTML, or plain text / Markdown) into an :class:`Article`.

    ``source`` names the document (a path or URL) and decides plain text by its suffix
    (``.txt``, ``.md``) when no ``content_type`` is given. Bytes are decoded with
    :func:`~scraper.parse.encoding.decode_html` (the ``charset`` of ``content_type``
    first); ``Article.encoding`` records the choice. ``base_url`` makes relative links
    absolute when the page names no ``<base>`` or canonical URL.
    """
    encoding = None
    charset = charset_from_content_type(content_type)
    if _is_plain_text(source, content_type):
        if isinstance(data, bytes):
            text, encoding = decode_html(data, charset)
        else:
            text = data
        article = parse_text_article(text, source=source, base_url=base_url)
        article.encoding = encoding
        _add_linked_posts(article)
        return article
    if isinstance(data, bytes):  # UTF-8 bytes for the parser, never the page as text
        markup, encoding = utf8_markup(data, charset)
        return parse_html(markup, source=source, base_url=base_url, encoding=encoding)
    return parse_html(data, source=source, base_url=base_url, encoding=encoding)


def parse_html(
    text: str | bytes,
    *,
    source: str,
    base_url: str | None = None,
    encoding: str | None = None,
    detectors: Sequence[PostDetector] = DETECTORS,
) -> Article:
    """Parse one HTML page (text, or UTF-8 bytes) into an :class:`Article`."""
    findings = walk_html(text, detectors)
    meta = findings.meta
    canonical = absolutize_url(meta.canonical_url, base_url) if meta.canonical_url else None
    page_url = canonical or base_url
    base = (absolutize_url(meta.base_href, page_url) if meta.base_href else None) or page_url
    findings.sightings.extend(_link_sightings(findings.links))
    posts, links = _assemble(findings, base)
    return Article(
        source=source,
        url=page_url,
        title=meta.title,
        published=meta.published,
        encoding=encoding,
        posts=posts,
        links=links,
        warnings=findings.warnings,
    )


def _is_plain_text(source: str, content_type: str | None) -> bool:
    """Plain text by its Content-Type, else (no type given) by the source's file suffix."""
    if content_type:
        return content_type.split(";", 1)[0].strip().lower() in _TEXT_TYPES
    path = source.split("?", 1)[0].split("#", 1)[0]
    return PurePath(path).suffix.lower() in _TEXT_SUFFIXES


def _is_absolute(href: str) -> bool:
    """An href that names its host (a relative one names the article's own site)."""
    head = href[:8].lstrip().lower()
    return head.startswith(("http://", "https://", "//"))


def _link_sightings(links: list[RawLink]) -> list[Sighting]:
    """A ``link`` post for each link in the article's text to a post on any platform.

    Links in page furniture (sidebar feed widgets, footers, menus) cite nothing.
    """
    found = []
    for raw in links:
        if raw.sighting is None and not (raw.escaped or raw.chrome) and _is_absolute(raw.href):
            ref = parse_post_url(raw.href)
            if ref is not None:
                found.append(Sighting(link_post(ref), raw.order, escaped=False))
    return found


def _add_linked_posts(article: Article) -> None:
    """Plain-text articles: posts linked from the text, after the quoted ones."""
    keys = {post.key for post in article.posts}
    aliases = {alias for post in article.posts if (alias := post_alias(post))}
    for link in article.links:
        ref = parse_post_url(link.url) if link.context == "article" else None
        if ref is None:
            continue
        post = link_post(ref)
        alias = post_alias(post)
        if post.key not in keys and (alias is None or alias not in aliases):
            keys.add(post.key)
            article.posts.append(post)


def _richness(post: Post) -> int:
    shown = (post.text, post.handle, post.display_name, post.date_text, post.lang)
    return sum(1 for value in shown if value)


def _merge(members: list[Sighting]) -> Post:
    """One post from every sighting of the same id: the richest, gaps filled from the rest."""
    # A link citation never stands for a post that the page also embeds.
    ranked = sorted(
        members,
        key=lambda s: (s.post.kind == LINK_KIND, -_richness(s.post), s.escaped, s.order),
    )
    best = ranked[0].post
    for other in ranked[1:]:
        for name in _MERGED_FIELDS:
            if not getattr(best, name) and getattr(other.post, name):
                setattr(best, name, getattr(other.post, name))
    if best.post_id:
        best.date_mismatch = is_date_mismatch(best.date, _moment(best.posted_at))
    return best


def _moment(iso: str | None) -> datetime | None:
    """``posted_at`` (the time the post's id encodes) as a datetime."""
    try:
        return datetime.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def _prefix(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()[:_DUPLICATE_PREFIX_CHARS]


def _duplicates(quoted: Post, embed: Post) -> bool:
    """A plain-text quote of an embedded post: same handle and the same start of text."""
    if not quoted.handle or quoted.handle.casefold() != (embed.handle or "").casefold():
        return False
    a, b = _prefix(quoted.text), _prefix(embed.text)
    size = min(len(a), len(b))
    return size > 0 and a[:size] == b[:size]


@dataclass(slots=True)
class _Group:
    """The sightings that became one post."""

    post: Post
    members: list[Sighting]


def _group_posts(sightings: list[Sighting]) -> list[_Group]:
    """Sightings merged by id (quotes of an embed join it), in order of first appearance.

    A linked post whose key no embed has joins the embed it is an alias of (the same
    Bluesky post by handle and by DID).
    """
    ordered = sorted(sightings, key=lambda s: s.order)
    keys = {s.post.key for s in ordered if s.post.kind != LINK_KIND}
    aliases = {
        alias: s.post.key
        for s in ordered
        if s.post.kind != LINK_KIND and (alias := post_alias(s.post))
    }
    by_key: dict[str, list[Sighting]] = {}
    for sighting in ordered:
        key = sighting.post.key
        if sighting.post.kind == LINK_KIND and key not in keys:
            key = aliases.get(post_alias(sighting.post) or "", key)
        by_key.setdefault(key, []).append(sighting)
    embeds: list[_Group] = []
    quotes: list[list[Sighting]] = []
    for members in by_key.values():
        first = members[0].post
        if first.kind == "text-signature" and not first.post_id:
            quotes.append(members)
        else:
            embeds.append(_Group(_merge(members), members))
    groups = list(embeds)
    for members in quotes:
        twin = next((g for g in embeds if _duplicates(members[0].post, g.post)), None)
        if twin is None:
            groups.append(_Group(_merge(members), members))
        else:  # the quote repeats an embed: no new post, its links go to the embed
            twin.members.extend(members)
    groups.sort(key=lambda g: min(s.order for s in g.members))
    return groups


def _link_owner(raw: RawLink, index: dict[int, int], sources: set[int]) -> int | None:
    """The post index a link belongs to; -1 when the link is an escaped copy to drop."""
    if raw.sighting is None:
        return -1 if raw.escaped else None
    if raw.escaped and id(raw.sighting) not in sources:
        return -1
    return index[id(raw.sighting)]


def _is_self_link(url: str, post: Post) -> bool:
    """True when ``url`` names ``post`` itself (by id, or by handle and id's end)."""
    if not post.post_id:
        return False
    ref = parse_post_url(url)
    if ref is None or ref.platform != post.platform:
        return False
    if ref.post_id == post.post_id:
        return True
    alias = post_alias(post)
    return alias is not None and alias == post_alias(link_post(ref))


def _assemble(findings: PageFindings, base: str | None) -> tuple[list[Post], list[Link]]:
    """Merge sightings into posts (one per id) and number the links in document order."""
    groups = _group_posts(findings.sightings)
    posts = [g.post for g in groups]
    index = {id(s): i for i, g in enumerate(groups) for s in g.members}
    # Escaped copies give links only to posts that have no markup sighting.
    sources = {id(next((s for s in g.members if not s.escaped), g.members[0])) for g in groups}
    per_post: list[list[str]] = [[] for _ in posts]
    links: list[Link] = []
    absolute: dict[str, str | None] = {}  # menus repeat the same hrefs many times
    for raw in sorted(findings.links, key=lambda link: link.order):
        owner = _link_owner(raw, index, sources)
        if owner == -1:
            continue
        if raw.href not in absolute:
            absolute[raw.href] = absolutize_url(raw.href, base)
        url = absolute[raw.href]
        if url is None:
            continue
        if owner is None:
            links.append(Link(url, raw.text, "article", None, len(links)))
            continue
        links.append(Link(url, raw.text, "post", owner, len(links)))
        # The signature's link to the post itself is not one of the post's links.
        is_self = _is_self_link(url, posts[owner])
        if not is_self and url not in per_post[owner]:
            per_post[owner].append(url)
    for post, urls in zip(posts, per_post, strict=True):
        post.links = urls
    return posts, links
