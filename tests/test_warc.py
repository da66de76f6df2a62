"""WARC archives as a source: reading every kind of record, slices, and whole runs over them."""

from __future__ import annotations

import gzip
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from warc_files import Rec, chunked, corrupt_gzip_member, write_warc

from scraper.cli import cli
from scraper.config import Config, DatabaseConfig, ResolverConfig, SourcesConfig
from scraper.run import RunOptions, run_batch
from scraper.sources import collect_sources
from scraper.warc import iter_warc, plan_slices

FIXTURES = Path(__file__).parent / "fixtures"
HTML = (FIXTURES / "html" / "blockquotes.html").read_bytes()
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PAGE = b"<html><head><title>Plain</title></head><body><p>hello</p></body></html>"


def mixed_records() -> list[Rec]:
    """One record of each kind the issue lists, with a corrupt gzip member in the middle."""
    return [
        Rec(kind="warcinfo"),
        Rec(uri="https://news.example/a", body=HTML),
        Rec(uri="https://news.example/a", kind="request"),
        Rec(raw=corrupt_gzip_member()),
        Rec(
            uri="https://news.example/chunked",
            body=PAGE,
            http_headers=[("Transfer-Encoding", "chunked")],
            wire_body=chunked(PAGE),
        ),
        Rec(
            uri="https://news.example/gzip",
            body=PAGE,
            http_headers=[("Content-Encoding", "gzip")],
            wire_body=gzip.compress(PAGE),
        ),
        Rec(uri="news.example/no-scheme", body=PAGE, protocol="HTTP/1.0"),
        Rec(uri="https://news.example/file.pdf", body=b"%PDF-1.4", content_type="application/pdf"),
        Rec(
            uri="https://news.example/cut",
            body=HTML[: len(HTML) // 2],
            warc_headers={"WARC-Truncated": "length"},
        ),
        Rec(
            uri="https://news.example/a",
            kind="revisit",
            body=b"",
            date="2024-06-01T00:00:00Z",
            warc_headers={"WARC-Profile": REVISIT_PROFILE},
        ),
    ]


def config_for(db: Path) -> Config:
    """A config for runs on ``db`` that never resolve (no network)."""
    return Config(
        database=DatabaseConfig(path=str(db)),
        sources=SourcesConfig(paths=[]),
        resolver=ResolverConfig(enabled=False),
    )


def table_rows(db: Path, skip: tuple[str, ...] = ("runs", "warc_files")) -> dict[str, list[Any]]:
    """Every row of every table (FTS and migration bookkeeping aside), sorted."""
    conn = sqlite3.connect(db)
    names = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row[0].startswith(("_", "sqlite_")) and "_fts" not in row[0] and row[0] not in skip
    ]
    rows = {name: sorted(map(repr, conn.execute(f"SELECT * FROM [{name}]"))) for name in names}
    conn.close()
    return rows


