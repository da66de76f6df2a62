"""Our Datasette plugin: metadata and a dashboard for any database with our schema, links.

``get_metadata`` gives every database that has our schema (:mod:`scraper.datasette_config`
decides, from its tables or its ``_sqlite_migrations``) the packaged descriptions, canned
queries and dashboard, whatever its file is called: plain ``datasette news.db`` explains
itself as ``scraper serve`` does. Other databases get nothing from it.

Datasette already turns a cell holding nothing but an http(s) URL into a link. This adds
the columns it cannot know about: ``handle`` becomes ``@handle`` linking to the profile,
``post_id`` links to the post, and a post's ``account_id`` shows as ``@handle``. It acts
only on databases whose metadata enables it (``plugins: scraper: link_handles: true``, as
the packaged metadata does).

Registered through the ``datasette`` entry point group; :func:`scraper.serve.build_datasette`
also registers it when the entry point is not installed.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from typing import Any
from urllib.parse import quote

from datasette import hookimpl
from markupsafe import Markup

from scraper.datasette_config import build_metadata, is_scraper_schema, load_metadata
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


def render_account(value: Any, account_url: str, handle: str | None) -> Markup | None:
    """A post's ``account_id`` as ``@handle`` linking to the account's row."""
    if not handle:
        return None
    return _link(account_url, "@" + (clean_handle(handle) or handle))


async def account_handle(datasette: Any, database: str, account_id: Any) -> str | None:
    """The handle of account ``account_id`` (the row page has the bare id, not the label)."""
    result = await datasette.get_database(database).execute(
        "SELECT handle FROM accounts WHERE id = ?", [account_id]
    )
    row = result.first()
    return None if row is None else str(row[0])


@hookimpl  # type: ignore[untyped-decorator]  # datasette ships no type hints
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Any:
    """Datasette hook: ``handle`` and ``post_id`` cells link to the post and profile; a
    post's ``account_id`` shows as ``@handle``; every other cell is left alone."""
    if column == "account_id" and table == "posts" and value not in (None, ""):
        config = datasette.plugin_config(PLUGIN_NAME, database=database) or {}
        if not config.get("link_handles"):
            return None
        # Table pages hand over the foreign key as {"value", "label"}; row pages the bare id.
        account_id = value.get("value") if isinstance(value, dict) else value
        label = value.get("label") if isinstance(value, dict) else None
        href = datasette.urls.row(database, "accounts", str(account_id))
        if label and label != str(account_id):
            return render_account(account_id, href, str(label))

        async def later() -> Markup | None:
            return render_account(
                account_id, href, await account_handle(datasette, database, account_id)
            )

        return later()
    # Foreign-key cells arrive as {"value", "label"} dicts: Datasette links those itself.
    if column not in ("handle", "post_id") or not isinstance(value, str) or not value:
        return None
    config = datasette.plugin_config(PLUGIN_NAME, database=database) or {}
    if not config.get("link_handles"):
        return None
    if column == "handle":
        return render_handle(row, value, table)
    return render_post_id(row, value, table)


# Runs at the end of a table page of ours: puts the columns a person reads first (handle,
# text, date) first, and folds the column descriptions under one line. In the browser only:
# the JSON and CSV keep the table's own order.
TABLE_SCRIPT = """
(function (first) {
  var notes = document.querySelector("dl.column-descriptions");
  if (notes) {
    var fold = document.createElement("details");
    var line = document.createElement("summary");
    line.textContent = "What each column means";
    notes.parentNode.insertBefore(fold, notes);
    fold.appendChild(line);
    fold.appendChild(notes);
  }
  var table = document.querySelector("table.rows-and-columns");
  if (!table || !first.length) { return; }
  var heads = Array.prototype.map.call(
    table.querySelectorAll("thead th"), function (th) { return th.dataset.column; });
  var order = first.filter(function (c) { return heads.indexOf(c) >= 0; })
    .concat(heads.filter(function (c) { return first.indexOf(c) < 0; }));
  table.querySelectorAll("tr").forEach(function (tr) {
    var cells = Array.prototype.slice.call(tr.children);
    if (cells.length !== heads.length) { return; }
    order.forEach(function (c) { tr.appendChild(cells[heads.indexOf(c)]); });
  });
})(%s);
"""


