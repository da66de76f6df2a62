"""Records that cross process boundaries (a cluster's results) pickle as their fields."""

from __future__ import annotations

import pickle

from scraper.archives import Outcome, UnitResult, WarcUnit
from scraper.file_batches import BatchResult, FileOutcome
from scraper.model import Article, Entity, Link, Post
from scraper.parse import parse_document
from scraper.warc import WarcItem

PAGE = b"""<html><head><title>Levee</title></head><body>
<blockquote class="twitter-tweet"><p lang="en">Levee holding #flood</p>&mdash; County Roads
(@CountyRoads) <a href="https://twitter.com/CountyRoads/status/1256161438725059584">May 1, 2020</a>
</blockquote><p><a href="https://example.org/a">a link</a></p></body></html>"""


def test_a_parsed_article_comes_back_equal() -> None:
    article = parse_document(PAGE, source="page.html", base_url="https://news.example/")
    assert article.posts and article.links and article.posts[0].entities
    copy = pickle.loads(pickle.dumps(article, protocol=5))
    assert copy == article
    assert isinstance(copy.posts[0], Post) and isinstance(copy.links[0], Link)
    assert isinstance(copy.posts[0].entities[0], Entity)


def test_the_cluster_results_come_back_equal() -> None:
    article = Article("x.html", url="https://news.example/x", posts=[Post("twitter", "link")])
    item = WarcItem("page", 10, 20, "https://news.example/x", "2024-01-01T00:00:00Z")
    unit = UnitResult(WarcUnit("/a.warc.gz", "a.warc.gz", 0, 99, True, 99, "ab"))
    unit.outcomes.append(Outcome(item, article, "digest"))
    files = BatchResult([FileOutcome("/p/x.html", "x.html", "page", None, "d", article)])
    for record in (unit, files):
        assert pickle.loads(pickle.dumps(record, protocol=5)) == record


def test_a_record_of_one_field_pickles() -> None:
    """attrgetter of a single name gives the value, not a one-item tuple."""
    empty = BatchResult()
    assert pickle.loads(pickle.dumps(empty)) == empty
