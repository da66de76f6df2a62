"""Instagram posts: ``blockquote.instagram-media``, ``amp-instagram`` and post links.

The embed code has changed often; every version keeps a link to the post, and the byline
in the reader's language, ``A post shared by Name (@handle)``:

- v7 and older: ``<p><a href=POST>caption</a></p><p>A post shared by Name (@handle) on
  <time datetime="2017-10-23T07:31:37+00:00">Oct 23, 2017 at 12:31am PDT</time></p>``;
- v12 (captioned): ``... <p>A post shared by <a href=PROFILE>Name</a> (@handle) on Apr
  27, 2020 at 9:24am PDT</p>`` after the caption paragraph;
- v14: ``data-instgrm-permalink`` and ``<p><a href=POST>A post shared by Name (@handle)
  </a></p>``: no caption and no date.

Iframes (``instagram.com/p/CODE/embed``) go through the shared frame detector. A post is
``instagram:SHORTCODE`` at ``https://www.instagram.com/p/SHORTCODE/`` (reels and IGTV
share the shortcode space). ``posted_at`` is the ``<time datetime>`` when the embed has
one: the shortcode's time is not decoded.
"""

from __future__ import annotations

import re
from typing import ClassVar

from scraper.model import Post
from scraper.parse.dates import parse_datetime_iso
from scraper.parse.html import Element, PageContext, element_text
from scraper.parse.platforms.common import (
    MAX_NAME_CHARS,
    EmbedDetector,
    PlatformUrls,
    TagGuards,
    UrlParts,
    attr,
    classes,
    make_post,
    read_shown_date,
    split_url,
    time_element_date,
)
from scraper.parse.tree import text_content
from scraper.parse.urls import StatusRef

__all__ = ["URLS", "InstagramDetector", "parse_url", "post_url"]

PLATFORM = "instagram"
_CODE_RE = re.compile(r"[A-Za-z0-9_-]{5,64}")
_USER_RE = re.compile(r"[A-Za-z0-9._]{1,30}")
_POST_WORDS = frozenset({"p", "reel", "reels", "tv"})
_BYLINE_HANDLE_RE = re.compile(r"\(\s*@(?P<handle>[A-Za-z0-9._]{1,30})\s*\)")
# "A post shared by", "Ein Beitrag geteilt von", "Une publication partagée par"...: the
# name follows the first of these words.
_SHARED_BY_RE = re.compile(
    r".*?\b(?:by|von|par|por|da|de|door|av|af|przez|od|di|от|από)\s+(?P<name>.+)",
    re.IGNORECASE | re.DOTALL,
)


def post_url(post_id: str) -> str | None:
    """``https://www.instagram.com/p/CODE/`` for a shortcode, else ``None``."""
    return f"https://www.instagram.com/p/{post_id}/" if _CODE_RE.fullmatch(post_id) else None


def parse_url(parts: UrlParts) -> StatusRef | None:
    """``/p/CODE``, ``/reel/CODE``, ``/tv/CODE``, ``/USER/p/CODE`` (and their ``/embed``)."""
    segments = parts.segments()
    handle = None
    if len(segments) >= 3 and segments[1] in ("p", "reel") and _USER_RE.fullmatch(segments[0]):
        handle, segments = segments[0], segments[1:]
    if len(segments) < 2 or segments[0] not in _POST_WORDS:
        return None
    code = segments[1]
    url = post_url(code)
    return StatusRef(PLATFORM, handle, code, url) if url else None


URLS = PlatformUrls(PLATFORM, frozenset({"instagram.com", "instagr.am"}), parse_url, post_url)


def _ref(href: str | None) -> StatusRef | None:
    parts = split_url(href) if href and "instagr" in href else None
    return parse_url(parts) if parts is not None and parts.host in URLS.hosts else None


def _display_name(byline: Element, text: str, handle_at: int) -> str | None:
    """The name in the byline: its profile link's text, else what follows "shared by"."""
    for anchor in byline.iter("a"):
        href = anchor.get("href") or ""
        if "instagr" in href and _ref(href) is None:
            name = " ".join(text_content(anchor).split())
            if name:
                return name
    before = text[:handle_at].strip()
    match = _SHARED_BY_RE.fullmatch(before)
    if match is None or len(match["name"]) > MAX_NAME_CHARS:
        return None
    return match["name"].strip() or None


def _last_handle(text: str) -> re.Match[str] | None:
    last = None
    for last in _BYLINE_HANDLE_RE.finditer(text):  # noqa: B007 - the last one
        pass
    return last


_Byline = tuple[Element, str, re.Match[str]]  # the element, its text, its "(@handle)"


def _read_paragraphs(element: Element) -> tuple[list[str], _Byline | None]:
    """The caption paragraphs and the byline: the last paragraph showing ``(@handle)``."""
    captions: list[str] = []
    byline: _Byline | None = None
    for paragraph in element.iter("p"):
        text = element_text(paragraph)[0].strip()
        match = _last_handle(text) if text else None
        if match is not None:
            if byline is not None:  # an earlier "(@handle)" was a caption's mention
                captions.append(byline[1])
            byline = (paragraph, text, match)
        elif text and any(_ref(a.get("href")) for a in paragraph.iter("a")):
            captions.append(text)
    if byline is None:  # markup without paragraphs: the line that shows "(@handle)"
        text = element_text(element)[0]
        match = _last_handle(text)
        if match is not None:
            line = text[text.rfind("\n", 0, match.start()) + 1 :]
            line_match = _last_handle(line)
            byline = (element, line, line_match) if line_match else None
    return captions, byline


def _parse_blockquote(element: Element, page: PageContext) -> Post | None:
    """Shortcode, caption, byline (name, handle) and date of an embed."""
    ref = _ref(attr(element, "data-instgrm-permalink"))
    if ref is None:
        ref = next((r for a in element.iter("a") if (r := _ref(a.get("href")))), None)
    if ref is None:
        return None  # a profile embed, or markup without its post link
    captions, byline = _read_paragraphs(element)
    handle, name, date, date_text = ref.handle, None, None, None
    if byline is not None:
        holder, text, match = byline
        handle = match["handle"]
        name = _display_name(holder, text, match.start())
        date, date_text = time_element_date(holder, page.lang)
        if date_text is None:  # the date as text after "(@handle) on"
            date, date_text = read_shown_date(text[match.end() :], page.lang)
            date_text = date_text if date else None
    time = next(element.iter("time"), None)
    moment = attr(time, "datetime") if time is not None else None
    return make_post(
        PLATFORM,
        "blockquote",
        post_id=ref.post_id,
        url=ref.url,
        posted_at=parse_datetime_iso(moment) if moment else None,
        handle=handle,
        display_name=name,
        date=date,
        date_text=date_text,
        text="\n".join(captions),
    )


class InstagramDetector(EmbedDetector):
    """``blockquote.instagram-media`` and ``amp-instagram`` (iframes: the frame detector)."""

    platform = PLATFORM
    tags: ClassVar[TagGuards] = {"blockquote": ("instagram-media",), "amp-instagram": ()}
    markers = ("instagram-media", "amp-instagram")

    def detect(self, element: Element, page: PageContext) -> Post | None:
        """The Instagram post ``element`` embeds, or ``None``."""
        if element.tag == "amp-instagram":
            code = attr(element, "data-shortcode")
            url = post_url(code) if code else None
            return make_post(PLATFORM, "amp", post_id=code, url=url) if url else None
        if "instagram-media" not in classes(element):
            return None
        return _parse_blockquote(element, page)
