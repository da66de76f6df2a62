"""HTML pages to articles: every embed form, links, metadata, dedupe and bad input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.model import Article, Post
from scraper.parse import DETECTORS, parse_document, parse_html
from scraper.parse.html import Element, PageContext, element_text
from scraper.parse.text import TextPost

FIXTURES = Path(__file__).parent / "fixtures" / "html"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BASE = "https://site.example/section/page.html"


def parse_fixture(name: str, base_url: str | None = BASE) -> Article:
    path = FIXTURES / name
    return parse_document(path.read_bytes(), source=str(path), base_url=base_url)


def summary(post: Post) -> tuple[Any, ...]:
    return (post.kind, post.post_id, post.handle, post.date, post.date_text, post.text, post.lang)


def test_blockquote_embeds_exactly() -> None:
    """twitter.com and x.com blockquotes give id, handle, name, dates, text, lang, kind."""
    article = parse_fixture("blockquotes.html")
    assert [summary(p) for p in article.posts] == [
        (
            "blockquote",
            "1159486925829051234",
            "girlsreallyrule",
            "2019-08-08",
            "August 8, 2019",
            "The children of the people arrested in yesterday’s #ICEraids spent the night in "
            "a local gym. (photos via @AlexLoveWJTV) pic.twitter.com/hM7EG8A5YS",
            "en",
        ),
        (
            "blockquote",
            "1028570534507451234",
            "maxmuster",
            "2018-08-12",
            "12. August 2018",
            "Heute im Bundestag: https://t.co/AbCdEf1234",
            "de",
        ),
        (
            "blockquote-video",
            "976292310021051234",
            "tokyo_news",
            "2018-03-21",
            "2018年3月21日",
            "桜が咲きました pic.twitter.com/Jp0123abcd",
            "ja",
        ),
        (
            "blockquote",
            "1654247898084281234",
            "MattNavarra",
            "2023-05-04",
            "May 4, 2023",
            "How did this ad get approved @Meta ?\n😬",
            "en",
        ),
        (
            "blockquote",
            "815497794155451234",
            "timetravel",
            "2020-03-03",
            "March 3, 2020",
            "Old news, wrongly dated.",
            "en",
        ),
    ]
    first = article.posts[0]
    assert first.display_name == "Amee Vanderpool"
    assert first.url == "https://twitter.com/girlsreallyrule/status/1159486925829051234"
    assert first.posted_at == "2019-08-08T15:30:00.000+00:00"
    assert [(e.kind, e.value) for e in first.entities] == [
        ("hashtag", "ICEraids"),
        ("mention", "AlexLoveWJTV"),
    ]


def test_x_com_status_url_is_normalised() -> None:
    """A post linked on x.com gets the one canonical twitter.com URL."""
    post = parse_fixture("blockquotes.html").posts[1]
    assert post.url == "https://twitter.com/maxmuster/status/1028570534507451234"
    assert post.display_name == "Max Mustermann"


def test_date_mismatch_between_shown_date_and_id() -> None:
    """A shown date years away from the id's moment is flagged; matching ones are not."""
    posts = parse_fixture("blockquotes.html").posts
    assert [p.date_mismatch for p in posts] == [False, False, False, False, True]
    assert posts[-1].posted_at == "2017-01-01T10:00:00.000+00:00"


def test_same_tweet_embedded_twice_is_one_post() -> None:
    """One post per status id; both embeds' links point at it."""
    article = parse_fixture("blockquotes.html")
    ids = [p.post_id for p in article.posts]
    assert ids.count("1159486925829051234") == 1
    plain = "https://twitter.com/girlsreallyrule/status/1159486925829051234"
    second_copy = [link for link in article.links if link.url == plain]
    assert [(link.context, link.post_index) for link in second_copy] == [("post", 0)]


def test_links_absolute_with_context() -> None:
    """Every <a href>: absolute (canonical URL as base), anchor text, context, order."""
    article = parse_fixture("blockquotes.html")
    links = article.links
    assert [link.position for link in links] == list(range(len(links)))
    assert (links[0].url, links[0].text, links[0].context) == (
        "https://news.example/2019/08/history",
        "largest action",
        "article",
    )
    assert not any(link.url.startswith(("mailto:", "javascript:", "#")) for link in links)
    post_links = [(link.text, link.post_index) for link in links if link.context == "post"]
    assert post_links[:4] == [
        ("#ICEraids", 0),
        ("@AlexLoveWJTV", 0),
        ("pic.twitter.com/hM7EG8A5YS", 0),
        ("August 8, 2019", 0),
    ]


