"""Facebook posts and videos: XFBML ``div.fb-post`` / ``div.fb-video``, ``amp-facebook``,
``plugins/post.php`` and ``plugins/video.php`` iframes, and post links.

The embed code is ``<div class="fb-post" data-href="https://www.facebook.com/PAGE/posts/ID">
<blockquote cite="..." class="fb-xfbml-parse-ignore"><p>text</p>Posted by <a href=
"https://www.facebook.com/PAGE">Name</a> on <a href="...">Thursday, September 7, 2023</a>
</blockquote></div>``, the byline in the reader's language ("Gepostet von Name am
Donnerstag, 7. September 2023"). The byline is read by its links, not its words: the
author is the link to a profile, the date the text of the last link to the post (or,
for videos, the text after the author). Iframes go through the shared frame detector,
which reads the ``href`` parameter of the plugin URL.

Facebook object ids are global, so a post is ``facebook:ID`` whatever URL named it:
``/PAGE/posts/ID`` (also ``pfbid...`` ids), ``permalink.php?story_fbid=ID&id=OWNER``,
``/groups/G/posts/ID``, ``/PAGE/videos/ID``, ``watch/?v=ID``, ``/reel/ID``,
``photo.php?fbid=ID``, ``/PAGE/photos/ALBUM/ID``. The same post named by its numeric id
and by its ``pfbid`` cannot be matched offline. Share links (``/share/p/...``,
``fb.watch``) need resolving first. Page plugins, like buttons and comment embeds are
not posts.
"""

from __future__ import annotations

import re
from typing import ClassVar

from scraper.model import Post
from scraper.parse.html import Element, PageContext, element_text
from scraper.parse.platforms.common import (
    EmbedDetector,
    PlatformUrls,
    TagGuards,
    UrlParts,
    attr,
    classes,
    make_post,
    read_shown_date,
    split_url,
)
from scraper.parse.tree import text_content
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "FacebookDetector", "parse_url", "post_url"]

PLATFORM = "facebook"
_ID_RE = re.compile(r"\d{5,25}|pfbid0?[A-Za-z0-9]{20,80}")
_OWNER_RE = re.compile(r"[A-Za-z0-9.\-]{1,80}")
_PLUGIN_RE = re.compile(r"(?:/v\d{1,2}\.\d{1,2})?/plugins/(?:post|video)\.php/?")
# First path words that are Facebook's own pages, not a page or profile name.
_RESERVED = frozenset(
    {"groups", "watch", "photo", "photo.php", "reel", "share", "sharer", "sharer.php",
     "plugins", "pages", "events", "story.php", "permalink.php", "video.php", "l.php",
     "login", "dialog", "hashtag", "people", "profile.php", "media", "notes", "gaming"}
)  # fmt: skip


def post_url(post_id: str) -> str | None:
    """Facebook URLs depend on the kind of object: an id alone makes none."""
    return None


def _object_id(raw: str | None) -> str | None:
    return raw if raw and _ID_RE.fullmatch(raw) else None


def _post(owner: str | None, object_id: str | None) -> StatusRef | None:
    if object_id is None or owner is None or not _OWNER_RE.fullmatch(owner):
        return None
    handle = None if owner.isdigit() else owner
    return StatusRef(
        PLATFORM, handle, object_id, f"https://www.facebook.com/{owner}/posts/{object_id}"
    )


def _video(owner: str | None, object_id: str | None) -> StatusRef | None:
    if object_id is None or not object_id.isdigit():
        return None
    handle = owner if owner and not owner.isdigit() and _OWNER_RE.fullmatch(owner) else None
    return StatusRef(PLATFORM, handle, object_id, f"https://www.facebook.com/watch/?v={object_id}")


def _photo(owner: str | None, object_id: str | None) -> StatusRef | None:
    if object_id is None or not object_id.isdigit():
        return None
    handle = owner if owner and not owner.isdigit() and _OWNER_RE.fullmatch(owner) else None
    return StatusRef(
        PLATFORM, handle, object_id, f"https://www.facebook.com/photo/?fbid={object_id}"
    )


def _by_script(parts: UrlParts, first: str) -> StatusRef | None:
    """The ``.php`` and query-string forms: permalink, story, photo, watch, video."""
    if first in ("permalink.php", "story.php"):
        return _post(parts.param("id"), _object_id(parts.param("story_fbid")))
    if first in ("photo.php", "photo"):
        return _photo(None, _object_id(parts.param("fbid")))
    if first in ("watch", "video.php"):
        return _video(None, _object_id(parts.param("v")))
    return None


def _by_path(segments: list[str]) -> StatusRef | None:
    """The path forms: ``/groups/G/posts/ID``, ``/reel/ID``, ``/PAGE/{posts,videos,photos}/...``."""
    if len(segments) >= 4 and segments[0] == "groups" and segments[2] in ("posts", "permalink"):
        group, object_id = segments[1], _object_id(segments[3])
        if object_id is None or not _OWNER_RE.fullmatch(group):
            return None
        url = f"https://www.facebook.com/groups/{group}/posts/{object_id}"
        return StatusRef(PLATFORM, None, object_id, url)
    if len(segments) >= 2 and segments[0] == "reel":
        return _video(None, _object_id(segments[1]))
    if len(segments) < 3 or segments[0] in _RESERVED:
        return None
    owner, section, rest = segments[0], segments[1], segments[2:]
    # The id is the last numeric segment: "/videos/slug/ID", "/photos/a.ALBUM/ID".
    last = next((_object_id(s) for s in reversed(rest) if _object_id(s)), None)
    if section == "posts":
        return _post(owner, last)
    if section == "videos":
        return _video(owner, last)
    if section == "photos":
        return _photo(owner, last)
    return None


