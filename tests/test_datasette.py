"""The database in a real Datasette: metadata, labels, canned queries, search, links.

A small citations database is built through the store from hand-made articles and
resolutions, so every expected value below follows from the data in this file. Requests go
through Datasette's own ASGI test client (no network); one test starts ``scraper serve``'s
server on a loopback port.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from datasette.app import Datasette
from datasette.utils import parse_metadata
from markupsafe import escape

from scraper.datasette_config import build_metadata, load_metadata, metadata_path
from scraper.datasette_plugin import post_url, render_cell
from scraper.model import Article, Entity, Hop, Link, Post, Resolution
from scraper.parse import parse_document
from scraper.serve import build_datasette, register_plugin
from scraper.store import open_database, save_article, save_resolution
from scraper.views import VIEWS, ensure_views

P1 = "1785000000000000001"
P2 = "1785000000000000002"
P3 = "1781000000000000003"
FETCHED_AT = "2024-05-04T09:00:00+00:00"
CHECKED_AT = datetime(2024, 5, 4, 10, 0, tzinfo=UTC)


def sample_articles() -> list[Article]:
    """Two articles: one post cited by both, a case-variant handle, a date mismatch."""
    floods = Article(
        source="tests/floods.html",
        url="https://news.example/floods",
        title="Floods hit the valley",
        published="2024-05-02",
        posts=[
            Post(
                platform="twitter",
                kind="blockquote",
                post_id=P1,
                handle="RiverWatch",
                display_name="River Watch",
                date="2024-05-01",
                date_text="May 1, 2024",
                posted_at="2024-05-01T10:00:00+00:00",
                text="The river is rising fast near the old bridge https://t.co/abc",
                lang="en",
                url=f"https://twitter.com/RiverWatch/status/{P1}",
                links=["https://t.co/abc"],
            ),
            Post(
                platform="twitter",
                kind="blockquote",
                post_id=P2,
                handle="MayorJane",
                display_name="Jane Doe",
                date="2024-05-01",
                date_text="May 1, 2024",
                posted_at="2024-05-01T12:00:00+00:00",
                text="Evacuation centre open at the school #flood",
                lang="en",
                url=f"https://twitter.com/MayorJane/status/{P2}",
                links=["https://bit.ly/dead1"],
                entities=[Entity("hashtag", "flood", 37, 43)],
            ),
        ],
        links=[
            Link("https://www.city.example/news", "city news", "article", None, 0),
            Link("https://t.co/abc", "t.co/abc", "post", 0, 1),
            Link("https://bit.ly/dead1", "bit.ly/dead1", "post", 1, 2),
        ],
    )
    reactions = Article(
        source="tests/reactions.html",
        url="https://news.example/reactions",
        title="Reactions to the floods",
        published="2024-05-03",
        posts=[
            Post(
                platform="twitter",
                kind="rendered",
                post_id=P1,
                url=f"https://twitter.com/i/web/status/{P1}",
            ),
            Post(
                platform="twitter",
                kind="text-signature",
                post_id=P3,
                handle="riverwatch",
                date="2024-05-02",
                date_text="2 May 2024",
                posted_at="2024-04-20T08:00:00+00:00",
                date_mismatch=True,
                text="Sandbags are available at the depot",
                url=f"https://twitter.com/riverwatch/status/{P3}",
            ),
        ],
        links=[Link("https://t.co/xyz", "", "article", None, 0)],
    )
    return [floods, reactions]


def sample_resolutions() -> list[Resolution]:
    """One resolved, one failed (dns) and one blocked short link."""
    return [
        Resolution(
            url="https://t.co/abc",
            status="resolved",
            expanded_url="https://www.city.example/flood-map",
            final_url="https://www.city.example/flood-map",
            final_status_code=200,
            hops=[
                Hop("https://t.co/abc", 301, "https://www.city.example/flood-map", "header"),
                Hop("https://www.city.example/flood-map", 200, None, "none"),
            ],
        ),
        Resolution(
            url="https://bit.ly/dead1",
            status="failed",
            expanded_url="https://gone.example/x",
            final_url="https://gone.example/x",
            error="dns: gone.example does not resolve",
            hops=[Hop("https://bit.ly/dead1", 301, "https://gone.example/x", "header")],
        ),
        Resolution(
            url="https://t.co/xyz",
            status="blocked",
            expanded_url="http://10.0.0.1/admin",
            error="blocked: 10.0.0.1 is a private address",
            hops=[Hop("https://t.co/xyz", 301, "http://10.0.0.1/admin", "header")],
        ),
    ]


def build_sample_database(path: Path) -> Path:
    """Save the sample articles and resolutions into a new database at ``path``."""
    db = open_database(path)
    ensure_views(db)
    for article in sample_articles():
        save_article(db, article, source=article.source, fetched_at=FETCHED_AT)
    for resolution in sample_resolutions():
        save_resolution(db, resolution, now=CHECKED_AT)
    db.close()
    return path


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_database(tmp_path_factory.mktemp("datasette") / "citations.db")


# One Datasette (and one event loop) for the module: building one per test costs more than
# the tests themselves.
on_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ds(db_path: Path) -> Datasette:
    datasette = build_datasette(db_path)
    await datasette.invoke_startup()
    return datasette


async def get_json(ds: Datasette, path: str) -> Any:
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def user_tables(path: Path) -> dict[str, list[str]]:
    """Every table and view a Datasette user sees (no FTS or SQLite internals): columns."""
    conn = sqlite3.connect(path)
    try:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts' "
                "AND name NOT LIKE '%_fts_%' AND name NOT LIKE 'posts_trigram%'"
            )
        ]
        return {
            name: [row[1] for row in conn.execute(f"PRAGMA table_info([{name}])")] for name in names
        }
    finally:
        conn.close()


# --- metadata ------------------------------------------------------------------------------


def test_packaged_metadata_loads_the_way_datasette_loads_it() -> None:
    """The shipped YAML parses with Datasette's own loader into what load_metadata returns."""
    assert metadata_path().is_file()
    parsed = parse_metadata(metadata_path().read_text(encoding="utf-8"))
    assert parsed == load_metadata()
    assert parsed["database"]["title"]


