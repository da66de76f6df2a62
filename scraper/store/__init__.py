"""The SQLite store: schema, idempotent writes, the resolver's queue and the run log.

Synchronous sqlite-utils, called from one place (``run``). It knows no HTTP: it saves the
:mod:`scraper.model` records that parse and resolve produce.

sqlite-utils owns the schema (tables, foreign keys, indexes, FTS, the view, migrations);
the writes are explicit SQL because posts and accounts merge field by field ("fill what is
missing, never overwrite with NULL") and every write must know whether it changed
anything, which ``upsert_all`` cannot express. Each public write is one transaction
(:func:`write_transaction`, ``BEGIN IMMEDIATE``); sqlite-utils would otherwise commit
statement by statement.
"""

from scraper.store.articles import (
    ArticleState,
    SaveResult,
    WarcPlace,
    get_article_state,
    is_unchanged,
    save_article,
    save_failed_article,
    save_not_modified,
)
from scraper.store.runs import collect_stats, finish_run, start_run
from scraper.store.schema import ensure_schema, open_database
from scraper.store.summaries import refresh_summaries
from scraper.store.transaction import write_transaction
from scraper.store.urls import failed_backoff, save_resolution, select_urls_to_resolve
from scraper.store.warcs import WarcFile, find_warc_file, save_warc_file

__all__ = [
    "ArticleState",
    "SaveResult",
    "WarcFile",
    "WarcPlace",
    "collect_stats",
    "ensure_schema",
    "failed_backoff",
    "find_warc_file",
    "finish_run",
    "get_article_state",
    "is_unchanged",
    "open_database",
    "refresh_summaries",
    "save_article",
    "save_failed_article",
    "save_not_modified",
    "save_resolution",
    "save_warc_file",
    "select_urls_to_resolve",
    "start_run",
    "write_transaction",
]
