"""Entity extraction: twitter-text's conformance suite (from ../shared) and our own cases."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from scraper.model import Entity
from scraper.parse.entities import (
    extract_cashtags_with_indices,
    extract_entities,
    extract_hashtags_with_indices,
    extract_mentions_or_lists_with_indices,
    extract_mentions_with_indices,
    extract_reply_screen_name,
)

CONFORMANCE = Path(__file__).parents[2] / "shared" / "conformance" / "extract.yml"


@cache
def _suite() -> dict[str, list[dict[str, Any]]]:
    """The ``tests`` mapping of twitter-text's extract.yml."""
    data = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))
    return data["tests"]  # type: ignore[no-any-return]


def _cases(*sections: str) -> list[Any]:
    """Parameters for the named sections, or one skipped parameter when ../shared is absent."""
    if not CONFORMANCE.exists():
        reason = f"{CONFORMANCE} is absent"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="absent")]
    return [
        pytest.param(case, id=f"{section}: {case['description']}")
        for section in sections
        for case in _suite().get(section, [])
    ]


@pytest.mark.parametrize("case", _cases("mentions"))
def test_conformance_mentions(case: dict[str, Any]) -> None:
    """Mentions match twitter-text's ``mentions`` conformance cases."""
    assert [e.value for e in extract_mentions_with_indices(case["text"])] == case["expected"]


@pytest.mark.parametrize("case", _cases("mentions_with_indices"))
def test_conformance_mentions_with_indices(case: dict[str, Any]) -> None:
    """Mention offsets match twitter-text's ``mentions_with_indices`` cases."""
    got = [
        {"screen_name": e.value, "indices": [e.start, e.end]}
        for e in extract_mentions_with_indices(case["text"])
    ]
    assert got == case["expected"]


@pytest.mark.parametrize("case", _cases("mentions_or_lists_with_indices"))
def test_conformance_mentions_or_lists(case: dict[str, Any]) -> None:
    """List references match twitter-text's ``mentions_or_lists_with_indices`` cases."""
    got = [
        {"screen_name": m.screen_name, "list_slug": m.list_slug, "indices": [m.start, m.end]}
        for m in extract_mentions_or_lists_with_indices(case["text"])
    ]
    assert got == case["expected"]


@pytest.mark.parametrize("case", _cases("replies"))
def test_conformance_replies(case: dict[str, Any]) -> None:
    """Reply detection matches twitter-text's ``replies`` cases."""
    assert extract_reply_screen_name(case["text"]) == case["expected"]


@pytest.mark.parametrize("case", _cases("hashtags", "hashtags_from_astral"))
def test_conformance_hashtags(case: dict[str, Any]) -> None:
    """Hashtags match twitter-text's ``hashtags`` and ``hashtags_from_astral`` cases."""
    assert [e.value for e in extract_hashtags_with_indices(case["text"])] == case["expected"]


@pytest.mark.parametrize("case", _cases("hashtags_with_indices"))
def test_conformance_hashtags_with_indices(case: dict[str, Any]) -> None:
    """Hashtag offsets match twitter-text's ``hashtags_with_indices`` cases."""
    got = [
        {"hashtag": e.value, "indices": [e.start, e.end]}
        for e in extract_hashtags_with_indices(case["text"])
    ]
    assert got == case["expected"]


@pytest.mark.parametrize("case", _cases("cashtags"))
def test_conformance_cashtags(case: dict[str, Any]) -> None:
    """Cashtags match twitter-text's ``cashtags`` cases."""
    assert [e.value for e in extract_cashtags_with_indices(case["text"])] == case["expected"]


@pytest.mark.parametrize("case", _cases("cashtags_with_indices"))
def test_conformance_cashtags_with_indices(case: dict[str, Any]) -> None:
    """Cashtag offsets match twitter-text's ``cashtags_with_indices`` cases."""
    got = [
        {"cashtag": e.value, "indices": [e.start, e.end]}
        for e in extract_cashtags_with_indices(case["text"])
    ]
    assert got == case["expected"]


def test_extract_entities_mixed_kinds_in_order() -> None:
    """All three kinds come back in text order, values without their sign."""
    text = "Chicken for $WMT and nuggets for @BurgerKing #ICEraids"
    assert extract_entities(text) == [
        Entity("cashtag", "WMT", 12, 16),
        Entity("mention", "BurgerKing", 33, 44),
        Entity("hashtag", "ICEraids", 45, 54),
    ]


def test_extract_entities_offsets_slice_the_text() -> None:
    """Offsets are str indices, correct after astral emoji and combining marks."""
    text = "👨‍👩‍👧 hi @Ana_1 café #Mañana and $ABC.D done"
    for entity in extract_entities(text):
        sign = {"mention": "@", "hashtag": "#", "cashtag": "$"}[entity.kind]
        assert text[entity.start : entity.end] == sign + entity.value


def test_extract_entities_drops_entities_inside_urls() -> None:
    """A hashtag or mention that is part of a URL is not an entity."""
    text = "see https://example.com/#section and example.org/@someone but #real @real"
    assert [(e.kind, e.value) for e in extract_entities(text)] == [
        ("hashtag", "real"),
        ("mention", "real"),
    ]


def test_extract_entities_list_reference_is_a_mention() -> None:
    """``@name/list`` counts as a mention of ``name``, spanning only ``@name``."""
    assert extract_entities("@newsroom/reporters rock") == [Entity("mention", "newsroom", 0, 9)]


def test_extract_entities_nothing_to_find() -> None:
    """Plain text, e-mail addresses and all-digit hashtags give no entities."""
    assert extract_entities("") == []
    assert extract_entities("write to news@example.com about bus #16, costs $5") == []
