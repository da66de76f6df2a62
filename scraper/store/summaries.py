"""Summary tables: the reporting views' aggregates, computed once per run instead of per page.

At a million links, counting citations per account or links per target domain takes
seconds; Datasette's pages must answer in well under one. Each ``summary_*`` table holds
the rows of one reporting view (:mod:`scraper.views` reads them); :func:`refresh_summaries`
recomputes them all in one transaction at the end of each ``scraper run``, ``scraper
resolve`` and ``scraper check`` of the database, so a reader sees the previous summaries
until the new ones are committed, never a half-built table. The tables themselves are created by
migration ``0007_datasette_speed`` (:mod:`scraper.store.migrations`).
"""

from __future__ import annotations

from sqlite_utils import Database

from scraper.liveness_views import LIVENESS_VIEWS
from scraper.store.transaction import write_transaction

# A link's target: where it finally went, else the first non-shortener URL, else itself.
TARGET_SQL = "COALESCE(u.final_url, u.expanded_url, u.url)"
POST_DATE_SQL = "COALESCE(p.date, substr(p.posted_at, 1, 10))"

# The host of `target` (lower-cased, no scheme, user, port, path, query or fragment) in
# plain SQL, so no Python function has to be registered on the connection. Each step is
# MATERIALIZED: flattened, every step would inline the previous ones' expressions again
# and again (ten times slower at a million links). Computed once per URL, not per link.
_DOMAIN_STEPS = """
stripped AS MATERIALIZED (
  SELECT *,
    CASE WHEN instr(target, '://') > 0
      THEN substr(target, instr(target, '://') + 3) ELSE target END AS rest
  FROM targets
),
cut AS MATERIALIZED (
  SELECT *, replace(replace(rest, '?', '/'), '#', '/') || '/' AS rest_slash FROM stripped
),
hosts AS MATERIALIZED (
  SELECT *, substr(rest_slash, 1, instr(rest_slash, '/') - 1) AS hostport FROM cut
),
bare AS MATERIALIZED (
  SELECT *,
    CASE WHEN instr(hostport, '@') > 0
      THEN substr(hostport, instr(hostport, '@') + 1) ELSE hostport END AS host_only
  FROM hosts
),
domains AS MATERIALIZED (
  SELECT *,
    CASE
      WHEN substr(host_only, 1, 1) = '[' THEN substr(host_only, 1, instr(host_only, ']'))
      WHEN instr(host_only, ':') > 0 THEN substr(host_only, 1, instr(host_only, ':') - 1)
      ELSE host_only
    END AS host_noport
  FROM bare
)
"""

# summary table -> the SELECT that fills it (columns in the table's order).
SUMMARIES: dict[str, str] = {
    "summary_accounts": f"""
SELECT
  acc.id, acc.platform, acc.handle, acc.display_name,
  count(*), count(DISTINCT c.post_id), count(DISTINCT c.article_id),
  min({POST_DATE_SQL}), max({POST_DATE_SQL})
FROM citations c
JOIN posts p ON p.id = c.post_id
JOIN accounts acc ON acc.id = p.account_id
GROUP BY acc.id
""",
    # The day a post says it was made, else the day from its id (UTC); NULL when neither.
    "summary_days": f"""
SELECT
  {POST_DATE_SQL}, count(*), count(DISTINCT c.post_id), count(DISTINCT p.account_id),
  count(DISTINCT c.article_id)
FROM citations c
JOIN posts p ON p.id = c.post_id
GROUP BY 1
""",
    "summary_articles": """
SELECT
  a.id,
  (SELECT count(*) FROM citations c WHERE c.article_id = a.id),
  (
    SELECT count(DISTINCT p.account_id)
    FROM citations c JOIN posts p ON p.id = c.post_id
    WHERE c.article_id = a.id
  ),
  (SELECT count(*) FROM links l WHERE l.article_id = a.id)
FROM articles a
""",
    # One row per (post, URL): a post cited by two articles has its links twice in
    # `links`, once per article, but one set of targets.
    "summary_post_targets": f"""
SELECT
  p.id, p.platform, acc.handle, {POST_DATE_SQL}, p.url,
  u.id, u.url, u.host, u.is_shortener, u.status, u.expanded_url, u.final_url,
  u.final_status_code, u.hops, u.error_category, {TARGET_SQL}
FROM (SELECT DISTINCT post_id, url_id FROM links WHERE post_id IS NOT NULL) l
JOIN posts p ON p.id = l.post_id
JOIN urls u ON u.id = l.url_id
LEFT JOIN accounts acc ON acc.id = p.account_id
""",
    "summary_target_domains": f"""
WITH targets AS MATERIALIZED (
  SELECT u.id AS url_id, lower({TARGET_SQL}) AS target FROM urls u
),
{_DOMAIN_STEPS.strip()},
url_domains AS MATERIALIZED (
  SELECT url_id,
    CASE WHEN host_noport LIKE 'www.%' THEN substr(host_noport, 5) ELSE host_noport END AS domain
  FROM domains
)
SELECT
  d.domain, count(*), count(l.post_id), count(DISTINCT l.url_id), count(DISTINCT l.post_id),
  count(DISTINCT l.article_id)
FROM links l JOIN url_domains d ON d.url_id = l.url_id
GROUP BY d.domain
""",
    "summary_shortener_hosts": """
WITH link_counts AS (
  SELECT u.host, count(*) AS links
  FROM links l JOIN urls u ON u.id = l.url_id
  WHERE u.is_shortener = 1
  GROUP BY u.host
)
SELECT
  u.host,
  count(*),
  sum(u.status = 'resolved'),
  sum(u.status = 'failed'),
  sum(u.status = 'blocked'),
  sum(u.status = 'pending'),
  max(u.hops),
  COALESCE((SELECT links FROM link_counts lc WHERE lc.host = u.host), 0)
FROM urls u
WHERE u.is_shortener = 1
GROUP BY u.host
""",
    # Link rot by the citing article's year: the liveness views' own SQL, computed per run
    # (over every distinct article and link, it takes seconds at a million links).
    "summary_link_rot": f"SELECT * FROM ({LIVENESS_VIEWS['link_rot_by_year'].strip()})",
}


def refresh_summaries(db: Database) -> None:
    """Recompute every summary table from the tables, in one transaction.

    Readers (Datasette) keep seeing the previous summaries until the commit.
    """
    with write_transaction(db):
        for table, select in SUMMARIES.items():
            db.execute(f"DELETE FROM [{table}]")
            db.execute(f"INSERT INTO [{table}] {select.strip()}")
