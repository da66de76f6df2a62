"""SQL views for people who query the database directly (and for Datasette's canned queries).

Each view answers one question a reader asks of the citations: who is cited most, where
the posts' links really go, which links are dead. They are plain SQL over the tables that
:mod:`scraper.store` declares, so they work in the ``sqlite3`` shell, in Datasette and in
any other SQLite client, with no functions registered by this package.

:func:`ensure_views` drops and recreates them, so a newer version of the SQL always
replaces an older one; views hold no data, so this loses nothing.
"""

from __future__ import annotations

from sqlite_utils import Database

from scraper.liveness_views import LIVENESS_VIEWS

# A link's target: where it finally went, else the first non-shortener URL, else itself
# (still pending, or failed before the first hop).
TARGET_SQL = "COALESCE(u.final_url, u.expanded_url, u.url)"

# The host of `target` (lower-cased, no scheme, port, path, query or fragment, no "www.")
# in plain SQL, so the view needs no Python function registered on the connection.
_DOMAIN_STEPS = """
stripped AS (
  SELECT *,
    CASE WHEN instr(target, '://') > 0
      THEN substr(target, instr(target, '://') + 3) ELSE target END AS rest
  FROM targets
),
cut AS (
  SELECT *, replace(replace(rest, '?', '/'), '#', '/') || '/' AS rest_slash FROM stripped
),
hosts AS (
  SELECT *, substr(rest_slash, 1, instr(rest_slash, '/') - 1) AS hostport FROM cut
),
bare AS (
  SELECT *,
    CASE WHEN instr(hostport, '@') > 0
      THEN substr(hostport, instr(hostport, '@') + 1) ELSE hostport END AS host_only
  FROM hosts
),
domains AS (
  SELECT *,
    CASE
      WHEN substr(host_only, 1, 1) = '[' THEN substr(host_only, 1, instr(host_only, ']'))
      WHEN instr(host_only, ':') > 0 THEN substr(host_only, 1, instr(host_only, ':') - 1)
      ELSE host_only
    END AS host_noport
  FROM bare
)
"""

VIEWS: dict[str, str] = {
    "most_cited_accounts": """
SELECT
  acc.id AS account_id,
  acc.platform,
  acc.handle,
  acc.display_name,
  count(*) AS citations,
  count(DISTINCT c.post_id) AS posts,
  count(DISTINCT c.article_id) AS articles,
  min(COALESCE(p.date, substr(p.posted_at, 1, 10))) AS first_post_date,
  max(COALESCE(p.date, substr(p.posted_at, 1, 10))) AS last_post_date
FROM citations c
JOIN posts p ON p.id = c.post_id
JOIN accounts acc ON acc.id = p.account_id
GROUP BY acc.id
ORDER BY citations DESC, articles DESC, lower(acc.handle)
""",
    # The day a post says it was made; when the page did not show a readable date, the day
    # derived from the post's id (UTC). Citations of posts with neither have date NULL.
    "citations_per_day": """
SELECT
  COALESCE(p.date, substr(p.posted_at, 1, 10)) AS date,
  count(*) AS citations,
  count(DISTINCT c.post_id) AS posts,
  count(DISTINCT p.account_id) AS accounts,
  count(DISTINCT c.article_id) AS articles
FROM citations c
JOIN posts p ON p.id = c.post_id
GROUP BY 1
ORDER BY 1
""",
    "posts_per_article": """
SELECT
  a.id AS article_id,
  a.title,
  a.url,
  a.published,
  (SELECT count(*) FROM citations c WHERE c.article_id = a.id) AS posts,
  (
    SELECT count(DISTINCT p.account_id)
    FROM citations c JOIN posts p ON p.id = c.post_id
    WHERE c.article_id = a.id
  ) AS accounts,
  (SELECT count(*) FROM links l WHERE l.article_id = a.id) AS links,
  a.error
FROM articles a
ORDER BY posts DESC, a.id
""",
    # One row per (post, URL): the same post cited by two articles carries its links twice
    # in `links`, once per article, but has one set of targets.
    "post_targets": f"""
SELECT
  p.id AS post_id,
  p.platform,
  acc.handle,
  COALESCE(p.date, substr(p.posted_at, 1, 10)) AS post_date,
  p.url AS post_url,
  u.id AS url_id,
  u.url AS link_url,
  u.host AS link_host,
  u.is_shortener,
  u.status,
  u.expanded_url,
  u.final_url,
  u.final_status_code,
  u.hops,
  u.error_category,
  {TARGET_SQL} AS target
FROM links l
JOIN posts p ON p.id = l.post_id
JOIN urls u ON u.id = l.url_id
LEFT JOIN accounts acc ON acc.id = p.account_id
GROUP BY p.id, u.id
ORDER BY p.id, min(l.article_id), min(l.position)
""",
    "top_target_domains": f"""
WITH targets AS (
  SELECT l.article_id, l.post_id, l.url_id, lower({TARGET_SQL}) AS target
  FROM links l JOIN urls u ON u.id = l.url_id
),
{_DOMAIN_STEPS.strip()}
SELECT
  CASE WHEN host_noport LIKE 'www.%' THEN substr(host_noport, 5) ELSE host_noport END AS domain,
  count(*) AS links,
  count(post_id) AS post_links,
  count(DISTINCT url_id) AS urls,
  count(DISTINCT post_id) AS posts,
  count(DISTINCT article_id) AS articles
FROM domains
GROUP BY 1
ORDER BY links DESC, domain
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
ORDER BY category, u.host, u.id
""",
    "shorteners_by_host": """
SELECT
  u.host,
  count(*) AS urls,
  sum(u.status = 'resolved') AS resolved,
  sum(u.status = 'failed') AS failed,
  sum(u.status = 'blocked') AS blocked,
  sum(u.status = 'pending') AS pending,
  max(u.hops) AS max_hops,
  (SELECT count(*) FROM links l JOIN urls lu ON lu.id = l.url_id WHERE lu.host = u.host) AS links
FROM urls u
WHERE u.is_shortener = 1
GROUP BY u.host
ORDER BY urls DESC, u.host
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
ORDER BY abs(julianday(p.date) - julianday(substr(p.posted_at, 1, 10))) DESC, p.id
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
ORDER BY u.hops
""",
    **LIVENESS_VIEWS,
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