def test_metadata_files_in_json_or_bad_form(tmp_path: Path) -> None:
    """load_metadata reads JSON too; an unreadable or non-mapping file is a ValueError."""
    as_json = tmp_path / "m.json"
    as_json.write_text('{"title": "a\\/b", "databases": {}}', encoding="utf-8")
    assert load_metadata(as_json) == {"title": "a/b", "databases": {}}
    broken = tmp_path / "broken.yml"
    broken.write_text("title: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.yml"):
        load_metadata(broken)
    listing = tmp_path / "list.yml"
    listing.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a mapping"):
        load_metadata(listing)
    with pytest.raises(ValueError, match="missing"):
        load_metadata(tmp_path / "missing.yml")


def test_every_table_view_and_column_is_described(db_path: Path) -> None:
    """Each table and view of a real database, and each of its columns, has a description."""
    described = load_metadata()["database"]["tables"]
    for name, columns in user_tables(db_path).items():
        assert name in described, f"no metadata for {name}"
        assert described[name].get("description"), f"no description for {name}"
        if described[name].get("hidden"):
            continue
        column_docs = described[name].get("columns", {})
        missing = [column for column in columns if not column_docs.get(column)]
        assert not missing, f"{name}: undescribed columns {missing}"


def test_metadata_names_only_real_tables_and_columns(db_path: Path) -> None:
    """No metadata entry, sort, facet or label names a table or column that does not exist."""
    tables = user_tables(db_path)
    described = load_metadata()["database"]["tables"]
    for name, entry in described.items():
        assert name in tables, f"metadata for missing table {name}"
        columns = set(tables[name])
        assert set(entry.get("columns", {})) <= columns, name
        named = [entry.get(key) for key in ("label_column", "sort", "sort_desc")]
        named += [
            f if isinstance(f, str) else next(iter(f.values())) for f in entry.get("facets", [])
        ]
        assert {n for n in named if n} <= columns, name


def test_build_metadata_points_links_at_each_database() -> None:
    """Each database of ours gets the template, its links pointing at its own pages."""
    template = load_metadata()
    metadata = build_metadata(
        template, {"my news": ("/my+news", "/-/dashboards/my%20news", {"posts"})}
    )
    entry = metadata["databases"]["my news"]
    assert 'href="/my+news/most-cited-accounts"' in entry["description_html"]
    assert 'href="/-/dashboards/my%20news"' in entry["description_html"]
    assert "{db}" not in str(metadata) and "{dashboard}" not in str(metadata)
    assert 'href="/my+news/most-cited-accounts"' in metadata["description_html"]
    dashboard = metadata["plugins"]["datasette-dashboards"]["my news"]
    assert {chart["db"] for chart in dashboard["charts"].values()} == {"my news"}
    assert "{db}" in template["database"]["description_html"]  # the template is untouched


