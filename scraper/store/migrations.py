"""The migrations that bring any database up to the current schema (sqlite-utils Migrations).

Every applied step is recorded in ``_sqlite_migrations``. Migrations are written to be
idempotent (create what is missing, add columns that are missing) because the first one
also adopts databases made before schema versioning existed: their tables are kept, rows
and all, and completed. Each step names its own columns (frozen), never the live
:data:`scraper.store.tables.TABLES`.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.db import ForeignKey
from sqlite_utils.migrations import Migrations

from scraper.store import schema_0001
from scraper.store.summaries import refresh_summaries
from scraper.store.tables import POST_CHECKS_COLUMNS, URL_CHECKS_COLUMNS, TableSpec

MIGRATIONS = Migrations("scraper")


@MIGRATIONS(name="0001_initial")
def _initial_schema(db: Database) -> None:
    """Create the 0001 schema (tables, indexes, FTS, view); adopt pre-versioning databases."""
    for name, spec in schema_0001.TABLES.items():
        _ensure_table(db, name, TableSpec(**spec))
    for table, columns, unique in schema_0001.INDEXES:
        name = f"idx_{table}_{'_'.join(columns)}"
        db.table(table).create_index(columns, index_name=name, unique=unique, if_not_exists=True)
    db.execute(schema_0001.ACCOUNTS_HANDLE_INDEX)
    for table, searchable in schema_0001.FTS_COLUMNS.items():
        db.table(table).enable_fts(searchable, create_triggers=True, replace=True)
    db.create_view("cited_posts", schema_0001.CITED_POSTS_SQL, replace=True)


@MIGRATIONS(name="0002_canonical_final_skipped")
def _canonical_final_skipped(db: Database) -> None:
    """Articles keep their canonical and final URLs; runs count skipped pages; by source."""
    _add_columns(db, "articles", {"canonical_url": str, "final_url": str})
    _add_columns(db, "runs", {"skipped": int})
    db.table("articles").create_index(
        ["source"], index_name="idx_articles_source", if_not_exists=True
    )


@MIGRATIONS(name="0003_listed_unchanged")
def _listed_unchanged(db: Database) -> None:
    """Runs count the articles skipped because their sitemap said they had not changed."""
    _add_columns(db, "runs", {"listed_unchanged": int})


@MIGRATIONS(name="0004_change_counts")
def _change_counts(db: Database) -> None:
    """Runs count what changed: articles changed, posts and links new, changed, unchanged."""
    columns = (
        "changed_articles",
        "new_posts",
        "changed_posts",
        "unchanged_posts",
        "new_links",
        "changed_links",
        "unchanged_links",
    )
    _add_columns(db, "runs", dict.fromkeys(columns, int))


@MIGRATIONS(name="0005_warc")
def _warc(db: Database) -> None:
    """WARC input: files read to their end, where each article's record is, run counts."""
    # frozen here: later changes to TABLES must not change what this step did
    _ensure_table(
        db,
        "warc_files",
        TableSpec(
            columns={
                "path": str,
                "size": int,
                "head_sha256": str,
                "records": int,
                "pages": int,
                "corrupt": int,
                "completed_at": str,
            },
            pk="path",
        ),
    )
    _add_columns(db, "articles", {"warc_offset": int, "warc_length": int, "warc_truncated": str})
    _add_columns(db, "runs", {"records_read": int, "records_corrupt": int})


@MIGRATIONS(name="0006_liveness")
def _liveness(db: Database) -> None:
    """History of every link check and post check; archived copies on urls and posts.

    Every URL already checked gets its current answer as its first ``url_checks`` row,
    so the history starts with what the database knew.
    """
    archive_columns: dict[str, type] = {"archived_url": str, "archived_at": str}
    archive_columns["archive_checked_at"] = str
    _add_columns(db, "urls", archive_columns)
    _add_columns(db, "posts", {"state": str, "checked_at": str, **archive_columns})
    for name, columns, parent in (
        ("url_checks", URL_CHECKS_COLUMNS, ("url_id", "urls", "id")),
        ("post_checks", POST_CHECKS_COLUMNS, ("post_id", "posts", "id")),
    ):
        _ensure_table(db, name, TableSpec(dict(columns), pk="id", foreign_keys=(parent,)))
        db.table(name).create_index(
            [parent[0], "checked_at"],
            index_name=f"idx_{name}_{parent[0]}_checked_at",
            if_not_exists=True,
        )
    db.execute(
        """
        INSERT INTO url_checks (url_id, checked_at, status, final_url, final_status_code,
          error_category)
        SELECT id, checked_at, status, final_url, final_status_code, error_category
        FROM urls
        WHERE checked_at IS NOT NULL AND status <> 'pending'
          AND NOT EXISTS (SELECT 1 FROM url_checks WHERE url_checks.url_id = urls.id)
        """
    )


