"""Open the citations database in Datasette, with the project's plugin.

The descriptions, canned queries and dashboard come from :mod:`scraper.datasette_plugin`'s
metadata hook, for any file name; plain ``datasette news.db`` shows the same once the
package is installed (the plugin is registered through the ``datasette`` entry point).

Needs the ``datasette`` extra: importing this module raises ``ImportError`` without it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn
from datasette.app import Datasette
from datasette.plugins import pm

from scraper import datasette_plugin
from scraper.datasette_config import load_metadata
from scraper.store import open_database, refresh_summaries
from scraper.views import ensure_views

log = logging.getLogger(__name__)


def register_plugin() -> None:
    """Register :mod:`scraper.datasette_plugin` unless its entry point already did."""
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name=datasette_plugin.PLUGIN_NAME)


def build_datasette(db_path: str | Path, metadata_path: str | Path | None = None) -> Datasette:
    """A Datasette instance for the database at ``db_path``, with the project's plugin.

    ``metadata_path`` names an extra Datasette metadata file (its keys win over the
    plugin's); the project's own metadata needs none.

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
            refresh_summaries(db)  # what was stored since the last run shows too
        finally:
            db.close()
    else:  # a read-only copy (an archive, a published file) is served as it is
        log.warning("%s is read-only: serving it without upgrading its schema", path)
    metadata = load_metadata(metadata_path) if metadata_path is not None else {}
    register_plugin()
    # Facet suggestions try every column of a page against a million rows (50 ms each);
    # the facets the metadata names still show. Plain `datasette` can do the same with
    # `--setting suggest_facets off`.
    return Datasette([str(path)], metadata=metadata, settings={"suggest_facets": False})


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
