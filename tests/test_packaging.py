"""The extras in pyproject.toml: what `serve` imports and what mypy and pytest need."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def extras() -> dict[str, list[str]]:
    """The project's optional dependencies, by extra, as bare lower-case names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {
        extra: [re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower() for spec in specs]
        for extra, specs in project["optional-dependencies"].items()
    }


def test_serve_imports_are_in_the_datasette_extra() -> None:
    """The plugin reads its YAML itself and draws with datasette-dashboards: both declared."""
    config = (ROOT / "scraper" / "datasette_config.py").read_text(encoding="utf-8")
    assert "import yaml" in config
    assert {"datasette", "pyyaml", "datasette-dashboards"} <= set(extras()["datasette"])


def test_dev_extra_has_the_stubs_mypy_needs_and_a_test_timeout() -> None:
    """A fresh `pip install -e '.[dev]'` runs mypy strict (yaml stubs) and pytest-timeout."""
    dev = set(extras()["dev"])
    assert {"types-pyyaml", "pytest-timeout", "mypy", "datasette", "pyyaml"} <= dev
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    assert 0 < ini["ini_options"]["timeout"] <= 120
