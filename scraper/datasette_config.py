"""The Datasette metadata and dashboard for every database that has our schema.

The packaged ``datasette_metadata.yml`` is a template, not keyed by a file name: its
``database`` block (descriptions, tables, columns, facets, canned queries) and its
``dashboard`` block (charts for datasette-dashboards) are applied to each database the
plugin recognises as ours (:func:`is_scraper_schema`), whatever the file is called.
Description links are written ``href="{db}/..."`` and point at the database's own URL.

No Datasette import here: :mod:`scraper.datasette_plugin` hands these dictionaries to
Datasette through its ``get_metadata`` hook, and :mod:`scraper.serve` reads the file.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

METADATA_FILE = "datasette_metadata.yml"
DASHBOARDS_PLUGIN = "datasette-dashboards"
DB_PLACEHOLDER = "{db}"
DASHBOARD_PLACEHOLDER = "{dashboard}"
DESCRIPTION_KEYS = ("description_html", "description")
# A database is ours when it has these tables (every migration of set `scraper` makes them).
CORE_TABLES = frozenset({"articles", "posts", "citations", "links", "urls"})
MIGRATION_SET = "scraper"


def metadata_path() -> Path:
    """The path of the packaged metadata template."""
    return Path(str(resources.files("scraper") / METADATA_FILE))


def load_metadata(path: str | Path | None = None) -> dict[str, Any]:
    """Read a Datasette metadata file (YAML or JSON); the packaged template by default.

    Raises ``ValueError`` naming the file when it cannot be read or is not a mapping.
    """
    source = Path(path) if path is not None else metadata_path()
    try:
        text = source.read_text(encoding="utf-8")
        # As Datasette does: JSON first (not all JSON is YAML), then YAML.
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"cannot read Datasette metadata {source}: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"Datasette metadata {source} is not a mapping of keys to values")
    return data


def is_scraper_schema(tables: Iterable[str], migration_sets: Iterable[str] = ()) -> bool:
    """True when a database with these tables (and migration sets applied) is ours."""
    return MIGRATION_SET in set(migration_sets) or set(tables) >= CORE_TABLES


def _relink(holder: dict[str, Any], db_url: str, dashboard_url: str = "") -> None:
    """Point ``href="{db}...`` and ``href="{dashboard}"`` links at this database's pages."""
    for key in DESCRIPTION_KEYS:
        if isinstance(holder.get(key), str):
            text = holder[key].replace(f'href="{DB_PLACEHOLDER}', f'href="{db_url}')
            holder[key] = text.replace(f'href="{DASHBOARD_PLACEHOLDER}', f'href="{dashboard_url}')


def dashboard_for(
    template: Mapping[str, Any], db_name: str, db_url: str, names: Iterable[str]
) -> dict[str, Any]:
    """The datasette-dashboards entry for one database.

    A chart with ``requires: <view or table>`` is kept only when ``names`` holds it (the
    link-rot chart appears once the link-rot views exist); the key itself is removed.
    """
    present = set(names)
    dashboard = copy.deepcopy(dict(template))
    charts: dict[str, Any] = {}
    for slug, chart in (dashboard.get("charts") or {}).items():
        needed = chart.pop("requires", None)
        if needed is not None and needed not in present:
            continue
        if "query" in chart:
            chart["db"] = db_name
        charts[slug] = chart
    dashboard["charts"] = charts
    # A missing chart's cell goes to its row's neighbour: grid areas must stay rectangles.
    layout = []
    for row in dashboard.get("layout") or []:
        kept = [slug for slug in row if slug in charts]
        if kept:
            layout.append([slug if slug in charts else kept[-1] for slug in row])
    dashboard["layout"] = layout
    _relink(dashboard, db_url)
    return dashboard


def build_metadata(
    template: Mapping[str, Any],
    databases: Mapping[str, tuple[str, str, Iterable[str]]],
) -> dict[str, Any]:
    """Datasette metadata for ``databases``: name -> (its URL, its dashboard's URL, its
    tables and views).

    Each gets the template's ``database`` block and a dashboard slugged by its name; the
    instance title and description link to the first of them.
    """
    data: dict[str, Any] = {
        key: copy.deepcopy(value)
        for key, value in template.items()
        if key not in ("database", "dashboard", "databases")
    }
    if not databases:
        return {}
    dbs: dict[str, Any] = {}
    dashboards: dict[str, Any] = {}
    for name, (db_url, dashboard_url, names) in databases.items():
        block = copy.deepcopy(dict(template.get("database") or {}))
        _relink(block, db_url, dashboard_url)
        for query in (block.get("queries") or {}).values():
            _relink(query, db_url, dashboard_url)
        dbs[name] = block
        if template.get("dashboard"):
            dashboards[name] = dashboard_for(template["dashboard"], name, db_url, names)
    first_url, first_dashboard, _ = next(iter(databases.values()))
    _relink(data, first_url, first_dashboard)
    data["databases"] = dbs
    if dashboards:
        data.setdefault("plugins", {})[DASHBOARDS_PLUGIN] = dashboards
    return data