# --- Datasette over the JSON API ---------------------------------------------------------


@on_module_loop
async def test_database_lists_every_table_and_view_with_its_description(
    ds: Datasette, db_path: Path
) -> None:
    """/citations.json lists the tables and views; each page shows its description."""
    data = await get_json(ds, "/citations.json")
    listed = {t["name"] for t in data["tables"] if not t["hidden"]} | {
        v["name"] for v in data["views"]
    }
    served = (await get_json(ds, "/-/metadata.json"))["databases"]["citations"]["tables"]
    hidden = {name for name, entry in served.items() if entry.get("hidden")}
    expected = set(user_tables(db_path)) - {"_sqlite_migrations"}
    assert listed == expected - hidden
    for name in sorted(expected):
        description = served[name]["description"]
        page = await ds.client.get(f"/citations/{name}?_nosuggest=1")
        assert page.status_code == 200, name
        assert str(escape(description)) in page.text, name


@on_module_loop
async def test_first_page_says_what_it_is_and_links_the_most_cited_accounts(
    ds: Datasette,
) -> None:
    """The index and database pages describe the data and link the most-cited accounts."""
    for path in ("/", "/citations"):
        page = await ds.client.get(path)
        assert "Which social posts" in page.text or "One row per thing" in page.text
        assert 'href="/citations/most-cited-accounts"' in page.text
        assert 'href="/-/dashboards/citations"' in page.text
    listed = await get_json(ds, "/citations.json")
    titles = {q["name"]: q["title"] for q in listed["queries"]}
    assert titles["most-cited-accounts"] == "Most-cited accounts"


@on_module_loop
async def test_foreign_keys_show_handles_titles_texts_and_urls(ds: Datasette) -> None:
    """?_labels=on labels account ids with handles, articles with titles, URLs with URLs."""
    posts = await get_json(ds, "/citations/posts.json?_labels=on&_shape=array")
    labels = {p["id"]: p["account_id"]["label"] for p in posts}
    assert labels == {
        f"twitter:{P1}": "RiverWatch",
        f"twitter:{P2}": "MayorJane",
        f"twitter:{P3}": "RiverWatch",
    }
    links = await get_json(ds, "/citations/links.json?_labels=on&_shape=array&article_id=1")
    assert [link["url_id"]["label"] for link in links] == [
        "https://www.city.example/news",
        "https://t.co/abc",
        "https://bit.ly/dead1",
    ]
    assert {link["article_id"]["label"] for link in links} == {"Floods hit the valley"}
    assert links[1]["post_id"]["label"] == sample_articles()[0].posts[0].text


@on_module_loop
async def test_default_sort_and_facets_come_from_metadata(ds: Datasette) -> None:
    """posts sort by date, newest first; urls offer status and error_category facets."""
    posts = await get_json(ds, "/citations/posts.json?_shape=objects")
    assert [p["date"] for p in posts["rows"]] == ["2024-05-02", "2024-05-01", "2024-05-01"]
    assert posts["human_description_en"] == "sorted by date descending"
    assert list(posts["facet_results"]) == ["platform", "date", "lang", "date_mismatch"]
    urls = await get_json(ds, "/citations/urls.json")
    facets = urls["facet_results"]
    status = {r["value"]: r["count"] for r in facets["status"]["results"]}
    assert status == {"pending": 1, "resolved": 1, "failed": 1, "blocked": 1}
    categories = {r["value"]: r["count"] for r in facets["error_category"]["results"]}
    assert categories == {"dns": 1, "blocked": 1}


@on_module_loop
async def test_search_finds_posts_and_articles_by_a_word(ds: Datasette) -> None:
    """Datasette's search box finds a post by a word of its text and an article by title."""
    posts = await get_json(ds, "/citations/posts.json?_search=sandbags&_shape=array")
    assert [p["id"] for p in posts] == [f"twitter:{P3}"]
    articles = await get_json(ds, "/citations/articles.json?_search=reactions&_shape=array")
    assert [a["title"] for a in articles] == ["Reactions to the floods"]