def test_post_links_are_its_links_without_its_own_status_url() -> None:
    """Post.links: the post-context link URLs, minus the signature's link to itself."""
    post = parse_fixture("blockquotes.html").posts[0]
    assert post.links == [
        "https://twitter.com/hashtag/ICEraids?src=hash&ref_src=twsrc%5Etfw",
        "https://twitter.com/AlexLoveWJTV?ref_src=twsrc%5Etfw",
        "https://t.co/hM7EG8A5YS",
    ]


def test_metadata_og_title_canonical_and_published() -> None:
    """og:title, link[rel=canonical] (the article URL) and article:published_time."""
    article = parse_fixture("blockquotes.html", base_url="https://mirror.example/x")
    assert article.title == "Raids in Mississippi"
    assert article.url == "https://news.example/2019/08/raids"
    assert article.published == "2019-08-09T10:00:00+00:00"
    assert article.encoding == "utf-8"


def test_blockquote_other_needs_status_link_and_signature() -> None:
    """Other blockquotes are posts only with a signature and a status link inside."""
    article = parse_fixture("blockquote_other.html")
    assert [summary(p) for p in article.posts if p.kind != "link"] == [
        (
            "blockquote-other",
            "1234810753643451234",
            "janedoe",
            "2020-03-03",
            "March 3, 2020",
            "Best day of the year, every year.",
            None,
        ),
        (
            "blockquote",
            "1267395462558651234",
            "wrapped",
            "2020-06-01",
            "June 1, 2020",
            "Nested inside a wrapper.",
            "en",
        ),
    ]
    thread = [link for link in article.links if link.text == "the thread"]
    assert thread[0].context == "article"
    # the article's own link to a status cites it as a link, not as an embed
    assert [(p.kind, p.post_id) for p in article.posts if p.kind == "link"] == [
        ("link", "1234825853137851234")
    ]


def test_rendered_forms_give_ids_and_merge_with_markup() -> None:
    """data-tweet-id iframes/widgets, Tweet.html and index.html iframes; one post per id."""
    article = parse_fixture("rendered.html")
    assert [(p.kind, p.post_id, p.handle) for p in article.posts] == [
        ("blockquote", "1399636834513851234", "twin"),
        ("rendered", "1399999222379451234", None),
        ("rendered", "1400361610245051234", None),
        ("rendered", "1400723998110651234", None),
        ("rendered", "1401086385976251234", "alt_handle"),
    ]
    assert article.posts[0].text == "Rendered twin, with text."
    assert article.posts[1].url == "https://twitter.com/i/web/status/1399999222379451234"
    assert article.posts[1].posted_at == "2021-06-02T08:00:00.000+00:00"


def test_amp_twitter() -> None:
    """amp-twitter data-tweetid is a post, not a link; moments and timelines are not."""
    article = parse_fixture("amp.html")
    assert [summary(p) for p in article.posts] == [
        (
            "amp",
            "1480479527531451234",
            "ampauthor",
            "2022-01-10",
            "January 10, 2022",
            "Placeholder text of an AMP tweet.",
            "en",
        ),
        ("amp", "1480841915397051234", None, None, None, None, None),
    ]
    assert [link.url for link in article.links] == [
        "https://twitter.com/ampauthor/status/1480479527531451234"
    ]


def test_wordpress_embed_and_time_embed_id() -> None:
    """A WordPress block holding only the status URL, and div.embed-twitter[data-embed-id]."""
    article = parse_fixture("wordpress_time.html")
    assert [(p.kind, p.post_id, p.handle) for p in article.posts] == [
        ("wp-embed", "1481204303262651234", "wp_author"),
        ("blockquote", "1481566691128251234", "wp_full"),
        ("embed-id", "1480841915397059876", None),
    ]
    timeline = [link for link in article.links if link.text == "Tweets by wp_author"]
    assert timeline[0].context == "article"


def test_escaped_embeds_counted_once_with_their_markup_twin() -> None:
    """Embeds escaped in script JSON or attributes are found; a twin is one post."""
    article = parse_fixture("escaped.html")
    assert [(p.kind, p.post_id, p.handle, p.text) for p in article.posts] == [
        ("escaped", "1656367342810041234", "escaped",
         "Only in the page state 😬 pic.twitter.com/Esc4p3d01"),
        ("blockquote", "1256161438725051234", "twinperson",
         "In both places. https://t.co/Tw1nL1nk"),
        ("escaped", "1267395462558659876", "attrperson", "Caché dans un attribut."),
    ]  # fmt: skip
    assert article.posts[2].lang == "fr"
    urls = [link.url for link in article.links]
    assert urls.count("https://t.co/Tw1nL1nk") == 1  # the escaped copy adds no link
    assert "https://t.co/Esc4p3d01" in urls  # an escaped-only post keeps its links
    assert not any("escaped-only-link" in url for url in urls)  # page state is no article


