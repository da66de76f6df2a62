"""Open the citations database in Datasette, with the metadata shipped in this package.

Datasette keys a database's metadata by the file's stem, and the packaged file describes
``citations`` (``data/citations.db``). :func:`metadata_for` renames that key, and the
links in the descriptions, for any other file name, so ``scraper serve --db other.db``
explains itself just the same. Plain ``datasette data/citations.db -m <metadata_path()>``
works as long as the file is called ``citations.db``.

Needs the ``datasette`` extra: importing this module raises ``ImportError`` without it.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import socket
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import uvicorn
import yaml
from datasette.app import Datasette
from datasette.plugins import pm
from datasette.utils import tilde_encode

from scraper import datasette_plugin
from scraper.store import open_database
from scraper.views import ensure_views

log = logging.getLogger(__name__)

METADATA_FILE = "datasette_metadata.yml"
# The database name the packaged metadata is written for (data/citations.db).
PACKAGED_DATABASE = "citations"
DESCRIPTION_KEYS = ("description_html", "description")


def metadata_path() -> Path:
    """The path of the packaged metadata file, for ``datasette -m``."""
    return Path(str(resources.files("scraper") / METADATA_FILE))


def load_metadata(path: str | Path | None = None) -> dict[str, Any]:
    """Read a Datasette metadata file (YAML or JSON); the packaged one by default.

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


def metadata_for(db_name: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """``metadata`` (the packaged metadata by default) for a database named ``db_name``.

    The ``citations`` entry under ``databases`` becomes ``db_name``, and description links
    of the form ``href="citations/...`` point at ``db_name`` instead. The input is not
    modified; metadata with no ``citations`` entry comes back unchanged.
    """
    data = copy.deepcopy(metadata if metadata is not None else load_metadata())
    databases = data.get("databases")
    if db_name == PACKAGED_DATABASE or not isinstance(databases, dict):
        return data
    if PACKAGED_DATABASE not in databases:
        return data
    data["databases"] = {
        (db_name if name == PACKAGED_DATABASE else name): value for name, value in databases.items()
    }
    old_link = f'href="{PACKAGED_DATABASE}/'
    new_link = f'href="{tilde_encode(db_name)}/'
    for holder in (data, data["databases"][db_name]):
        for key in DESCRIPTION_KEYS:
            if isinstance(holder.get(key), str):
                holder[key] = holder[key].replace(old_link, new_link)
    return data


def register_plugin() -> None:
    """Register :mod:`scraper.datasette_plugin` unless its entry point already did."""
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name=datasette_plugin.PLUGIN_NAME)


def build_datasette(db_path: str | Path, metadata_path: str | Path | None = None) -> Datasette:
    """A Datasette instance for the database at ``db_path``, with the project's metadata.

    A writable database is first brought up to the current schema and views (a no-op when
    it is already there), so canned queries work on a database made by an older version.
    Raises ``FileNotFoundError`` when there is no database at ``db_path``,
    :class:`~scraper.errors.ScraperError` when the file is not a usable SQLite database.
    """
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}; run `scraper run` first")
    if os.access(path, os.W_OK):
        db = open_database(path)
        try:
            ensure_views(db)
        finally:
            db.close()
    else:  # a read-only copy (an archive, a published file) is served as it is
        log.warning("%s is read-only: serving it without upgrading its schema", path)
    metadata = metadata_for(path.stem, load_metadata(metadata_path))
    register_plugin()
    return Datasette([str(path)], metadata=metadata)


def database_name(datasette: Datasette) -> str:
    """The name Datasette gave the (one) database file it serves."""
    for database in datasette.databases.values():
        if database.path is not None:
            return str(database.name)
    raise ValueError("this Datasette instance serves no database file")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (port 0 picks a free one).

    Binding before starting the server turns "address already in use" into an ``OSError``
    the caller can report, instead of a log line and an exit deep inside uvicorn.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def serve_database(
    db_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8001,
    metadata_path: str | Path | None = None,
) -> None:
    """Serve the database in Datasette until Ctrl+C (or SIGTERM); print its URL on stderr.

    Raises ``FileNotFoundError`` when the database is missing, ``ValueError`` for an
    unreadable metadata file and ``OSError`` when the address cannot be bound.
    """
    datasette = build_datasette(db_path, metadata_path)
    asyncio.run(datasette.invoke_startup())
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound_port}{datasette.urls.database(database_name(datasette))}"
    print(f"Datasette is serving {db_path} at {url} (Ctrl+C to stop)", file=sys.stderr)
    config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="on")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly, then re-raises the Ctrl+C: that is the normal way out.
        print("Datasette stopped", file=sys.stderr)
    finally:
        sock.close()