EXPECTED_QUERIES: dict[str, list[dict[str, Any]]] = {
    # no link here worked before failing and no post was checked: only link rot by year
    # counts (the two resolved-or-failed links of 2024 articles, one of them dead)
    "rotted-links": [],
    "link-rot-by-year": [
        {"year": "2024", "links_checked": 2, "links_dead": 1, "percent_dead": 50.0}
    ],
    "gone-posts": [],
    "most-cited-accounts": [
        {
            "handle": "RiverWatch",
            "display_name": "River Watch",
            "platform": "twitter",
            "citations": 3,
            "posts": 2,
            "articles": 2,
            "first_post_date": "2024-05-01",
            "last_post_date": "2024-05-02",
            "account_id": 1,
        },
        {
            "handle": "MayorJane",
            "display_name": "Jane Doe",
            "platform": "twitter",
            "citations": 1,
            "posts": 1,
            "articles": 1,
            "first_post_date": "2024-05-01",
            "last_post_date": "2024-05-01",
            "account_id": 2,
        },
    ],
    "citations-per-day": [
        {"date": "2024-05-01", "citations": 3, "posts": 2, "accounts": 2, "articles": 2},
        {"date": "2024-05-02", "citations": 1, "posts": 1, "accounts": 1, "articles": 1},
    ],
    "posts-per-article": [
        {
            "title": "Floods hit the valley",
            "url": "https://news.example/floods",
            "published": "2024-05-02",
            "posts": 2,
            "accounts": 2,
            "links": 3,
            "article_id": 1,
            "error": None,
        },
        {
            "title": "Reactions to the floods",
            "url": "https://news.example/reactions",
            "published": "2024-05-03",
            "posts": 2,
            "accounts": 1,
            "links": 1,
            "article_id": 2,
            "error": None,
        },
    ],
    "post-targets": [
        {
            "handle": "RiverWatch",
            "post_date": "2024-05-01",
            "post_url": f"https://twitter.com/RiverWatch/status/{P1}",
            "link_url": "https://t.co/abc",
            "target": "https://www.city.example/flood-map",
            "status": "resolved",
            "final_status_code": 200,
            "error_category": None,
            "hops": 2,
            "post_id": f"twitter:{P1}",
            "url_id": 2,
        },
        {
            "handle": "MayorJane",
            "post_date": "2024-05-01",
            "post_url": f"https://twitter.com/MayorJane/status/{P2}",
            "link_url": "https://bit.ly/dead1",
            "target": "https://gone.example/x",
            "status": "failed",
            "final_status_code": None,
            "error_category": "dns",
            "hops": 1,
            "post_id": f"twitter:{P2}",
            "url_id": 3,
        },
    ],
    "top-target-domains": [
        {
            "domain": "city.example",
            "links": 2,
            "post_links": 1,
            "urls": 2,
            "posts": 1,
            "articles": 1,
        },
        {"domain": "10.0.0.1", "links": 1, "post_links": 0, "urls": 1, "posts": 0, "articles": 1},
        {
            "domain": "gone.example",
            "links": 1,
            "post_links": 1,
            "urls": 1,
            "posts": 1,
            "articles": 1,
        },
    ],
    "dead-links": [
        {
            "category": "blocked",
            "url": "https://t.co/xyz",
            "host": "t.co",
            "status": "blocked",
            "error": "blocked: 10.0.0.1 is a private address",
            "final_url": None,
            "final_status_code": None,
            "hops": 1,
            "attempts": 1,
            "posts": 0,
            "articles": 1,
            "url_id": 4,
        },
        {
            "category": "dns",
            "url": "https://bit.ly/dead1",
            "host": "bit.ly",
            "status": "failed",
            "error": "dns: gone.example does not resolve",
            "final_url": "https://gone.example/x",
            "final_status_code": None,
            "hops": 1,
            "attempts": 1,
            "posts": 1,
            "articles": 1,
            "url_id": 3,
        },
    ],
    "shorteners-by-host": [
        {
            "host": "t.co",
            "urls": 2,
            "resolved": 1,
            "failed": 0,
            "blocked": 1,
            "pending": 0,
            "max_hops": 2,
            "links": 2,
        },
        {
            "host": "bit.ly",
            "urls": 1,
            "resolved": 0,
            "failed": 1,
            "blocked": 0,
            "pending": 0,
            "max_hops": 1,
            "links": 1,
        },
    ],
    "date-mismatches": [
        {
            "handle": "RiverWatch",
            "shown_date": "2024-05-02",
            "date_text": "2 May 2024",
            "id_date": "2024-04-20",
            "days_off": 12,
            "post_url": f"https://twitter.com/riverwatch/status/{P3}",
            "text": "Sandbags are available at the depot",
            "citations": 1,
            "post_id": f"twitter:{P3}",
        }
    ],
    "hop-counts": [
        {"hops": 1, "urls": 2, "resolved": 0, "failed": 1, "blocked": 1, "shorteners": 2},
        {"hops": 2, "urls": 1, "resolved": 1, "failed": 0, "blocked": 0, "shorteners": 1},
    ],
}