def test_negatives_are_not_posts() -> None:
    """Timelines, moments, buttons, intents, class names, code samples are not posts."""
    article = parse_fixture("negatives.html")
    # the status link in running text is a link citation, not an embedded post
    assert [(p.kind, p.post_id) for p in article.posts] == [("link", "1159486925829051234")]
    assert {link.context for link in article.links} == {"article"}
    assert len(article.links) == 7


def test_text_signature_quotes() -> None:
    """Quoted tweets (also split over two paragraphs) are posts; repeats of embeds not."""
    article = parse_fixture("text_quotes.html")
    assert [(p.kind, p.post_id, p.handle, p.date, p.text) for p in article.posts] == [
        ("text-signature", None, "girlsreallyrule", "2019-08-08",
         "The children spent the night in a local gym. (photos via @AlexLoveWJTV) "
         "pic.twitter.com/hM7EG8A5YS"),
        ("text-signature", None, "clarionledger", "2019-08-09",
         "We are hiring reporters in Jackson, see pic.twitter.com/Hir1ng01"),
        ("text-signature", "1234810753643451234", "janedoe", "2020-03-03",
         "Best day of the year."),
        ("blockquote", "1256161438725059999", "dupe", "2020-05-01", "Same words in both forms."),
    ]  # fmt: skip
    assert article.posts[0].display_name == "Amee Vanderpool"
    assert article.posts[0].links == ["https://t.co/hM7EG8A5YS"]
    assert article.posts[1].links == ["https://t.co/Hir1ng01"]  # written as text only
    assert article.posts[2].posted_at == "2020-03-03T12:00:00.000+00:00"


def test_malformed_html_recovers() -> None:
    """Unclosed tags, stray end tags and content after </html> still give posts and links."""
    article = parse_fixture("malformed.html")
    assert [(p.kind, p.post_id, p.text) for p in article.posts] == [
        ("blockquote", "1481204303262659999", "Div instead of blockquote"),
        ("blockquote", "1481566691128259999", "Unclosed paragraph in a cell"),
    ]
    urls = [link.url for link in article.links]
    assert "https://site.example/section/two" in urls
    assert "https://after.example/" in urls


def test_base_href_and_relative_canonical() -> None:
    """Links resolve against <base href>; a relative canonical resolves against base_url."""
    html = (
        '<html><head><base href="https://cdn.example/base/">'
        '<link rel="canonical" href="/canonical-path"></head>'
        '<body><a href="img/one">one</a> <a href="//other.example/x">two</a></body></html>'
    )
    article = parse_document(html, source="page.html", base_url="https://site.example/a/b")
    assert article.url == "https://site.example/canonical-path"
    assert [link.url for link in article.links] == [
        "https://cdn.example/base/img/one",
        "https://other.example/x",
    ]


def test_relative_links_without_any_base_are_skipped() -> None:
    """With no base at all a relative href cannot be made absolute, so it is no link."""
    article = parse_document('<a href="/x">x</a><a href="https://a.example/">a</a>', source="p")
    assert [link.url for link in article.links] == ["https://a.example/"]


@pytest.mark.parametrize(
    ("head", "body", "title", "published"),
    [
        (
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
            '{"@type": "WebPage", "datePublished": "2020-01-01"},'
            '{"@type": "NewsArticle", "datePublished": "2020-02-03T04:05:06+01:00"}]}</script>'
            "<title>Title tag</title>",
            "",
            "Title tag",
            "2020-02-03T04:05:06+01:00",
        ),
        (
            '<meta name="twitter:title" content="Twitter title"><title>Title tag</title>',
            '<span itemprop="datePublished" content="2021-04-05">April 5</span>',
            "Twitter title",
            "2021-04-05",
        ),
        (
            "",
            '<h1>Heading title</h1><aside><time datetime="2018-01-01">old</time></aside>'
            '<article><time datetime="2019-07-08T09:10:11Z">new</time></article>',
            "Heading title",
            "2019-07-08T09:10:11+00:00",
        ),
        ("", '<time datetime="2017-05-06">only one</time>', None, "2017-05-06"),
    ],
)
def test_metadata_fallbacks(head: str, body: str, title: str | None, published: str) -> None:
    """Title: og, twitter, <title>, <h1>; published: JSON-LD (@graph), itemprop, <time>."""
    article = parse_document(f"<html><head>{head}</head><body>{body}</body></html>", source="p")
    assert article.title == title
    assert article.published == published


