"""The command line end to end on the bundled sample: parse, run, stats, export, exit codes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "articles"


def parse_json_lines(output: str) -> list[dict[str, object]]:
    """Every non-empty stdout line as JSON."""
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def run_cli(*args: str) -> tuple[int, str, str]:
    """Invoke the CLI in-process; return exit code, stdout and stderr."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def table_counts(db_path: Path) -> dict[str, int]:
    """Row counts of every content table."""
    conn = sqlite3.connect(db_path)
    try:
        return {
            table: conn.execute(f"select count(*) from [{table}]").fetchone()[0]
            for table in (
                "articles",
                "accounts",
                "posts",
                "citations",
                "urls",
                "links",
                "entities",
            )
        }
    finally:
        conn.close()


def test_parse_prints_one_json_line_per_article() -> None:
    """`scraper parse` prints JSON Lines in DESIGN.md's shape, nothing else on stdout."""
    code, out, _ = run_cli(
        "parse", str(SAMPLE / "river-flooding-reactions.txt"), str(SAMPLE / "flood-live-blog.html")
    )
    assert code == 0
    text_article, html_article = parse_json_lines(out)
    assert [p["handle"] for p in text_article["posts"]] == [  # type: ignore[index]
        "danawhitfield",
        "AlderCountyEMA",
        "marcusbellnews",
        "priyaraman_",
        "UpperValleyWX",
    ]
    assert html_article["url"] == "https://example-news.test/live/alder-flood"
    assert html_article["published"].startswith("2024-07-15T06:30")  # type: ignore[union-attr]
    post = html_article["posts"][0]  # type: ignore[index]
    assert set(post) >= {
        "platform",
        "post_id",
        "handle",
        "display_name",
        "date",
        "date_text",
        "posted_at",
        "text",
        "url",
        "kind",
        "links",
        "entities",
    }
    assert post["url"] == "https://twitter.com/AlderCountyEMA/status/1812784418784061907"
    assert post["date"] == "2024-07-15"
    link = html_article["links"][0]  # type: ignore[index]
    assert set(link) == {"url", "text", "context", "post_index"}


@pytest.mark.parametrize(
    ("name", "expected_ids"),
    [
        (
            "flood-live-blog.html",
            [
                "1812784418784061907",
                "1812502813210884525",
                "1812804299782943689",
                "1346894300576180082",
            ],
        ),
        (
            "rendered-embeds.html",
            [
                "1813116356002277458",
                "1813189336890976489",
                "1812248135070889537",
                "1654153912123690946",
                "1654395504032893924",
                "1588259718559041082",
                "1813107547961902281",
            ],
        ),
        (
            "app-page-state.html",
            ["1812640721928640215", "976292310021350091", None, "1812915029410522692"],
        ),
        ("hochwasser-stimmen.html", ["1813091190176994127"]),
        ("fact-check-roundup.md", ["1812640721928640215", None]),
    ],
)
def test_sample_articles_yield_their_posts(name: str, expected_ids: list[str | None]) -> None:
    """Each bundled sample page yields exactly the posts written into it, in page order."""
    _, out, _ = run_cli("parse", str(SAMPLE / name))
    (article,) = parse_json_lines(out)
    ids = [p["post_id"] for p in article["posts"]]  # type: ignore[index]
    # the escaped twin and the plain-text quote may come in either order relative to each other
    assert sorted(ids, key=str) == sorted(expected_ids, key=str)


def test_sample_other_platforms() -> None:
    """The platforms sample yields one post per platform embed, with canonical URLs."""
    _, out, _ = run_cli("parse", str(SAMPLE / "flood-across-platforms.html"))
    (article,) = parse_json_lines(out)
    found = {p["platform"]: p for p in article["posts"]}  # type: ignore[union-attr]
    assert sorted(found) == ["bluesky", "instagram", "mastodon", "tiktok", "youtube"]
    assert found["bluesky"]["date"] == "2024-07-16"
    assert found["bluesky"]["handle"] == "uppervalleywx.bsky.social"
    assert found["mastodon"]["handle"] == "riverwatch@social.example.org"
    assert found["instagram"]["url"] == "https://www.instagram.com/p/C9AlderFl00d/"
    assert found["youtube"]["url"] == "https://www.youtube.com/watch?v=aLdErFl0oD1"
    assert found["tiktok"]["post_id"] == "7392345678901234567"