@on_module_loop
@pytest.mark.parametrize("query", sorted(EXPECTED_QUERIES))
async def test_canned_query_returns_the_expected_rows(ds: Datasette, query: str) -> None:
    """Each canned query runs in Datasette and returns exactly the rows the data implies."""
    rows = await get_json(ds, f"/citations/{query}.json?_shape=array")
    assert rows == EXPECTED_QUERIES[query]


@on_module_loop
async def test_every_canned_query_is_tested(ds: Datasette) -> None:
    """The metadata has no canned query these tests do not run."""
    listed = {q["name"] for q in (await get_json(ds, "/citations.json"))["queries"]}
    assert listed == set(EXPECTED_QUERIES) | {"articles-citing-handle", "search-posts"}


@on_module_loop
@pytest.mark.parametrize("handle", ["riverwatch", "@RiverWatch", " RIVERWATCH "])
async def test_articles_citing_a_handle_ignore_case_and_at_sign(ds: Datasette, handle: str) -> None:
    """articles-citing-handle finds both articles citing RiverWatch, newest first."""
    rows = await get_json(
        ds, f"/citations/articles-citing-handle.json?_shape=array&handle={handle}"
    )
    assert [(r["title"], r["posts"]) for r in rows] == [
        ("Reactions to the floods", 2),
        ("Floods hit the valley", 1),
    ]
    # group_concat's order is unspecified in SQLite: compare as a set.
    assert set(rows[0]["post_urls"].split()) == {
        f"https://twitter.com/riverwatch/status/{P3}",
        f"https://twitter.com/RiverWatch/status/{P1}",
    }


@on_module_loop
async def test_articles_citing_an_unknown_or_empty_handle_return_nothing(ds: Datasette) -> None:
    """An unknown handle, or none at all, gives an empty result, not an error."""
    for suffix in ("&handle=nobody", ""):
        rows = await get_json(ds, f"/citations/articles-citing-handle.json?_shape=array{suffix}")
        assert rows == []


# --- links to public pages ------------------------------------------------------------------


def anchors(page: str) -> set[tuple[str, str]]:
    return set(re.findall(r'<a href="([^"]+)">([^<]+)</a>', page))


@on_module_loop
async def test_handles_link_to_profiles_and_post_ids_to_posts(ds: Datasette) -> None:
    """The plugin renders @handle profile links and post-id links in tables and views."""
    accounts = anchors((await ds.client.get("/citations/accounts")).text)
    assert ("https://twitter.com/RiverWatch", "@RiverWatch") in accounts
    posts = anchors((await ds.client.get("/citations/posts")).text)
    assert (f"https://twitter.com/riverwatch/status/{P3}", P3) in posts
    cited = anchors((await ds.client.get("/citations/cited_posts")).text)
    assert ("https://twitter.com/MayorJane", "@MayorJane") in cited
    assert (f"https://twitter.com/MayorJane/status/{P2}", f"twitter:{P2}") in cited
    query = anchors((await ds.client.get("/citations/most-cited-accounts")).text)
    assert ("https://twitter.com/RiverWatch", "@RiverWatch") in query


