"""The traversal's own mechanisms: paragraphs built only around marked text, the gate in
front of the detectors, escaped markup in attributes, and document order across them."""

from __future__ import annotations

import pytest

from scraper.model import Article
from scraper.parse import parse_document
from scraper.parse.urls import absolutize_url

TEXT = "Sandbag station at the fairgrounds is out of sand AGAIN"
SIGNATURE = "— County Roads (@CountyRoads) May 1, 2020"


def parse(body: str) -> Article:
    html = f"<html><head><title>t</title></head><body>{body}</body></html>"
    return parse_document(html.encode(), source="page.html", base_url="https://site.example/")


def quotes(article: Article) -> list[tuple[str | None, str | None, str | None]]:
    return [(p.kind, p.handle, p.text) for p in article.posts]


@pytest.mark.parametrize(
    "body",
    [
        f"<p>{TEXT}</p><p>{SIGNATURE}</p>",
        # the paragraph before the signature lies outside the signature's block
        f"<div><div><p>{TEXT}</p></div></div><section><p>{SIGNATURE}</p></section>",
        f"<div><p>{TEXT}</p></div><div>{SIGNATURE}</div>",
    ],
)
def test_signature_alone_takes_the_paragraph_before_it(body: str) -> None:
    assert quotes(parse(body)) == [("text-signature", "CountyRoads", TEXT)]


def test_signature_alone_without_a_paragraph_before_it_has_no_text() -> None:
    assert quotes(parse(f"<section><p>{SIGNATURE}</p></section>")) == [
        ("text-signature", "CountyRoads", None)
    ]


@pytest.mark.parametrize(
    "handle",
    [
        "(<a href='https://twitter.com/CountyRoads'>@CountyRoads</a>)",
        "(<strong><a href='https://twitter.com/CountyRoads'>@CountyRoads</a></strong>)",
        "(&#64;CountyRoads)",
        "(&commat;CountyRoads)",
        "&#40;@CountyRoads)",
        "&lpar;@CountyRoads&rpar;",
    ],
)
def test_a_page_whose_bytes_never_hold_paren_at_is_still_read_for_quotes(handle: str) -> None:
    """The page's bytes hold no "(@" anywhere: the handle follows "(" through a link or a
    character reference, or the "(" is one."""
    article = parse(f"<p>{TEXT} — County Roads {handle} May 1, 2020</p>")
    assert quotes(article) == [("text-signature", "CountyRoads", TEXT)]


def test_a_parenthesis_before_markup_that_is_no_signature_quotes_nothing() -> None:
    article = parse("<p>See the map (<a href='/map'>here</a>) and the list (&amp; more).</p>")
    assert quotes(article) == []


def test_a_handle_linked_inside_the_parenthesis_is_still_a_signature() -> None:
    """``(<a>@handle</a>)``: no text node holds "(@", the paragraph does."""
    article = parse(
        f"<p>{TEXT} — County Roads (<a href='https://twitter.com/CountyRoads'>@CountyRoads</a>)"
        " May 1, 2020</p><p>Second one — Alpha (@alpha) May 2, 2020</p>"
    )
    assert quotes(article) == [
        ("text-signature", "CountyRoads", TEXT),
        ("text-signature", "alpha", "Second one"),
    ]


def test_quotes_in_nested_blocks_are_each_found_once() -> None:
    """Marked text in a block and in the block around it: each paragraph is read once."""
    article = parse(
        f"<div>First post here — A (@alpha) May 1, 2020<p>{TEXT} — County Roads "
        "(@CountyRoads) May 2, 2020</p>Third post here — C (@gamma) May 3, 2020</div>"
    )
    assert [(p.handle, p.text) for p in article.posts] == [
        ("alpha", "First post here"),
        ("CountyRoads", TEXT),
        ("gamma", "Third post here"),
    ]


def test_quote_inside_a_claimed_embed_is_not_a_second_post() -> None:
    article = parse(
        '<blockquote class="twitter-tweet"><p lang="en">Levee holding</p>&mdash; County Roads '
        '(@CountyRoads) <a href="https://twitter.com/CountyRoads/status/1256161438725059584">'
        "May 1, 2020</a></blockquote>"
    )
    assert [(p.kind, p.post_id) for p in article.posts] == [("blockquote", "1256161438725059584")]