def last_run(db: Path) -> dict[str, Any]:
    """The newest ``runs`` row."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone())
    conn.close()
    return row


# ---------------------------------------------------------------------------- reading


def test_reads_each_kind_of_record(tmp_path: Path) -> None:
    """Pages decoded (chunked, gzip, HTTP/1.0, no scheme); PDF skipped; revisit; corrupt found."""
    path = tmp_path / "mixed.warc.gz"
    offsets = write_warc(path, mixed_records())
    items = list(iter_warc(path))
    assert [(i.kind, i.offset) for i in items] == [
        ("page", offsets[1]),
        ("corrupt", offsets[3]),
        ("page", offsets[4]),
        ("page", offsets[5]),
        ("page", offsets[6]),
        ("skipped", offsets[7]),
        ("page", offsets[8]),
        ("revisit", offsets[9]),
    ]
    pages = {i.url: i for i in items if i.kind == "page"}
    assert pages["https://news.example/a"].body == HTML
    assert pages["https://news.example/a"].length == offsets[2] - offsets[1]
    assert pages["https://news.example/chunked"].body == PAGE
    assert pages["https://news.example/gzip"].body == PAGE
    assert pages["http://news.example/no-scheme"].body == PAGE
    assert pages["https://news.example/cut"].truncated == "length"
    assert pages["https://news.example/a"].fetched_at == "2024-05-01T12:00:00Z"
    assert pages["https://news.example/a"].http_status == 200
    assert items[5].detail == "not an article: application/pdf"


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_plain_warc_reads_like_gzipped(tmp_path: Path, version: str) -> None:
    """An uncompressed WARC/1.0 or 1.1 gives the same pages as the gzipped one."""
    records = [r for r in mixed_records() if r.raw is None]
    plain, packed = tmp_path / "a.warc", tmp_path / "a.warc.gz"
    write_warc(plain, records, gzip_records=False, version=version)
    write_warc(packed, records, version=version)

    def pages(path: Path) -> list[tuple[str | None, bytes | None, str | None]]:
        return [(i.url, i.body, i.kind) for i in iter_warc(path)]

    assert pages(plain) == pages(packed)
    assert len(pages(plain)) == 7


@pytest.mark.parametrize("size", [200, 700, 1500, 4000])
def test_slices_cover_each_record_once(tmp_path: Path, size: int) -> None:
    """Byte-range slices of a gzipped WARC read every record once, the corrupt member once."""
    path = tmp_path / "mixed.warc.gz"
    write_warc(path, mixed_records())
    whole = [(i.kind, i.offset) for i in iter_warc(path)]
    sliced = [
        (i.kind, i.offset)
        for start, end in plan_slices(path, path.stat().st_size, size)
        for i in iter_warc(path, start, end)
    ]
    assert len(plan_slices(path, path.stat().st_size, size)) > 1
    assert sliced == whole


def test_plain_warc_is_one_slice(tmp_path: Path) -> None:
    """A plain WARC is never cut (record starts cannot be found safely in raw bytes)."""
    path = tmp_path / "a.warc"
    write_warc(path, [Rec(uri="https://x.example/", body=PAGE)] * 5, gzip_records=False)
    assert plan_slices(path, path.stat().st_size, 100) == [(0, path.stat().st_size)]


def test_sources_find_warcs_in_directories_and_globs(tmp_path: Path) -> None:
    """Directories and globs yield WARCs beside article files; named WARCs are WARCs."""
    (tmp_path / "crawls").mkdir()
    for name in ("a.warc.gz", "b.warc", "c.html"):
        (tmp_path / "crawls" / name).write_bytes(b"x")
    found = collect_sources([str(tmp_path / "crawls")], SourcesConfig(paths=[]), sniff_lists=True)
    assert [p.name for p in found.warcs] == ["a.warc.gz", "b.warc"]
    assert [p.name for p in found.files] == ["c.html"]
    found = collect_sources(
        [str(tmp_path / "crawls" / "*.warc.gz"), str(tmp_path / "crawls" / "b.warc")],
        SourcesConfig(paths=[]),
        sniff_lists=True,
    )
    assert [p.name for p in found.warcs] == ["a.warc.gz", "b.warc"]


# ---------------------------------------------------------------------------- runs


def test_run_stores_warc_pages_with_their_place(tmp_path: Path) -> None:
    """Articles keep the WARC file, offset, length, date; the run counts what it read."""
    warc = tmp_path / "mixed.warc.gz"
    offsets = write_warc(warc, mixed_records())
    db = tmp_path / "c.db"
    counts = run_batch(config_for(db), [str(warc)], RunOptions(progress=False))
    assert (counts.records_read, counts.records_corrupt, counts.skipped) == (8, 1, 1)
    assert counts.unchanged == 1  # the revisit
    assert counts.new_articles == 5
    conn = sqlite3.connect(db)
    row = conn.execute(
        "SELECT source, warc_offset, warc_length, fetched_at, n_posts, warc_truncated "
        "FROM articles WHERE url = 'https://news.example/a'"
    ).fetchone()
    assert row[0].endswith("mixed.warc.gz")
    assert row[1:4] == (offsets[1], offsets[2] - offsets[1], "2024-05-01T12:00:00+00:00")
    assert row[4] > 0
    assert row[5] is None
    truncated = conn.execute(
        "SELECT warc_truncated FROM articles WHERE url = 'https://news.example/cut'"
    ).fetchone()
    assert truncated == ("length",)
    schemeless = conn.execute(
        "SELECT count(*) FROM articles WHERE url = 'http://news.example/no-scheme'"
    ).fetchone()
    assert schemeless == (1,)
    assert conn.execute("SELECT count(*) FROM articles WHERE url LIKE '%pdf'").fetchone() == (0,)
    conn.close()
    run = last_run(db)
    assert (run["records_read"], run["records_corrupt"]) == (8, 1)
    assert f"mixed.warc.gz: corrupt record at offset {offsets[3]}" in run["message"]


def test_rerun_changes_nothing_and_skips_a_completed_warc(tmp_path: Path) -> None:
    """The same WARC again: no row changes and the file is not read; a changed file is."""
    warc = tmp_path / "mixed.warc.gz"
    write_warc(warc, mixed_records())
    db = tmp_path / "c.db"
    run_batch(config_for(db), [str(warc)], RunOptions(progress=False))
    before = table_rows(db)
    again = run_batch(config_for(db), [str(warc)], RunOptions(progress=False))
    assert again.records_read == 0
    assert table_rows(db) == before
    write_warc(warc, [*mixed_records(), Rec(uri="https://news.example/new", body=PAGE)])
    third = run_batch(config_for(db), [str(warc)], RunOptions(progress=False))
    assert third.records_read == 9
    assert (third.new_articles, third.unchanged) == (1, 6)


def test_same_posts_from_a_warc_as_from_files(tmp_path: Path) -> None:
    """Each page yields the same citations from a WARC record as from its saved file."""
    pages = sorted((FIXTURES / "html").glob("*.html")) + sorted(
        (FIXTURES / "platforms").glob("*.html")
    )
    warc = tmp_path / "pages.warc.gz"
    records = [Rec(uri=f"https://site.example/{p.stem}", body=p.read_bytes()) for p in pages]
    write_warc(warc, records)
    files_db, warc_db = tmp_path / "files.db", tmp_path / "warc.db"
    run_batch(config_for(files_db), [str(p) for p in pages], RunOptions(progress=False))
    run_batch(config_for(warc_db), [str(warc)], RunOptions(progress=False))

    def posts_per_page(db: Path, key: str) -> dict[str, list[str]]:
        conn = sqlite3.connect(db)
        rows = conn.execute(
            f"SELECT a.{key}, c.post_id FROM citations c JOIN articles a ON a.id = c.article_id "
            "ORDER BY c.position"
        ).fetchall()
        conn.close()
        found: dict[str, list[str]] = {}
        for name, post in rows:
            found.setdefault(Path(name.rstrip("/")).stem, []).append(post)
        return found

    from_files = posts_per_page(files_db, "source")
    from_warc = posts_per_page(warc_db, "url")
    assert sum(map(len, from_files.values())) > 20
    assert from_warc == from_files


def test_a_bad_warc_file_does_not_stop_the_run(tmp_path: Path) -> None:
    """A file that is not a WARC at all is one recorded problem; the good WARC is read."""
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"this is not gzip at all " * 100)
    good = tmp_path / "good.warc.gz"
    write_warc(good, [Rec(uri="https://ok.example/", body=PAGE)])
    db = tmp_path / "c.db"
    counts = run_batch(config_for(db), [str(bad), str(good)], RunOptions(progress=False))
    assert counts.new_articles == 1
    assert counts.records_corrupt == 1
    assert "bad.warc.gz: corrupt record at offset 0" in last_run(db)["message"]


def test_cli_reads_a_directory_of_warcs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`scraper run DIR` reads the WARCs in it and says so in the summary."""
    (tmp_path / "crawls").mkdir()
    write_warc(tmp_path / "crawls" / "a.warc.gz", [Rec(uri="https://a.example/", body=HTML)])
    plain = [Rec(uri="https://b.example/", body=PAGE)]
    write_warc(tmp_path / "crawls" / "b.warc", plain, gzip_records=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["run", "crawls", "--db", "c.db", "--no-resolve", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "records read 2" in result.output
    assert "articles 2 new" in result.output


def test_a_plain_run_does_not_import_dask(tmp_path: Path) -> None:
    """Without --workers/--scheduler the engine's Dask is never imported."""
    write_warc(tmp_path / "a.warc.gz", [Rec(uri="https://a.example/", body=PAGE)])
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from scraper.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['run', {str(tmp_path / 'a.warc.gz')!r}, '--db', "
        f"{str(tmp_path / 'c.db')!r}, '--no-resolve', '--no-progress'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_engine_flags_are_exclusive(tmp_path: Path) -> None:
    """Two engine flags at once is a usage error (exit 2)."""
    result = CliRunner().invoke(
        cli, ["run", "--db", str(tmp_path / "c.db"), "--workers", "2", "--scheduler", "tcp://x:1"]
    )
    assert result.exit_code == 2
    assert "one of --workers" in result.output