def test_plain_text_dispatch() -> None:
    """.txt/.md sources and text/plain go to the text parser; text/html wins over .txt."""
    text = "Quoted tweet text — Jane Doe (@janedoe) March 3, 2020\n"
    by_suffix = parse_document(text.encode(), source="notes/article.md")
    by_type = parse_document(text, source="https://e.example/x", content_type="text/plain")
    as_html = parse_document(text, source="odd.txt", content_type="text/html; charset=utf-8")
    for article in (by_suffix, by_type, as_html):
        assert [(p.kind, p.handle) for p in article.posts] == [("text-signature", "janedoe")]
    assert by_suffix.encoding == "utf-8"
    assert by_type.encoding is None  # text was given, nothing was decoded


def test_content_type_charset_decodes_bytes() -> None:
    """The charset of content_type decodes the page and is recorded."""
    data = "<title>Привет</title>".encode("cp1251")
    article = parse_document(data, source="p", content_type="text/html; charset=windows-1251")
    assert (article.title, article.encoding) == ("Привет", "cp1251")


def test_empty_and_whitespace_documents() -> None:
    """An empty page is an empty article, not an error."""
    for data in (b"", b"   \n", "<!-- only a comment -->"):
        article = parse_document(data, source="empty.html", base_url=BASE)
        assert (article.posts, article.links, article.title) == ([], [], None)
        assert article.url == BASE


def test_deeply_nested_markup() -> None:
    """Thousands of unclosed elements neither crash nor hide the links before them."""
    html = '<a href="https://a.example/">a</a>' + "<div><span>" * 5000 + "deep"
    article = parse_document(html, source="deep.html")
    assert article.links[0].url == "https://a.example/"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_random_bytes_never_raise(data: bytes) -> None:
    """Any bytes at all give an Article."""
    assert isinstance(parse_document(data, source="junk.html"), Article)


TAGS = st.sampled_from(
    ["<blockquote class='twitter-tweet'>", "</blockquote>", "<p lang=en>", "</p>", "<a href='",
     "https://twitter.com/a/status/1159486925829051234", "'>", "</a>", "&mdash; N (@h) ",
     "August 8, 2019", "<script>", "</script>", '\\u003cblockquote class=\\"twitter-tweet\\"',
     "<amp-twitter data-tweetid='12345678901'>", "<iframe data-tweet-id='x'>", "<br>", "—",
     "&lt;", "<div class=twitter-tweet>", "<!--", "-->", "<![CDATA[", "\x00", "\ud800"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(TAGS, st.text(max_size=20)), max_size=60))
def test_random_tweetish_markup_never_raises(pieces: list[str]) -> None:
    """Shuffled embed fragments (broken, nested, escaped) always parse."""
    article = parse_document("".join(pieces), source="fuzz.html", base_url=BASE)
    assert all(post.platform == "twitter" for post in article.posts)
    for link in article.links:
        assert link.context == "article" or 0 <= (link.post_index or 0) < len(article.posts)


class InstagramDetector:
    """A second platform, written against the plug-in protocol only."""

    platform = "instagram"
    markers: tuple[str, ...] = ("instagram-media",)
    quote_markers: tuple[str, ...] = ()

    def detect(self, element: Element, page: PageContext) -> Post | None:
        if element.tag != "blockquote" or "instagram-media" not in (element.get("class") or ""):
            return None
        text, _anchors = element_text(element)
        return Post(platform="instagram", kind="blockquote", text=text, lang=page.lang)

    def quoted_posts(self, text: str, links: Sequence[tuple[str, int]]) -> list[TextPost]:
        return []


def test_another_platform_plugs_into_the_same_traversal() -> None:
    """A detector list with a new platform gets its posts and post links in one pass."""
    path = FIXTURES / "blockquote_other.html"
    article = parse_html(
        path.read_text(),
        source=str(path),
        base_url=BASE,
        detectors=(*DETECTORS, InstagramDetector()),
    )
    assert [(p.platform, p.kind) for p in article.posts if p.kind != "link"] == [
        ("twitter", "blockquote-other"),
        ("instagram", "blockquote"),
        ("twitter", "blockquote"),
    ]
    instagram = [link for link in article.links if "instagram.com" in link.url]
    index = next(i for i, p in enumerate(article.posts) if p.platform == "instagram")
    assert (instagram[0].context, instagram[0].post_index) == ("post", index)


@pytest.fixture(scope="module")
def corpus_evaluation() -> Any:
    if not (CORPUS / "pages.tsv").is_file():
        pytest.skip("the shared corpus (../shared/corpus) is not here")
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import eval_corpus
    finally:
        sys.path.pop(0)
    return eval_corpus.evaluate(CORPUS, candidates_only=True)


def test_corpus_recall_and_precision(corpus_evaluation: Any) -> None:
    """On the shared corpus the status ids found agree with the labels (>= 0.97 each)."""
    overall = corpus_evaluation.overall
    assert overall.tp >= 60
    assert overall.recall >= 0.97
    assert overall.precision >= 0.97