# 0007, frozen: the summary tables as they were first made, and the indexes that keep
# Datasette's pages (sort, count, facets) fast at a million links.
SPEED_TABLES_0007 = (
    """CREATE TABLE IF NOT EXISTS summary_accounts (
  account_id INTEGER PRIMARY KEY, platform TEXT, handle TEXT, display_name TEXT,
  citations INTEGER, posts INTEGER, articles INTEGER, first_post_date TEXT, last_post_date TEXT
)""",
    """CREATE TABLE IF NOT EXISTS summary_days (
  date TEXT, citations INTEGER, posts INTEGER, accounts INTEGER, articles INTEGER
)""",
    """CREATE TABLE IF NOT EXISTS summary_articles (
  article_id INTEGER PRIMARY KEY, posts INTEGER, accounts INTEGER, links INTEGER
)""",
    """CREATE TABLE IF NOT EXISTS summary_post_targets (
  post_id TEXT, platform TEXT, handle TEXT, post_date TEXT, post_url TEXT, url_id INTEGER,
  link_url TEXT, link_host TEXT, is_shortener INTEGER, status TEXT, expanded_url TEXT,
  final_url TEXT, final_status_code INTEGER, hops INTEGER, error_category TEXT, target TEXT,
  PRIMARY KEY (post_id, url_id)
)""",
    """CREATE TABLE IF NOT EXISTS summary_target_domains (
  domain TEXT, links INTEGER, post_links INTEGER, urls INTEGER, posts INTEGER, articles INTEGER
)""",
    """CREATE TABLE IF NOT EXISTS summary_link_rot (
  year TEXT, links_checked INTEGER, links_dead INTEGER, share_dead REAL
)""",
    """CREATE TABLE IF NOT EXISTS summary_shortener_hosts (
  host TEXT PRIMARY KEY, urls INTEGER, resolved INTEGER, failed INTEGER, blocked INTEGER,
  pending INTEGER, max_hops INTEGER, links INTEGER
)""",
)
SPEED_INDEXES_0007 = (
    "CREATE INDEX IF NOT EXISTS idx_summary_accounts_rank"
    " ON summary_accounts (citations DESC, articles DESC, lower(handle))",
    "CREATE INDEX IF NOT EXISTS idx_summary_accounts_platform ON summary_accounts (platform)",
    "CREATE INDEX IF NOT EXISTS idx_summary_days_date ON summary_days (date)",
    "CREATE INDEX IF NOT EXISTS idx_summary_articles_posts"
    " ON summary_articles (posts DESC, article_id)",
    "CREATE INDEX IF NOT EXISTS idx_summary_post_targets_status ON summary_post_targets (status)",
    "CREATE INDEX IF NOT EXISTS idx_summary_post_targets_error"
    " ON summary_post_targets (error_category)",
    "CREATE INDEX IF NOT EXISTS idx_summary_post_targets_host ON summary_post_targets (link_host)",
    "CREATE INDEX IF NOT EXISTS idx_summary_post_targets_platform"
    " ON summary_post_targets (platform)",
    "CREATE INDEX IF NOT EXISTS idx_summary_target_domains_links"
    " ON summary_target_domains (links DESC, domain)",
    "CREATE INDEX IF NOT EXISTS idx_summary_shortener_hosts_urls"
    " ON summary_shortener_hosts (urls DESC, host)",
    "CREATE INDEX IF NOT EXISTS idx_citations_article_position ON citations (article_id, position)",
    "CREATE INDEX IF NOT EXISTS idx_links_post_url ON links (post_id, url_id)",
    # Facets of the table pages (Datasette counts each facet over the whole table).
    "CREATE INDEX IF NOT EXISTS idx_posts_date_mismatch ON posts (date_mismatch)",
    "CREATE INDEX IF NOT EXISTS idx_posts_platform ON posts (platform)",
    "CREATE INDEX IF NOT EXISTS idx_posts_lang ON posts (lang)",
    "CREATE INDEX IF NOT EXISTS idx_citations_kind ON citations (kind)",
    "CREATE INDEX IF NOT EXISTS idx_articles_content_type ON articles (content_type)",
    "CREATE INDEX IF NOT EXISTS idx_articles_http_status ON articles (http_status)",
    "CREATE INDEX IF NOT EXISTS idx_links_context ON links (context)",
    "CREATE INDEX IF NOT EXISTS idx_redirects_via ON redirects (via)",
    "CREATE INDEX IF NOT EXISTS idx_redirects_status_code ON redirects (status_code)",
    "CREATE INDEX IF NOT EXISTS idx_urls_hops ON urls (hops, status, is_shortener)",
    "CREATE INDEX IF NOT EXISTS idx_urls_final_status ON urls (final_status_code)",
    "CREATE INDEX IF NOT EXISTS idx_urls_error_category ON urls (error_category)",
    "CREATE INDEX IF NOT EXISTS idx_urls_shortener_host ON urls (is_shortener, host, status)",
)
# A second full-text index of post text, by trigrams: substrings in Japanese and Chinese
# (no spaces between words) and anywhere else. posts_fts itself moves to the porter stemmer.
TRIGRAM_0007 = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS posts_trigram USING fts5("
    "text, content='posts', content_rowid='rowid', tokenize='trigram')",
    """CREATE TRIGGER IF NOT EXISTS posts_trigram_ai AFTER INSERT ON posts BEGIN
  INSERT INTO posts_trigram (rowid, text) VALUES (new.rowid, new.text);
END""",
    """CREATE TRIGGER IF NOT EXISTS posts_trigram_ad AFTER DELETE ON posts BEGIN
  INSERT INTO posts_trigram (posts_trigram, rowid, text) VALUES ('delete', old.rowid, old.text);
END""",
    """CREATE TRIGGER IF NOT EXISTS posts_trigram_au AFTER UPDATE ON posts BEGIN
  INSERT INTO posts_trigram (posts_trigram, rowid, text) VALUES ('delete', old.rowid, old.text);
  INSERT INTO posts_trigram (rowid, text) VALUES (new.rowid, new.text);
END""",
    "INSERT INTO posts_trigram (posts_trigram) VALUES ('rebuild')",
)