@hookimpl  # type: ignore[untyped-decorator]  # datasette ships no type hints
def extra_body_script(
    template: str, database: str | None, table: str | None, datasette: Any
) -> str | None:
    """Datasette hook: on our table and view pages, readers' columns first, notes folded."""
    if template != "table.html" or database is None or table is None:
        return None
    config = datasette.plugin_config(PLUGIN_NAME, database=database) or {}
    if not config.get("link_handles"):  # not one of our databases
        return None
    first = (config.get("first_columns") or {}).get(table) or []
    # json.dumps of a list of str is valid JavaScript; "</" cannot occur in column names
    # we wrote, but is escaped anyway so the script cannot end early.
    return TABLE_SCRIPT % json.dumps([str(c) for c in first]).replace("</", "<\\/")


class SchemaProbe:
    """What each database file holds (its tables and views), re-read only when its schema
    version changes: Datasette asks for metadata many times per page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: dict[str, sqlite3.Connection] = {}
        self._seen: dict[str, tuple[int, frozenset[str], bool]] = {}

    def names(self, path: str) -> tuple[frozenset[str], bool] | None:
        """The tables and views of the database at ``path``, and whether it is ours."""
        with self._lock:
            try:
                conn = self._connections.get(path)
                if conn is None:
                    conn = sqlite3.connect(
                        f"file:{path}?mode=ro", uri=True, check_same_thread=False
                    )
                    self._connections[path] = conn
                (version,) = conn.execute("PRAGMA schema_version").fetchone()
                seen = self._seen.get(path)
                if seen is not None and seen[0] == version:
                    return seen[1], seen[2]
                names = frozenset(
                    row[0]
                    for row in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                    )
                )
                sets: list[str] = []
                if "_sqlite_migrations" in names:
                    sets = [
                        row[0]
                        for row in conn.execute(
                            "SELECT DISTINCT migration_set FROM _sqlite_migrations"
                        )
                    ]
            except sqlite3.Error:
                return None
            ours = is_scraper_schema(names, sets)
            self._seen[path] = (version, names, ours)
            return names, ours


PROBE = SchemaProbe()
_TEMPLATE: dict[str, Any] = {}
_BUILT: dict[tuple[Any, ...], dict[str, Any]] = {}


def scraper_databases(datasette: Any) -> dict[str, tuple[str, str, frozenset[str]]]:
    """Name -> (URL, dashboard URL, tables and views) of each served database that is ours."""
    found: dict[str, tuple[str, str, frozenset[str]]] = {}
    for name, database in datasette.databases.items():
        path = getattr(database, "path", None)
        if not path or getattr(database, "is_memory", False):
            continue
        probed = PROBE.names(str(path))
        if probed is None or not probed[1]:
            continue
        dashboard = datasette.urls.path(f"/-/dashboards/{quote(name, safe='')}")
        found[name] = (datasette.urls.database(name), dashboard, probed[0])
    return found


@hookimpl  # type: ignore[untyped-decorator]  # datasette ships no type hints
def get_metadata(datasette: Any, key: Any, database: Any, table: Any) -> dict[str, Any]:
    """Datasette hook: our metadata, canned queries and dashboard for each database of ours."""
    found = scraper_databases(datasette)
    cache_key = tuple(sorted(found.items()))
    built = _BUILT.get(cache_key)
    if built is None:
        if not _TEMPLATE:
            _TEMPLATE.update(load_metadata())
        built = build_metadata(_TEMPLATE, found)
        _BUILT.clear()  # one set of databases at a time; a schema change rebuilds
        _BUILT[cache_key] = built
    # The same dictionary every time, not a copy: Datasette asks on every cell a plugin
    # renders (thousands per page), and copying cost seconds per page. What is done to it
    # is idempotent: Datasette merges the same -m metadata into it again, and
    # datasette-dashboards sets defaults (no filters here) on the dashboard.
    return built
