"""A small Datasette plugin: handles and post ids link to their public pages.

Datasette already turns a cell holding nothing but an http(s) URL into a link. This adds
the two columns it cannot know about: ``handle`` becomes ``@handle`` linking to the
profile, and ``post_id`` links to the post. It acts only on databases whose metadata
enables it (``plugins: scraper: link_handles: true``, as the packaged metadata does), so
installing the package does not change how Datasette shows anybody else's data.

Registered through the ``datasette`` entry point group; :func:`scraper.serve.build_datasette`
also registers it when the entry point is not installed.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from datasette import hookimpl
from markupsafe import Markup

from scraper.parse.post_urls import canonical_post_url
from scraper.store.posts import clean_handle, profile_url

PLUGIN_NAME = "scraper"

POST_URLS: dict[str, str] = {
    "twitter": "https://twitter.com/i/web/status/{post_id}",
    "x": "https://x.com/i/web/status/{post_id}",
}
HTTP_URL_RE = re.compile(r"^https?://\S+$")


def _cell(row: Any, key: str) -> Any:
    """``row[key]`` for a sqlite3.Row or Datasette's CustomRow, ``None`` when absent."""
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


def post_url(platform: str | None, post_id: str) -> str | None:
    """The public URL of a post from its platform id (``1159...``) or key (``twitter:1159...``).

    Other platforms' ids (``youtube:ID``, ``bluesky:at://...``) go to
    :func:`scraper.parse.post_urls.canonical_post_url`.
    """
    if platform is None:
        return None
    bare = post_id.split(":", 1)[1] if post_id.startswith(f"{platform}:") else post_id
    if bare.startswith("h-"):  # hashed keys have no public page
        return None
    template = POST_URLS.get(platform.lower())
    if template is None:  # the other platforms: their canonical URL, where the id makes one
        return canonical_post_url(platform.lower(), bare)
    return template.format(post_id=bare) if bare.isdigit() else None


def _link(href: str, text: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


def render_handle(row: Any, value: str, table: str | None) -> Markup | None:
    """``@handle`` linking to the profile: the row's own profile URL in ``accounts``."""
    own = _cell(row, "url") if table == "accounts" else None
    href = own if isinstance(own, str) and HTTP_URL_RE.match(own) else None
    handle = clean_handle(value)
    platform = _cell(row, "platform")
    if href is None and handle and isinstance(platform, str):
        href = profile_url(platform.lower(), quote(handle, safe="@."))
    if href is None or handle is None:
        return None
    return _link(href, "@" + handle)


def render_post_id(row: Any, value: str, table: str | None) -> Markup | None:
    """The post id linking to the post: the row's own post URL when it has one."""
    own = _cell(row, "url") if table == "posts" else _cell(row, "post_url")
    href = own if isinstance(own, str) and HTTP_URL_RE.match(own) else None
    href = href or post_url(_cell(row, "platform"), value)
    if href is None:
        return None
    return _link(href, value)


@hookimpl  # type: ignore[untyped-decorator]  # datasette ships no type hints
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Markup | None:
    """Datasette hook: link ``handle`` and ``post_id`` cells; leave every other cell alone."""
    # Foreign-key cells arrive as {"value", "label"} dicts: Datasette links those itself.
    if column not in ("handle", "post_id") or not isinstance(value, str) or not value:
        return None
    config = datasette.plugin_config(PLUGIN_NAME, database=database) or {}
    if not config.get("link_handles"):
        return None
    if column == "handle":
        return render_handle(row, value, table)
    return render_post_id(row, value, table)
