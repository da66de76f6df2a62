"""The link-rot and deleted-post views (part of :data:`scraper.views.VIEWS`).

A link is *dead* when its latest check failed in a way that says the page or its host is
gone or broken (:data:`scraper.model.DEAD_CATEGORIES`); it has *rotted* when an
earlier check found it working. ``link_rot_by_year`` is the studies' measure: of the
links articles published in a year cite, the share that is dead now.
"""

from __future__ import annotations

from scraper.model import DEAD_CATEGORIES

_DEAD = "u.status = 'failed' AND u.error_category IN ({})".format(
    ", ".join(f"'{category}'" for category in DEAD_CATEGORIES)
)

LIVENESS_VIEWS: dict[str, str] = {
    # links that once worked and are dead now, with the articles citing them
    "rotted_links": f"""
SELECT
  u.id AS url_id,
  u.url,
  u.host,
  u.error_category,
  u.final_status_code,
  (SELECT max(k.checked_at) FROM url_checks k
   WHERE k.url_id = u.id AND k.status = 'resolved') AS last_alive_at,
  u.checked_at AS dead_at,
  u.archived_url,
  u.archived_at,
  (SELECT count(DISTINCT l.article_id) FROM links l WHERE l.url_id = u.id) AS articles,
  (SELECT a.url FROM links l JOIN articles a ON a.id = l.article_id
   WHERE l.url_id = u.id ORDER BY a.published, a.id LIMIT 1) AS first_article_url,
  (SELECT a.title FROM links l JOIN articles a ON a.id = l.article_id
   WHERE l.url_id = u.id ORDER BY a.published, a.id LIMIT 1) AS first_article_title
FROM urls u
WHERE {_DEAD}
  AND EXISTS (SELECT 1 FROM url_checks k WHERE k.url_id = u.id AND k.status = 'resolved')
ORDER BY u.checked_at DESC, u.id
""",
    # of the links cited by the articles of each year, how many are dead now
    "link_rot_by_year": f"""
SELECT
  substr(a.published, 1, 4) AS year,
  count(*) AS links_checked,
  sum(CASE WHEN {_DEAD} THEN 1 ELSE 0 END) AS links_dead,
  round(1.0 * sum(CASE WHEN {_DEAD} THEN 1 ELSE 0 END) / count(*), 3) AS share_dead
FROM (SELECT DISTINCT article_id, url_id FROM links) l
JOIN articles a ON a.id = l.article_id
JOIN urls u ON u.id = l.url_id
WHERE a.published IS NOT NULL AND u.checked_at IS NOT NULL AND u.status IN ('resolved', 'failed')
GROUP BY 1
ORDER BY 1
""",
    # cited posts that are no longer there (gone) or no longer public (restricted)
    "gone_posts": """
SELECT
  p.id AS post_id,
  p.platform,
  acc.handle,
  acc.display_name,
  p.url AS post_url,
  p.date,
  p.text,
  p.state,
  p.checked_at,
  (SELECT max(k.checked_at) FROM post_checks k
   WHERE k.post_id = p.id AND k.state = 'available') AS last_available_at,
  (SELECT k.detail FROM post_checks k
   WHERE k.post_id = p.id ORDER BY k.checked_at DESC, k.id DESC LIMIT 1) AS detail,
  p.archived_url,
  p.archived_at,
  (SELECT count(*) FROM citations c WHERE c.post_id = p.id) AS articles,
  (SELECT a.url FROM citations c JOIN articles a ON a.id = c.article_id
   WHERE c.post_id = p.id ORDER BY a.published, a.id LIMIT 1) AS first_article_url
FROM posts p
LEFT JOIN accounts acc ON acc.id = p.account_id
WHERE p.state IN ('gone', 'restricted')
ORDER BY p.checked_at DESC, p.id
""",
}
