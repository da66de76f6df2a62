"""Full-text search in Datasette: by stem, by prefix, and in Japanese and Chinese text.

``posts_fts`` uses the porter stemmer (the posts page's search box, in raw mode for
prefixes); ``posts_trigram`` finds substrings of text written without spaces, through the
``search-posts`` canned query. Both are kept up to date by triggers on ``posts``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import pytest_asyncio
from datasette.app import Datasette

from scraper.model import Article, Post
from scraper.serve import build_datasette
from scraper.store import open_database, save_article

TEXTS = {
    "1": "Flooding closed the old bridge this morning",
    "2": "Evacuation orders for the lower town",
    "3": "東京で洪水が発生しました",
    "4": "北京暴雨成灾，多条道路积水",
    "5": "Sunny skies over the coast",
}
on_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(tmp_path_factory: pytest.TempPathFactory) -> Datasette:
    path = tmp_path_factory.mktemp("search") / "search.db"
    db = open_database(path)
    posts = [
        Post(platform="twitter", kind="blockquote", post_id=f"10{key}", handle=f"user{key}",
             text=text, url=f"https://twitter.com/user{key}/status/10{key}")
        for key, text in TEXTS.items()
    ]  # fmt: skip
    save_article(
        db,
        Article(source="s.html", url="https://news.example/s", title="Storm floods", posts=posts),
        source="s.html",
        fetched_at="2024-05-04T09:00:00+00:00",
    )
    # A post's text changing later (a fuller embed) is found by its new text only.
    db.execute("UPDATE posts SET text = ? WHERE post_id = '105'", ["Sunny skies, then a flood"])
    db.conn.commit()
    db.close()
    datasette = build_datasette(path)
    await datasette.invoke_startup()
    return datasette


async def found(ds: Datasette, path: str) -> set[str]:
    response = await ds.client.get(path)
    assert response.status_code == 200, response.text[:300]
    rows: list[dict[str, Any]] = response.json()
    return {str(row.get("post_id") or row.get("id")).rsplit("10", 1)[-1] for row in rows}


@on_module_loop
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("flood", {"1", "5"}),
        ("flooded", {"1", "5"}),
        ("evac*", {"2"}),
        ("bridge OR town", {"1", "2"}),
    ],
)
async def test_posts_search_box_matches_stems_and_prefixes(
    ds: Datasette, query: str, expected: set[str]
) -> None:
    """The posts page's search finds "Flooding" for flood and flooded, and evac* by prefix."""
    assert await found(ds, f"/search/posts.json?_search={quote(query)}&_shape=array") == expected


@on_module_loop
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("洪水", {"3"}),
        ("発生しました", {"3"}),
        ("暴雨", {"4"}),
        ("道路积水", {"4"}),
        ("flooding", {"1", "5"}),
    ],
)
async def test_search_posts_finds_japanese_and_chinese_substrings(
    ds: Datasette, query: str, expected: set[str]
) -> None:
    """search-posts finds words inside text written without spaces, and stems as well."""
    path = f"/search/search-posts.json?q={quote(query)}&_shape=array"
    assert await found(ds, path) == expected


@on_module_loop
async def test_search_posts_with_an_empty_query_returns_nothing(ds: Datasette) -> None:
    """An empty or blank query matches no post rather than every post."""
    assert await found(ds, "/search/search-posts.json?q=+&_shape=array") == set()
