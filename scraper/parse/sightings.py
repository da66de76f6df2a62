"""What the traversal of a page records before posts are assembled: sightings and links."""

from __future__ import annotations

from dataclasses import dataclass

from scraper.model import Post

__all__ = ["ORDER_SCALE", "RawLink", "Sighting"]

#: An element's ``order`` is its position in the page times this; the elements of an
#: escaped fragment take the numbers right after their host element's.
ORDER_SCALE = 1 << 32


@dataclass(slots=True, eq=False)
class Sighting:
    """A post as one detector found it (``order``: where), before merging by id."""

    post: Post
    order: int
    escaped: bool


@dataclass(slots=True, eq=False)
class RawLink:
    """An ``<a href>`` as found, with the sighting it belongs to (``None``: the article).

    ``chrome``: the link sits in page furniture (``aside``, ``nav``, ``footer``, a
    sidebar), not in the article's text.
    """

    href: str
    text: str
    order: int
    sighting: Sighting | None
    escaped: bool = False
    chrome: bool = False