@MIGRATIONS(name="0007_datasette_speed")
def _datasette_speed(db: Database) -> None:
    """Summary tables and indexes for Datasette at scale; search by stem, prefix, trigram."""
    for statement in (*SPEED_TABLES_0007, *SPEED_INDEXES_0007, *TRIGRAM_0007):
        db.execute(statement)
    for table, searchable in {"posts": ["text"], "articles": ["title"]}.items():
        db.table(table).enable_fts(
            searchable, create_triggers=True, replace=True, tokenize="porter"
        )
    refresh_summaries(db)


def _add_columns(db: Database, name: str, columns: dict[str, type]) -> None:
    """Add to table ``name`` those of ``columns`` it does not have yet (case-insensitively)."""
    table = db.table(name)
    existing = {column.lower() for column in table.columns_dict}
    for column, column_type in columns.items():
        if column.lower() not in existing:
            table.add_column(column, column_type)


@MIGRATIONS(name="0008_parse_warnings")
def _parse_warnings(db: Database) -> None:
    """Articles record what the parser could not read as written (a page nested too deep)."""
    articles = db.table("articles")
    if "warnings" not in {column.lower() for column in articles.columns_dict}:
        articles.add_column("warnings", str)


def _ensure_table(db: Database, name: str, spec: TableSpec) -> None:
    """Create ``name``, or complete an existing one with missing columns and foreign keys."""
    table = db.table(name)
    if not table.exists():
        table.create(
            spec.columns,
            pk=spec.pk,
            foreign_keys=list(spec.foreign_keys),
            not_null=spec.not_null,
            defaults=spec.defaults,
        )
        return
    existing = {column.lower() for column in table.columns_dict}
    for column, column_type in spec.columns.items():
        if column.lower() not in existing:
            table.add_column(column, column_type)
    # Old rows predate the defaults (or the columns): give them the values new rows get.
    for column, default in spec.defaults.items():
        db.execute(f"UPDATE [{name}] SET [{column}] = ? WHERE [{column}] IS NULL", [default])
    declared = {(fk.column, fk.other_table) for fk in table.foreign_keys}
    missing = [
        ForeignKey(name, column, other_table, other_column)
        for column, other_table, other_column in spec.foreign_keys
        if (column, other_table) not in declared
    ]
    if missing:
        db.add_foreign_keys(missing)