def parse_url(parts: UrlParts) -> StatusRef | None:
    """A Facebook post, video or photo URL, or a post/video plugin URL (its ``href``)."""
    if _PLUGIN_RE.fullmatch(parts.path):
        inner = parts.param("href")
        inner_parts = split_url(inner) if inner else None
        if inner_parts is None or _PLUGIN_RE.fullmatch(inner_parts.path):
            return None
        if not inner_parts.host.endswith(("facebook.com", "fb.com")):
            return None
        return parse_url(inner_parts)
    segments = parts.segments()
    if not segments:
        return None
    return _by_script(parts, segments[0]) or _by_path(segments)


URLS = PlatformUrls(PLATFORM, frozenset({"facebook.com", "fb.com"}), parse_url, post_url)


def _ref(href: str | None) -> StatusRef | None:
    parts = split_url(href) if href and ("facebook" in href or "fb.com" in href) else None
    if parts is None or not parts.host.endswith(("facebook.com", "fb.com")):
        return None
    return parse_url(parts)


def _profile_handle(href: str) -> str | None:
    parts = split_url(href)
    segments = parts.segments() if parts is not None else []
    if len(segments) == 1 and segments[0] not in _RESERVED and _OWNER_RE.fullmatch(segments[0]):
        return None if segments[0].isdigit() else segments[0]
    return None


def _byline(quote: Element, page: PageContext) -> dict[str, str | None]:
    """Author, handle, date and text of the ``fb-xfbml-parse-ignore`` blockquote."""
    anchors = list(quote.iter("a"))
    refs = [_ref(a.get("href")) for a in anchors]
    author_at = next(
        (
            i
            for i, (a, ref) in enumerate(zip(anchors, refs, strict=True))
            if ref is None and "facebook" in (a.get("href") or "")
        ),
        None,
    )
    found: dict[str, str | None] = {"name": None, "handle": None, "date": None, "shown": None}
    author = anchors[author_at] if author_at is not None else None
    if author is not None and author_at is not None:
        found["name"] = " ".join(text_content(author).split()) or None
        found["handle"] = _profile_handle(author.get("href") or "")
        date_links = [anchors[i] for i in range(author_at + 1, len(anchors)) if refs[i]]
        shown = " ".join(text_content(date_links[-1]).split()) if date_links else author.tail
        found["date"], found["shown"] = read_shown_date(shown, page.lang)
        if found["date"] is None:
            found["shown"] = None
    paragraphs = [p for p in quote.iter("p") if author is None or author not in p.iter("a")]
    text = "\n".join(t for p in paragraphs if (t := element_text(p)[0].strip()))
    if not text and author_at and refs[0] is not None:
        text = " ".join(text_content(anchors[0]).split())  # a video's title
    found["text"] = text or None
    return found


def _post_from(element: Element, href: str | None, page: PageContext, kind: str) -> Post | None:
    quote = element if element.tag == "blockquote" else next(element.iter("blockquote"), None)
    ref = _ref(href) or (_ref(attr(quote, "cite")) if quote is not None else None)
    if ref is None:
        return None
    byline = _byline(quote, page) if quote is not None else {}
    if quote is None and element.tag == "div":
        kind = "xfbml"  # rendered, or the blockquote was dropped: the data-href alone
    return make_post(
        PLATFORM,
        kind,
        post_id=ref.post_id,
        url=ref.url,
        handle=ref.handle or byline.get("handle"),
        display_name=byline.get("name"),
        date=byline.get("date"),
        date_text=byline.get("shown"),
        text=byline.get("text"),
    )


class FacebookDetector(EmbedDetector):
    """``div.fb-post``, ``div.fb-video``, ``blockquote.fb-xfbml-parse-ignore``, ``amp-facebook``."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {
        "div": ("fb-post", "fb-video"),
        "blockquote": ("fb-xfbml-parse-ignore",),
        "amp-facebook": (),
    }
    markers = ("fb-post", "fb-video", "amp-facebook")

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The Facebook post ``element`` embeds, or ``None``."""
        tag = element.tag
        if tag == "amp-facebook":
            if (attr(element, "data-embed-as") or "").lower() == "comment":
                return None
            return _post_from(element, attr(element, "data-href"), page, "amp")
        names = classes(element)
        if "fb-" not in names:
            return None
        if tag == "div":
            words = names.split()
            if "fb-post" not in words and "fb-video" not in words:
                return None
            return _post_from(element, attr(element, "data-href"), page, "blockquote")
        if "fb-xfbml-parse-ignore" in names.split():
            return _post_from(element, attr(element, "cite"), page, "blockquote")
        return None
