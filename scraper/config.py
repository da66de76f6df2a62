"""Load ``config.toml`` into frozen dataclasses.

Precedence, lowest first: built-in defaults < the config file < command-line flags.
Unknown keys and wrong types raise :class:`~scraper.errors.ConfigError` naming the key,
never a silent default.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from scraper import __version__
from scraper.errors import ConfigError

DEFAULT_USER_AGENT = (
    f"scraper/{__version__} (citation scraper; +https://github.com/scraper-project/scraper)"
)
log = logging.getLogger("scraper.config")
CONFIG_ENV = "SCRAPER_CONFIG"
DEFAULT_CONFIG_PATH = Path("config.toml")


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the SQLite file lives."""

    path: str = "data/citations.db"


@dataclass(frozen=True)
class SourcesConfig:
    """What ``scraper run`` reads when it is given no arguments."""

    paths: list[str] = field(default_factory=lambda: ["data/articles"])
    urls: list[str] = field(default_factory=list)
    url_files: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FetchConfig:
    """How article pages are downloaded."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0
    concurrency: int = 8
    per_host: int = 2
    respect_robots: bool = True
    max_bytes: int = 10_000_000
    allow_private: bool = False
    skip_unchanged: bool = True  # trust a sitemap's <lastmod>: no request for older pages


@dataclass(frozen=True)
class ResolverConfig:
    """How short links are expanded."""

    enabled: bool = True
    resolve: str = "shorteners"
    shorteners: list[str] = field(default_factory=list)
    concurrency: int = 50
    per_host: int = 8
    timeout: float = 15.0
    max_redirects: int = 10
    retries: int = 3
    retry_after_max: float = 120.0
    ttl_days: float = 30.0
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    max_attempts: int = 8
    max_body_bytes: int = 1_000_000
    #: deprecated and ignored: many cores are `scraper run --workers N` (Dask) now
    processes: int = 0


@dataclass(frozen=True)
class LivenessConfig:
    """Whether cited posts and links are still there, and where their archived copies are.

    Link re-checks follow ``[resolver] ttl_days``; ``recheck_days`` is for posts. The
    endpoints are keys so that tests (and mirrors) can point them elsewhere.
    """

    enabled: bool = False  # check what is due at the end of every `scraper run`
    recheck_days: float = 30.0
    posts: bool = True
    archives: bool = True
    twitter_oembed: str = "https://publish.twitter.com/oembed"
    bluesky_appview: str = "https://public.api.bsky.app"
    youtube_oembed: str = "https://www.youtube.com/oembed"
    reddit: str = "https://www.reddit.com"
    wayback: str = "https://archive.org/wayback/available"
    concurrency: int = 8
    per_host: int = 2
    timeout: float = 20.0
    retries: int = 3
    retry_after_max: float = 120.0
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    resolver: ResolverConfig = field(default_factory=ResolverConfig)
    liveness: LivenessConfig = field(default_factory=LivenessConfig)
    path: str | None = None

    def with_overrides(self, section: str, **values: Any) -> Config:
        """A copy with some keys of one section replaced (``None`` values are ignored)."""
        changes = {k: v for k, v in values.items() if v is not None}
        if not changes:
            return self
        current = getattr(self, section)
        return dataclasses.replace(self, **{section: dataclasses.replace(current, **changes)})


SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "sources": SourcesConfig,
    "fetch": FetchConfig,
    "resolver": ResolverConfig,
    "liveness": LivenessConfig,
}
CHOICES: dict[str, tuple[str, ...]] = {"resolver.resolve": ("shorteners", "all")}
POSITIVE: set[str] = {
    "fetch.timeout",
    "fetch.concurrency",
    "fetch.per_host",
    "fetch.max_bytes",
    "resolver.concurrency",
    "resolver.per_host",
    "resolver.timeout",
    "resolver.max_redirects",
    "resolver.max_attempts",
    "resolver.max_body_bytes",
    "liveness.concurrency",
    "liveness.per_host",
    "liveness.timeout",
}


def _check_value(key: str, value: Any, annotation: Any) -> Any:
    """Return ``value`` converted to the annotated type, or raise ConfigError naming ``key``."""
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return value
    if annotation == list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {value!r}")
        return list(value)
    raise ConfigError(f"{key}: unsupported type")  # pragma: no cover - schema bug


def config_from_dict(data: dict[str, Any], path: str | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML, validating every key."""
    sections: dict[str, Any] = {}
    for name, value in data.items():
        if name not in SECTIONS:
            raise ConfigError(f"unknown section [{name}] (known: {', '.join(SECTIONS)})")
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: expected a table [{name}]")
        cls = SECTIONS[name]
        hints = get_type_hints(cls)
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, raw in value.items():
            dotted = f"{name}.{key}"
            if key not in known:
                raise ConfigError(f"unknown key {dotted} (known: {', '.join(sorted(known))})")
            checked = _check_value(dotted, raw, hints[key])
            if dotted in CHOICES and checked not in CHOICES[dotted]:
                raise ConfigError(f"{dotted}: expected one of {CHOICES[dotted]}, got {checked!r}")
            if dotted in POSITIVE and checked <= 0:
                raise ConfigError(f"{dotted}: must be greater than 0, got {checked!r}")
            if not isinstance(checked, bool) and isinstance(checked, int | float) and checked < 0:
                raise ConfigError(f"{dotted}: must not be negative, got {checked!r}")
            kwargs[key] = checked
        if name == "resolver" and "processes" in kwargs:
            # kept so that existing config files still load; the pool it sized is gone
            log.warning(
                "[resolver] processes is no longer used: resolving runs in one process; "
                "use `scraper run --workers N` for many cores"
            )
        sections[name] = cls(**kwargs)
    return Config(**sections, path=path)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load the config: ``path``, else ``$SCRAPER_CONFIG``, else ``./config.toml`` if present.

    A missing explicit path is an error; a missing default file means built-in defaults.
    Relative paths inside the file are relative to the working directory, as on the command line.
    """
    explicit = path if path is not None else os.environ.get(CONFIG_ENV) or None
    candidate = Path(explicit) if explicit else DEFAULT_CONFIG_PATH
    if not candidate.exists():
        if explicit:
            raise ConfigError(f"config file not found: {candidate}")
        return Config()
    try:
        data = tomllib.loads(candidate.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{candidate}: not valid TOML: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{candidate}: cannot read: {exc}") from exc
    return config_from_dict(data, path=str(candidate))