def test_sample_details_dates_encoding_and_mismatch() -> None:
    """Localised dates, a Latin-1 page and a shown date that contradicts the id are all read."""
    _, out, _ = run_cli(
        "parse", str(SAMPLE / "hochwasser-stimmen.html"), str(SAMPLE / "flood-live-blog.html")
    )
    german, live = parse_json_lines(out)
    assert german["title"] == "Hochwasser am Alder: Stimmen aus dem Tal"
    (polizei,) = german["posts"]  # type: ignore[misc]
    assert polizei["date"] == "2024-07-16"
    assert polizei["date_text"] == "16. Juli 2024"
    assert "Mühlheim" in polizei["text"]
    by_handle = {p["handle"]: p for p in live["posts"]}  # type: ignore[union-attr]
    assert by_handle["oldtimer_alder"]["date_mismatch"] is True
    assert by_handle["AlderCountyEMA"]["date_mismatch"] is False
    assert by_handle["nachrichten_bsp"]["lang"] == "de"
    assert by_handle["nachrichten_bsp"]["date"] == "2024-07-15"


def test_run_is_idempotent_and_offline(tmp_path: Path) -> None:
    """Two runs over the sample with --no-resolve give the same counts; URLs wait as pending."""
    db = tmp_path / "citations.db"
    code, _, err = run_cli("run", str(SAMPLE), "--db", str(db), "--no-resolve")
    assert code == 0, err
    assert "skipped" in err
    first = table_counts(db)
    assert first["articles"] == 7
    assert first["posts"] >= 20
    code, _, _ = run_cli("run", str(SAMPLE), "--db", str(db), "--no-resolve")
    assert code == 0
    assert table_counts(db) == first
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute("select status, count(*) from urls group by status").fetchall())
    assert set(statuses) == {"pending"}
    shorteners = conn.execute("select count(*) from urls where host = 't.co'").fetchone()[0]
    assert shorteners == 9  # the distinct t.co codes written into the sample
    assert conn.execute("select count(*) from runs").fetchone()[0] == 2
    # the second run recognised every file as unchanged, canonical URL or not
    second = conn.execute("select unchanged, new_articles from runs order by id desc").fetchone()
    assert second == (7, 0)
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


def test_stats_reports_counts(tmp_path: Path) -> None:
    """`scraper stats` prints JSON counts after a run."""
    db = tmp_path / "c.db"
    run_cli("run", str(SAMPLE), "--db", str(db), "--no-resolve")
    code, out, _ = run_cli("stats", "--db", str(db))
    assert code == 0
    stats = json.loads(out)
    assert json.dumps(stats).count("articles") >= 1


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    """An unknown config key is a usage error (exit 2) whose message names it."""
    config = tmp_path / "bad.toml"
    config.write_text("[resolver]\nconcurency = 3\n")
    code, out, err = run_cli("run", "--config", str(config), "--no-resolve")
    assert code == 2
    assert "resolver.concurency" in err
    assert out == ""


def test_missing_source_exits_2(tmp_path: Path) -> None:
    """A source that does not exist is a usage error with a clear message."""
    code, _, err = run_cli("run", str(tmp_path / "nope"), "--db", str(tmp_path / "x.db"))
    assert code == 2
    assert "no such file" in err


def test_python_dash_m_runs_the_cli() -> None:
    """`python -m scraper` is the same program as the console script."""
    result = subprocess.run(
        [sys.executable, "-m", "scraper", "--help"], capture_output=True, text=True, check=True
    )
    assert "scraper run" in result.stdout or "run" in result.stdout
    for command in ("run", "parse", "resolve", "serve", "export", "stats"):
        assert command in result.stdout


@pytest.mark.parametrize("command", ["run", "parse", "resolve", "serve", "export", "stats"])
def test_every_command_has_help_and_a_readme_section(command: str) -> None:
    """Each command documents itself in --help and has its own README section."""
    code, out, _ = run_cli(command, "--help")
    assert code == 0
    assert len(out.splitlines()) > 3
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"### scraper {command}" in readme
