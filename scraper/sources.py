"""Turn the user's SOURCE arguments (or the ``[sources]`` config) into files and URLs to read.

A SOURCE is a file, a directory (searched recursively for article files), a glob, an
http(s) URL, or ``-`` for standard input.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

from scraper.config import SourcesConfig
from scraper.errors import SourceError

ARTICLE_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".txt", ".md"})
STDIN = "-"


@dataclass
class SourceSet:
    """The expanded sources of one run: local files, article URLs, list files and feeds."""

    files: list[Path] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    url_files: list[Path] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    stdin: bool = False

    @property
    def total(self) -> int:
        """How many sources were named, after expansion."""
        return len(self.files) + len(self.urls) + len(self.url_files) + len(self.feeds) + self.stdin


def is_url(source: str) -> bool:
    """Whether a source argument is an http(s) URL."""
    lowered = source[:8].lower()
    return lowered.startswith(("http://", "https://"))


def expand_path(source: str) -> list[Path]:
    """Files named by a path, directory or glob, sorted; SourceError when nothing matches."""
    path = Path(source)
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES
        )
    if path.is_file():
        return [path]
    if glob.has_magic(source):
        # Path.glob cannot take absolute patterns, so the glob module it is.
        matches = sorted(Path(p) for p in glob.glob(source, recursive=True))  # noqa: PTH207
        files = [p for p in matches if p.is_file()]
        if files:
            return files
        raise SourceError(f"no files match {source!r}")
    raise SourceError(f"no such file or directory: {source}")


def collect_sources(arguments: list[str], config: SourcesConfig) -> SourceSet:
    """Expand command-line SOURCE arguments, or the config's sources when there are none."""
    found = SourceSet()
    if arguments:
        for source in arguments:
            if source == STDIN:
                found.stdin = True
            elif is_url(source):
                found.urls.append(source)
            else:
                found.files.extend(expand_path(source))
    else:
        for source in config.paths:
            found.files.extend(expand_path(source))
        found.urls.extend(config.urls)
        found.url_files.extend(Path(p) for p in config.url_files)
        found.feeds.extend(config.feeds)
    found.files = list(dict.fromkeys(found.files))
    found.urls = list(dict.fromkeys(found.urls))
    return found
