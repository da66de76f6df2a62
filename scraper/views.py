"""SQL views for people who query the database directly (and for Datasette's canned queries).

Each view answers one question a reader asks of the citations: who is cited most, where
the posts' links really go, which links are dead. They are plain SQL over the tables that
:mod:`scraper.store` declares, so they work in the ``sqlite3`` shell, in Datasette and in
any other SQLite client, with no functions registered by this package. The aggregates too
slow to compute per page at a million links read the ``summary_*`` tables, which each run
refreshes (:func:`scraper.store.summaries.refresh_summaries`); the others are live.

:func:`ensure_views` drops and recreates them, so a newer version of the SQL always
replaces an older one; views hold no data, so this loses nothing.
"""

from __future__ import annotations

from sqlite_utils import Database

from scraper.liveness_views import LIVENESS_VIEWS

# No view has an ORDER BY: SQLite will not flatten a view with one into an aggregate, so
# Datasette's count(*) and facets would compute the whole view first (seconds at a million
# links). Datasette's pages sort by the metadata's `sort`; the canned queries order
# themselves; so should any other query that cares about order.
VIEWS: dict[str, str] = {
    # One row per citation (DESIGN.md). Each joined column is a scalar subquery, not a
    # join: SQLite computes only the columns a query uses, so Datasette's count(*) and a
    # facet on `kind` read the citations alone (a join would be looked up 400,000 times).
    "cited_posts": """
SELECT
  c.article_id,
  (SELECT a.url FROM articles a WHERE a.id = c.article_id) AS article_url,
  (SELECT a.title FROM articles a WHERE a.id = c.article_id) AS article_title,
  (SELECT a.published FROM articles a WHERE a.id = c.article_id) AS article_published,
  (SELECT p.platform FROM posts p WHERE p.id = c.post_id) AS platform,
  (
    SELECT acc.handle FROM posts p JOIN accounts acc ON acc.id = p.account_id
    WHERE p.id = c.post_id
  ) AS handle,
  (
    SELECT acc.display_name FROM posts p JOIN accounts acc ON acc.id = p.account_id
    WHERE p.id = c.post_id
  ) AS display_name,
  c.post_id,
  (SELECT p.url FROM posts p WHERE p.id = c.post_id) AS post_url,
  (SELECT p.date FROM posts p WHERE p.id = c.post_id) AS date,
  (SELECT p.date_text FROM posts p WHERE p.id = c.post_id) AS date_text,
  (SELECT p.posted_at FROM posts p WHERE p.id = c.post_id) AS posted_at,
  (SELECT p.text FROM posts p WHERE p.id = c.post_id) AS text,
  c.kind,
  c.position,
  (
    SELECT group_concat(target, ' ')
    FROM (
      SELECT target FROM (
        SELECT COALESCE(u.final_url, u.expanded_url, u.url) AS target,
          l.article_id <> c.article_id AS elsewhere, l.position
        FROM links l JOIN urls u ON u.id = l.url_id
        WHERE l.post_id = c.post_id
      )
      GROUP BY target
      ORDER BY min(elsewhere), min(position)
    )
  ) AS targets
FROM citations c
""",
    "most_cited_accounts": """
SELECT account_id, platform, handle, display_name, citations, posts, articles,
  first_post_date, last_post_date
FROM summary_accounts
""",
    # summary_days: the day a post says it was made, else the day from its id (UTC); NULL
    # when neither was readable (scraper.store.summaries).
    "citations_per_day": """
SELECT date, citations, posts, accounts, articles
FROM summary_days
""",
    "posts_per_article": """
SELECT
  a.id AS article_id,
  a.title,
  a.url,
  a.published,
  s.posts,
  s.accounts,
  s.links,
  a.error
FROM summary_articles s
JOIN articles a ON a.id = s.article_id
""",
    # One row per (post, URL), from summary_post_targets (scraper.store.summaries).
    "post_targets": """
SELECT post_id, platform, handle, post_date, post_url, url_id, link_url, link_host,
  is_shortener, status, expanded_url, final_url, final_status_code, hops, error_category,
  target
FROM summary_post_targets
""",
    "top_target_domains": """
SELECT domain, links, post_links, urls, posts, articles
FROM summary_target_domains
""",
    # Failed or blocked resolutions, and chains that ended on an HTTP error page. `category`
    # is the resolver's error category, or the HTTP class of the final status.
    "dead_links": """
SELECT
  u.id AS url_id,
  u.url,
  u.host,
  u.status,
  COALESCE(
    u.error_category,
    CASE
      WHEN u.final_status_code >= 500 THEN 'http_5xx'
      WHEN u.final_status_code >= 400 THEN 'http_4xx'
    END,
    u.status
  ) AS category,
  u.error,
  u.final_url,
  u.final_status_code,
  u.hops,
  u.attempts,
  u.checked_at,
  (SELECT count(DISTINCT l.post_id) FROM links l WHERE l.url_id = u.id) AS posts,
  (SELECT count(DISTINCT l.article_id) FROM links l WHERE l.url_id = u.id) AS articles
FROM urls u
WHERE u.status IN ('failed', 'blocked') OR u.final_status_code >= 400
""",
    "shorteners_by_host": """
SELECT host, urls, resolved, failed, blocked, pending, max_hops, links
FROM summary_shortener_hosts
""",
    # The post id carries a timestamp (UTC); the shown date is the embedder's local day, so
    # the store flags a mismatch only beyond what time zones explain. `days_off` is signed.
    "date_mismatches": """
SELECT
  p.id AS post_id,
  p.platform,
  acc.handle,
  p.date AS shown_date,
  p.date_text,
  substr(p.posted_at, 1, 10) AS id_date,
  p.posted_at,
  CAST(julianday(p.date) - julianday(substr(p.posted_at, 1, 10)) AS INTEGER) AS days_off,
  p.url AS post_url,
  p.text,
  (SELECT count(*) FROM citations c WHERE c.post_id = p.id) AS citations
FROM posts p
LEFT JOIN accounts acc ON acc.id = p.account_id
WHERE p.date_mismatch = 1
""",
    # Pending URLs have not been tried, so they say nothing about chain lengths. `hops`
    # counts the URLs requested, the link included (1 = it answered directly).
    "hop_counts": """
SELECT
  u.hops,
  count(*) AS urls,
  sum(u.status = 'resolved') AS resolved,
  sum(u.status = 'failed') AS failed,
  sum(u.status = 'blocked') AS blocked,
  sum(u.is_shortener = 1) AS shorteners
FROM urls u
WHERE u.status <> 'pending'
GROUP BY u.hops
""",
    **LIVENESS_VIEWS,
    # Computed per run (scraper.store.summaries), from the liveness views' own SQL.
    "link_rot_by_year": """
SELECT year, links_checked, links_dead, share_dead
FROM summary_link_rot
""",
}


def ensure_views(db: Database) -> None:
    """Create every view in :data:`VIEWS`, replacing any whose SQL differs; idempotent.

    A view whose stored SQL is already current is left alone, so calling this on every
    open does not rewrite the schema (which would make readers reload it).
    """
    existing = {
        name: sql
        for name, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'view'"
        ).fetchall()
    }
    # A savepoint, not `with db.conn`: it nests inside a transaction the caller may hold,
    # and readers never see a view dropped but not yet recreated.
    db.execute("SAVEPOINT ensure_views")
    try:
        for name, sql in VIEWS.items():
            wanted = f"CREATE VIEW [{name}] AS\n{sql.strip()}"
            if existing.get(name) == wanted:
                continue
            db.execute(f"DROP VIEW IF EXISTS [{name}]")
            db.execute(wanted)
    except BaseException:
        db.execute("ROLLBACK TO ensure_views")
        raise
    finally:
        db.execute("RELEASE ensure_views")
