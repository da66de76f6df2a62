"""Generate a realistic large citations database, for the Datasette benchmark.

    python bench/make_large_db.py /tmp/large.db              # 100k articles, 1M links
    python bench/make_large_db.py /tmp/small.db --scale 0.01

At scale 1: 100,000 articles, 300,000 posts (about 400,000 citations), 1,000,000 links,
300,000 URLs with redirect chains (about 500,000 hops), skewed the way real citations are:
accounts and target domains are drawn from a Zipf-like law, so a few take most. The
database is made by :func:`scraper.store.open_database` (the real schema, triggers and
views) and filled with plain SQL for speed; the summary tables are then refreshed, as the
end of a run does. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any

from scraper.store import open_database, refresh_summaries, write_transaction

WORDS = (
    "flood",
    "flooding",
    "river",
    "storm",
    "rain",
    "evacuation",
    "bridge",
    "city",
    "council",
    "mayor",
    "police",
    "fire",
    "election",
    "vote",
    "ballot",
    "court",
    "judge",
    "minister",
    "health",
    "hospital",
    "school",
    "water",
    "power",
    "outage",
    "road",
    "closed",
    "warning",
    "update",
    "breaking",
    "live",
    "video",
    "photo",
    "report",
    "statement",
    "thanks",
)
CJK_TEXTS = ("東京で洪水が発生しました", "大阪の台風情報", "北京暴雨成灾", "上海发布暴雨预警")
SHORTENERS = ("t.co", "bit.ly", "ow.ly", "buff.ly", "tinyurl.com", "dlvr.it")
ERROR_CATEGORIES = ("timeout", "dns", "connect", "tls", "http_4xx", "http_5xx", "loop")


def zipf_weights(n: int, exponent: float = 1.1) -> list[float]:
    """Cumulative Zipf-like weights for ranks 1..n (for ``random.choices``)."""
    return list(accumulate(1.0 / (rank**exponent) for rank in range(1, n + 1)))


def iso_day(rng: random.Random) -> str:
    """A day between 2012 and 2024."""
    year = rng.randint(2012, 2024)
    return f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


# Columns named, not positional: later migrations may add columns to these tables.
COLUMNS = {
    "accounts": "id platform handle display_name url first_seen_at",
    "articles": "id url source title published fetched_at http_status content_type "
    "content_sha256 etag last_modified encoding error first_seen_at updated_at n_posts n_links "
    "canonical_url final_url",
    "posts": "id platform post_id account_id date date_text posted_at date_mismatch text lang "
    "url first_seen_at updated_at",
    "citations": "article_id post_id kind position",
    "urls": "id url host is_shortener status expanded_url final_url final_status_code hops "
    "error error_category attempts first_seen_at checked_at resolved_at next_attempt_at",
    "redirects": "url_id hop url status_code location via",
    "links": "article_id position post_id url_id text context",
}


def insert(db: Any, table: str, rows: Iterator[Sequence[Any]], width: int) -> int:
    """executemany ``rows`` into ``table``; returns the number of rows."""
    columns = COLUMNS[table].split()
    assert len(columns) == width, table
    marks = ", ".join("?" * width)
    names = ", ".join(f"[{c}]" for c in columns)
    count = 0

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    db.conn.executemany(f"INSERT INTO [{table}] ({names}) VALUES ({marks})", counted())
    return count


def generate(path: Path, scale: float = 1.0, seed: int = 13) -> dict[str, int]:
    """Write the database at ``path`` (which must not exist); returns row counts."""
    rng = random.Random(seed)
    n_articles = max(10, int(100_000 * scale))
    n_posts = max(30, int(300_000 * scale))
    n_links = max(100, int(1_000_000 * scale))
    n_urls = max(30, int(300_000 * scale))
    n_accounts = max(10, int(30_000 * scale))
    n_domains = max(10, int(5_000 * scale))
    db = open_database(path)
    counts: dict[str, int] = {}
    account_weights = zipf_weights(n_accounts)
    domain_weights = zipf_weights(n_domains)
    url_weights = zipf_weights(n_urls, 0.8)
    now = "2024-06-01T00:00:00+00:00"
    with write_transaction(db):
        counts["accounts"] = insert(
            db,
            "accounts",
            (
                (i, "twitter", f"user{i}", f"User {i}", f"https://twitter.com/user{i}", now)
                for i in range(1, n_accounts + 1)
            ),
            6,
        )
        articles = []
        for i in range(1, n_articles + 1):
            day = iso_day(rng)
            articles.append(
                (i, f"https://news{i % 50}.example/{day}/story-{i}", f"feed{i % 50}",
                 f"Story {i}: " + " ".join(rng.choices(WORDS, k=6)), day, now, 200,
                 "text/html", f"{i:064x}", None, None, "utf-8", None, now, now, 0, 0,
                 None, None)
            )  # fmt: skip
        counts["articles"] = insert(db, "articles", iter(articles), 19)
        posts = []
        post_accounts = rng.choices(
            range(1, n_accounts + 1), cum_weights=account_weights, k=n_posts
        )
        for i in range(n_posts):
            day = iso_day(rng)
            text = (
                rng.choice(CJK_TEXTS) if rng.random() < 0.02 else " ".join(rng.choices(WORDS, k=12))
            )
            mismatch = 1 if rng.random() < 0.01 else 0
            posts.append(
                (f"twitter:{10**17 + i}", "twitter", str(10**17 + i), post_accounts[i], day,
                 day, f"{day}T12:00:00+00:00", mismatch, text, "en",
                 f"https://twitter.com/user{post_accounts[i]}/status/{10**17 + i}", now, now)
            )  # fmt: skip
        counts["posts"] = insert(db, "posts", iter(posts), 13)
        # Every post is cited once; popular accounts' posts are cited again elsewhere.
        citations: set[tuple[int, int]] = set()
        article_posts: dict[int, list[int]] = {}
        for post in range(n_posts):
            citations.add((rng.randint(1, n_articles), post))
        extra = rng.choices(range(n_posts), k=n_posts // 3)
        for post in extra:
            citations.add((rng.randint(1, n_articles), post))
        for article, post in citations:
            article_posts.setdefault(article, []).append(post)
        counts["citations"] = insert(
            db,
            "citations",
            (
                (article, posts[post][0], "blockquote", position)
                for article, cited in article_posts.items()
                for position, post in enumerate(cited)
            ),
            4,
        )
        urls = []
        domains = rng.choices(range(n_domains), cum_weights=domain_weights, k=n_urls)
        hops_rows = []
        for i in range(1, n_urls + 1):
            target = f"https://www.site{domains[i - 1]}.example/page/{i}"
            shortener = rng.random() < 0.4
            url = f"https://{rng.choice(SHORTENERS)}/{i:x}" if shortener else target
            host = url.split("/")[2]
            roll = rng.random()
            if roll < 0.8:
                status, code = "resolved", (404 if rng.random() < 0.05 else 200)
                hops = rng.randint(2, 4) if shortener else 1
                error = category = None
                final, expanded = target, target
            elif roll < 0.88:
                status, code, hops, final, expanded = "failed", None, 1, None, None
                category = rng.choice(ERROR_CATEGORIES)
                error = f"{category}: generated"
            elif roll < 0.89:
                status, code, hops, final, expanded = "blocked", None, 2, None, "http://10.0.0.1/"
                category, error = "blocked", "blocked: generated"
            else:
                status, code, hops, final, expanded, category, error = (
                    "pending",
                    None,
                    0,
                    None,
                    None,
                    None,
                    None,
                )
            urls.append(
                (i, url, host, int(shortener), status, expanded, final, code, hops, error,
                 category, 1 if hops else 0, now, now if hops else None,
                 now if status == "resolved" else None, None)
            )  # fmt: skip
            for hop in range(1, hops + 1):
                last = hop == hops
                hop_url = url if hop == 1 else f"https://hop{hop}.example/{i:x}"
                hops_rows.append(
                    (i, hop, hop_url, code if last else 301,
                     None if last else f"https://hop{hop + 1}.example/{i:x}",
                     "none" if last else "header")
                )  # fmt: skip
        counts["urls"] = insert(db, "urls", iter(urls), 16)
        counts["redirects"] = insert(db, "redirects", iter(hops_rows), 6)
        # Links: about ten per article; those at the posts' positions sit inside a cited post.
        url_ids = rng.choices(range(1, n_urls + 1), cum_weights=url_weights, k=n_links)
        link_rows = []
        per_article = n_links // n_articles
        for article in range(1, n_articles + 1):
            cited = article_posts.get(article, [])
            for position in range(per_article):
                index = (article - 1) * per_article + position
                post = cited[position % len(cited)] if cited and position % 5 < 2 else None
                link_rows.append(
                    (article, position, posts[post][0] if post is not None else None,
                     url_ids[index], "", "post" if post is not None else "article")
                )  # fmt: skip
        counts["links"] = insert(db, "links", iter(link_rows), 6)
        db.execute(
            "UPDATE articles SET n_posts = (SELECT count(*) FROM citations c"
            " WHERE c.article_id = articles.id), n_links = ?",
            [per_article],
        )
    started = time.perf_counter()
    refresh_summaries(db)
    counts["refresh_ms"] = int((time.perf_counter() - started) * 1000)
    db.execute("ANALYZE")
    db.close()
    return counts


def main(argv: list[str] | None = None) -> int:
    """Command line: the database path, --scale, --seed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    if args.path.exists():
        print(f"{args.path} exists; give a new path", file=sys.stderr)
        return 2
    started = time.perf_counter()
    counts = generate(args.path, args.scale, args.seed)
    print(f"{args.path}: {counts} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