@on_module_loop
async def test_plugin_leaves_other_databases_alone(tmp_path: Path) -> None:
    """A database without our schema gets no metadata, queries, dashboard or @handles."""
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, platform TEXT, handle TEXT)")
    conn.execute("INSERT INTO accounts VALUES (1, 'twitter', 'RiverWatch')")
    conn.commit()
    conn.close()
    register_plugin()
    plain = Datasette([str(other)])
    await plain.invoke_startup()
    page = (await plain.client.get("/other/accounts")).text
    assert "RiverWatch" in page and "@RiverWatch" not in page
    assert (await get_json(plain, "/other.json"))["queries"] == []
    assert (await get_json(plain, "/-/metadata.json")) == {}


def test_render_cell_escapes_and_ignores_unknown_platforms() -> None:
    """Markup in a handle is escaped; unknown platforms and hashed ids get no link."""

    class Config:
        def plugin_config(self, name: str, database: str) -> dict[str, bool]:
            return {"link_handles": True}

    row = {"platform": "twitter", "handle": '<b>"x"</b>'}
    cell = render_cell(row, '<b>"x"</b>', "handle", "cited_posts", "citations", Config())
    assert cell is not None and "<b>" not in str(cell) and "&lt;b&gt;" in str(cell)
    unknown = {"platform": "myspace"}
    assert render_cell(unknown, "tom", "handle", "cited_posts", "citations", Config()) is None
    assert post_url("twitter", "twitter:h-0123abcd") is None
    assert post_url("twitter", f"twitter:{P1}") == f"https://twitter.com/i/web/status/{P1}"


# --- the sample articles shipped in data/articles -----------------------------------------

SAMPLE_ARTICLES = Path(__file__).parents[1] / "data" / "articles"


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample articles parsed and saved the way `scraper run` does (no resolving)."""
    files = sorted(p for p in SAMPLE_ARTICLES.glob("*") if p.is_file())
    if not files:
        pytest.skip("no sample articles in data/articles")
    path = tmp_path_factory.mktemp("samples") / "citations.db"
    db = open_database(path)
    ensure_views(db)
    for file in files:
        article = parse_document(file.read_bytes(), source=str(file))
        save_article(db, article, source=str(file), fetched_at=FETCHED_AT)
    db.close()
    return path


def fetch_one(path: Path, sql: str) -> tuple[Any, ...]:
    conn = sqlite3.connect(path)
    try:
        row: tuple[Any, ...] = conn.execute(sql).fetchone()
        return row
    finally:
        conn.close()


@on_module_loop
async def test_sample_articles_browse_consistently(sample_db: Path) -> None:
    """On the sample articles every canned query runs and agrees with the tables."""
    datasette = build_datasette(sample_db)
    await datasette.invoke_startup()
    for query in sorted(EXPECTED_QUERIES):
        await get_json(datasette, f"/citations/{query}.json?_shape=array")
    (citations,) = fetch_one(sample_db, "SELECT count(*) FROM citations")
    assert citations > 0
    cited = await get_json(datasette, "/citations/cited_posts.json?_shape=array&_size=max")
    assert len(cited) == citations
    accounts = await get_json(datasette, "/citations/most-cited-accounts.json?_shape=array")
    (with_account,) = fetch_one(
        sample_db,
        "SELECT count(*) FROM citations c JOIN posts p ON p.id = c.post_id "
        "WHERE p.account_id IS NOT NULL",
    )
    assert sum(a["citations"] for a in accounts) == with_account
    top = accounts[0]["handle"]
    articles = await get_json(
        datasette, f"/citations/articles-citing-handle.json?_shape=array&handle={top.upper()}"
    )
    expected = {r["article_id"] for r in cited if (r["handle"] or "").lower() == top.lower()}
    assert {a["article_id"] for a in articles} == expected


@on_module_loop
async def test_sample_post_is_found_by_a_word_of_its_text(sample_db: Path) -> None:
    """Searching the posts for the longest word of a sample post's text finds that post."""
    post_id, text = fetch_one(
        sample_db, "SELECT id, text FROM posts WHERE text IS NOT NULL ORDER BY id LIMIT 1"
    )
    word = max(re.findall(r"[^\W\d_]{4,}", text), key=len)
    datasette = build_datasette(sample_db)
    await datasette.invoke_startup()
    found = await get_json(datasette, f"/citations/posts.json?_search={word}&_shape=array")
    assert post_id in {p["id"] for p in found}


# --- other database names and the real server ---------------------------------------------