def test_posts_keep_document_order_across_quotes_embeds_and_links() -> None:
    article = parse(
        '<p>See <a href="https://twitter.com/a/status/1256161438725059001">this</a>.</p>'
        f"<p>{TEXT} — County Roads (@CountyRoads) May 1, 2020</p>"
        '<blockquote class="twitter-tweet"><p>Embedded</p>&mdash; B (@bravo) '
        '<a href="https://twitter.com/bravo/status/1256161438725059002">May 1, 2020</a>'
        "</blockquote>"
    )
    assert [(p.kind, p.handle) for p in article.posts] == [
        ("link", "a"),
        ("text-signature", "CountyRoads"),
        ("blockquote", "bravo"),
    ]
    assert [link.position for link in article.links] == [0, 1]


EMBED = (
    '<blockquote class="twitter-tweet"><p>Roads closed</p>&mdash; County Roads (@CountyRoads) '
    '<a href="https://twitter.com/CountyRoads/status/1256161438725059584">May 1, 2020</a>'
    "</blockquote>"
)


@pytest.mark.parametrize(
    "body",
    [
        # a consent box keeps the embed it replaced, written as it is
        f"<div class='consent-box' data-embed='{EMBED}'><p>Load the post?</p></div>",
        # ... or entity-escaped, on any element
        '<p data-html="'
        + EMBED.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        + '">Load</p>',
    ],
)
def test_embed_markup_kept_in_an_attribute_is_found(body: str) -> None:
    assert [(p.kind, p.post_id) for p in parse(body).posts] == [("escaped", "1256161438725059584")]


@pytest.mark.parametrize(
    "attributes",
    [
        'id="tweet-1700000000000000002"',
        'data-tweet-id="1700000000000000002"',
        'class="Social-Embed" data-provider="twitter"',
    ],
)
def test_wrappers_are_offered_by_id_or_attribute_names_alone(attributes: str) -> None:
    """The gate in front of the detectors reads the id and attribute names, not only the
    class: a container named only there still reaches the wrapper reader."""
    article = parse(
        f"<div {attributes}><p>Shelter at the high school is open</p>"
        '<a href="https://x.com/RedCrossRiver/status/1700000000000000002">@RedCrossRiver</a>'
        '<time datetime="2023-09-08T21:15:00Z">Sep 8, 2023</time></div>'
    )
    assert [(p.kind, p.post_id, p.text) for p in article.posts] == [
        ("wrapped", "1700000000000000002", "Shelter at the high school is open")
    ]


def test_links_in_page_furniture_cite_nothing() -> None:
    article = parse(
        '<div class="sidebar-right"><a href="https://twitter.com/a/status/1256161438725059001">'
        "x</a></div><ul class='widget_twitter'><li><a href='https://twitter.com/b/status/"
        "1256161438725059002'>y</a></li></ul>"
        '<p><a href="https://twitter.com/c/status/1256161438725059003">z</a></p>'
    )
    assert [p.handle for p in article.posts] == ["c"]
    assert len(article.links) == 3


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/a/b?q=1#f", "https://site.example/a/b?q=1#f"),
        ("/a/../b", "https://site.example/b"),
        ("/a//b", "https://site.example/a//b"),
        ("/a/./b", "https://site.example/a/b"),
        ("/p?", "https://site.example/p"),
        ("/p#", "https://site.example/p"),
        ("/p?#f", "https://site.example/p#f"),
        ("/p;", "https://site.example/p"),
        ("/ä b", "https://site.example/%C3%A4%20b"),
        (" /x ", "https://site.example/x"),
        ("HTTPS://Site.Example/X", "https://site.example/X"),
    ],
)
def test_links_from_the_site_root_are_joined_as_urljoin_does(href: str, expected: str) -> None:
    assert absolutize_url(href, "https://site.example/dir/page.html") == expected
