"""The config loader: the whole contract, precedence, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.config import Config, ResolverConfig, config_from_dict, load_config
from scraper.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_shipped_config_loads_and_matches_defaults() -> None:
    """The documented config.toml is valid and says what the built-in defaults say."""
    config = load_config(REPO / "config.toml")
    defaults = Config()
    assert config.database == defaults.database
    assert config.sources == defaults.sources
    assert config.resolver == defaults.resolver
    assert config.fetch.timeout == defaults.fetch.timeout
    assert config.fetch.max_bytes == 10_000_000


def test_every_contract_key_is_accepted() -> None:
    """Every key of DESIGN.md's config contract is known, with its type."""
    data = {
        "database": {"path": "x.db"},
        "sources": {"paths": ["a"], "urls": ["https://e.test/"], "url_files": [], "feeds": []},
        "fetch": {
            "user_agent": "ua",
            "timeout": 5,
            "concurrency": 2,
            "per_host": 1,
            "respect_robots": False,
            "max_bytes": 1000,
            "allow_private": True,
        },
        "resolver": {
            "enabled": False,
            "resolve": "all",
            "shorteners": ["sho.rt"],
            "concurrency": 10,
            "per_host": 2,
            "timeout": 3.5,
            "max_redirects": 4,
            "retries": 0,
            "retry_after_max": 10,
            "ttl_days": 7,
            "allow_private": True,
        },
    }
    config = config_from_dict(data)
    assert config.database.path == "x.db"
    assert config.fetch.respect_robots is False
    assert config.fetch.timeout == 5.0
    assert config.resolver == ResolverConfig(
        enabled=False,
        resolve="all",
        shorteners=["sho.rt"],
        concurrency=10,
        per_host=2,
        timeout=3.5,
        max_redirects=4,
        retries=0,
        retry_after_max=10.0,
        ttl_days=7.0,
        allow_private=True,
    )


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"resolver": {"concurency": 5}}, "resolver.concurency"),
        ({"fetch": {"timeout": "20"}}, "fetch.timeout"),
        ({"fetch": {"respect_robots": "yes"}}, "fetch.respect_robots"),
        ({"resolver": {"retries": 1.5}}, "resolver.retries"),
        ({"resolver": {"retries": True}}, "resolver.retries"),
        ({"sources": {"paths": "data"}}, "sources.paths"),
        ({"resolver": {"resolve": "everything"}}, "resolver.resolve"),
        ({"resolver": {"concurrency": 0}}, "resolver.concurrency"),
        ({"resolver": {"retries": -1}}, "resolver.retries"),
        ({"output": {}}, "[output]"),
        ({"fetch": 3}, "fetch"),
    ],
)
def test_bad_config_names_the_key(data: dict[str, object], named: str) -> None:
    """Unknown keys and wrong types are errors whose message names the key."""
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        config_from_dict(data)


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    """A config path that does not exist is an error, not silent defaults."""
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_is_an_error(tmp_path: Path) -> None:
    """A file that is not TOML gives a clear error with the file name."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[resolver\nenabled = true\n")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config(bad)


def test_env_variable_picks_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$SCRAPER_CONFIG is used when no path is given."""
    other = tmp_path / "other.toml"
    other.write_text('[database]\npath = "elsewhere.db"\n')
    monkeypatch.setenv("SCRAPER_CONFIG", str(other))
    assert load_config().database.path == "elsewhere.db"


def test_no_config_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ./config.toml and without $SCRAPER_CONFIG the built-in defaults apply."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCRAPER_CONFIG", raising=False)
    assert load_config() == Config()


def test_overrides_replace_only_given_values() -> None:
    """Command-line overrides win over the file; None means 'not given'."""
    config = Config().with_overrides("database", path="cli.db")
    assert config.database.path == "cli.db"
    assert Config().with_overrides("database", path=None) == Config()


def test_resolver_processes_still_loads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`[resolver] processes` (the removed pool's size) loads, ignored, with a warning."""
    path = tmp_path / "c.toml"
    path.write_text("[resolver]\nprocesses = 2\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="scraper.config"):
        load_config(path)
    assert "no longer used" in caplog.text