@on_module_loop
async def test_any_database_file_name_gets_the_metadata(tmp_path: Path) -> None:
    """A database not called citations.db is described, and its page links work, by its name."""
    path = build_sample_database(tmp_path / "news room.db")
    datasette = build_datasette(path)
    await datasette.invoke_startup()
    served = (await get_json(datasette, "/-/metadata.json"))["databases"]
    assert list(served) == ["news room"]
    page = (await datasette.client.get("/news+room")).text
    link = re.search(r'href="([^"]*most-cited-accounts)"', page)
    assert link is not None
    assert link.group(1) == "/news+room/most-cited-accounts"
    rows = await get_json(datasette, f"{link.group(1)}.json?_shape=array")
    assert [r["handle"] for r in rows] == ["RiverWatch", "MayorJane"]


def test_build_datasette_refuses_a_missing_database(tmp_path: Path) -> None:
    """A missing file is a clear error, and no empty database is created."""
    with pytest.raises(FileNotFoundError, match="no database at"):
        build_datasette(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_views_are_recreated_only_when_their_sql_changes(tmp_path: Path) -> None:
    """ensure_views twice leaves the schema alone; a stale view is replaced."""
    db = open_database(tmp_path / "v.db")
    ensure_views(db)
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    ensure_views(db)
    assert db.execute("PRAGMA schema_version").fetchone()[0] == version
    db.execute("DROP VIEW hop_counts")
    db.execute("CREATE VIEW hop_counts AS SELECT 1 AS stale")
    ensure_views(db)
    columns = [c[1] for c in db.execute("PRAGMA table_info(hop_counts)").fetchall()]
    assert columns[0] == "hops"
    assert set(VIEWS) <= set(db.view_names())
    db.close()


SERVE_CODE = (
    "import sys; from scraper.serve import serve_database; "
    "serve_database(sys.argv[1], host='127.0.0.1', port=0)"
)


@pytest.mark.slow
def test_serve_prints_a_url_that_answers_and_stops_on_ctrl_c(db_path: Path) -> None:
    """serve_database prints the database URL, Datasette answers there, Ctrl+C exits 0."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_CODE, str(db_path)], stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/citations)\b", line)
        assert match, f"no URL in {line!r}"
        response = httpx.get(match.group(1) + ".json", timeout=10)
        assert response.status_code == 200
        assert "most-cited-accounts" in {q["name"] for q in response.json()["queries"]}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


def test_every_description_is_whole() -> None:
    """No description is cut short (in YAML, an unquoted " #" starts a comment)."""
    tables = load_metadata()["database"]["tables"]
    assert tables["entities"]["columns"]["value"].endswith("without its @, # or $.")
    for name, entry in tables.items():
        texts = [entry["description"], *(entry.get("columns") or {}).values()]
        for text in texts:
            assert str(text).rstrip().endswith((".", ")")), f"{name}: {text!r}"


@on_module_loop
async def test_post_row_page_shows_its_account_as_a_linked_handle(ds: Datasette) -> None:
    """A post's own page shows @handle linking to the account's row, not a bare id."""
    page = (await ds.client.get(f"/citations/posts/twitter~3A{P1}")).text
    match = re.search(r'<a href="(/citations/accounts/\d+)">@RiverWatch</a>', page)
    assert match, page[:3000]
    account = await ds.client.get(match.group(1) + ".json?_shape=array")
    assert account.json()[0]["handle"] == "RiverWatch"


def test_link_rot_chart_appears_only_with_its_view() -> None:
    """The dashboard's link-rot chart needs the link_rot_by_year view; its row closes up."""
    template = load_metadata()
    names = {"posts", "citations_per_day"}
    urls = ("/n", "/-/dashboards/n")
    without = build_metadata(template, {"n": (*urls, names)})
    dashboard = without["plugins"]["datasette-dashboards"]["n"]
    assert "link-rot-by-year" not in dashboard["charts"]
    assert ["failures-by-category", "failures-by-category"] in dashboard["layout"]
    with_view = build_metadata(template, {"n": (*urls, names | {"link_rot_by_year"})})
    charts = with_view["plugins"]["datasette-dashboards"]["n"]["charts"]
    assert charts["link-rot-by-year"]["db"] == "n"
    assert "requires" not in charts["link-rot-by-year"]
