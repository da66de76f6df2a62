"""Tweets that publishers wrap in their own markup: wrappers, consent boxes, screenshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from scraper.model import Article
from scraper.parse import parse_document
from scraper.parse.tweet_wrappers import frame_status

FIXTURE = Path(__file__).parent / "fixtures" / "html" / "wrapped.html"


@pytest.fixture(scope="module")
def article() -> Article:
    return parse_document(
        FIXTURE.read_bytes(), source=str(FIXTURE), base_url="https://site.example/"
    )


def by_id(article: Article, post_id: str) -> tuple[object, ...]:
    post = next(p for p in article.posts if p.post_id == post_id)
    return (post.kind, post.handle, post.display_name, post.date, post.date_text, post.text)


def test_cms_embed_block_gives_text_signature_and_date(article: Article) -> None:
    """A div.embed--twitter with text and a signature is an embed, not a link."""
    assert by_id(article, "1700000000000000001") == (
        "wrapped",
        "CountyRoads",
        "County Roads",
        "2023-09-08",
        "September 8, 2023",
        "Levee on Route 9 is holding. Crews on site all night #flood",
    )
    post = next(p for p in article.posts if p.post_id == "1700000000000000001")
    assert [e.value for e in post.entities] == ["flood"]


def test_data_tweet_id_container_reads_its_text_and_time(article: Article) -> None:
    """The id in data-tweet-id, the text and <time> of the container around it."""
    assert by_id(article, "1700000000000000002") == (
        "wrapped",
        "RedCrossRiver",
        None,
        "2023-09-08",
        "Sep 8, 2023",
        "Shelter at the high school is open, bring ID",
    )


def test_consent_placeholder_keeps_the_status_not_the_box_text(article: Article) -> None:
    """A Borlabs-style blocker gives the post's id and handle, not "load the tweet"."""
    assert by_id(article, "1700000000000000003") == (
        "consent",
        "WetterDienst",
        None,
        None,
        None,
        None,
    )


def test_click_to_load_box_with_a_signature_has_text(article: Article) -> None:
    """A data-consent placeholder whose fallback kept the signature reads like an embed."""
    assert by_id(article, "1700000000000000004") == (
        "consent",
        "MillGauge",
        "River Gauge Bot",
        "2023-09-09",
        "September 9, 2023",
        "Flood gauge at Mill Street: 7.9 m and rising.",
    )


def test_screenshot_takes_its_text_from_the_image(article: Article) -> None:
    """An image linked to its status is the post; the caption is the publisher's."""
    assert by_id(article, "1700000000000000005") == (
        "screenshot",
        "MayorJones",
        None,
        None,
        None,
        "We are opening the Civic Center as an emergency shelter tonight.",
    )


def test_publisher_iframes_carry_the_id(article: Article) -> None:
    """?tweetId= and a #ID fragment on a tweet-named iframe URL give rendered posts."""
    assert by_id(article, "1700000000000000006")[0] == "rendered"
    assert by_id(article, "1700000000000000007")[0] == "rendered"


def test_near_misses_are_not_embeds(article: Article) -> None:
    """Prose links stay links; buttons, timelines, lists, boxes without status and
    sidebars give no embed."""
    kinds = {p.post_id: p.kind for p in article.posts}
    assert kinds["1700000000000000008"] == "link"
    assert kinds["1700000000000000009"] == "link"
    assert kinds["1700000000000000010"] == "link"
    assert "1700000000000000011" not in kinds
    assert all(p.platform == "twitter" and p.post_id for p in article.posts)
    assert len(article.posts) == 10


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        (
            "https://embeds.example/tweet.html?tweetId=1700000000000000006",
            ("1700000000000000006", None),
        ),
        (
            "https://cdn.example/frame?url=https%3A%2F%2Fx.com%2Fa%2Fstatus%2F123456789",
            ("123456789", "a"),
        ),
        (
            "https://news.example/embed/twitter/#1700000000000000007",
            ("1700000000000000007", None),
        ),
        (
            "https://news.example/embed/twitter.html?id=1700000000000000012",
            ("1700000000000000012", None),
        ),
        ("https://www.youtube.com/embed/abc?id=1700000000000000013", None),
        ("https://news.example/tweetdeck/?id=1700000000000000014", None),
        ("https://news.example/gallery.html#1700000000000000015", None),
        ("https://news.example/tweet.html?tweetId=12", None),
    ],
)
def test_frame_status(src: str, expected: tuple[str, str | None] | None) -> None:
    """Ids only from tweet-named URLs or tweet-named parameters; the handle when a status
    URL in a parameter shows one."""
    assert frame_status(src) == expected


def test_ids_in_data_attributes_of_tweet_containers() -> None:
    """Containers left for a script to render carry the status in data-url or the id in
    data-id; a CMS's own numeric data-id on other containers is no tweet."""
    html = b"""<html><body><article>
    <div class="embedInner Twitter" data-provider="Twitter"
         data-resourceurl="https://twitter.com/AutonomousUnion/status/1254834028248735744"></div>
    <div class="tweet" data-mod="tweet" data-url="https://twitter.com/blairscove/status/1313412635854077952"></div>
    <div class="embed embed--twitter" data-id="1313455352902492160"></div>
    <div class="gallery" data-id="1313455352902492161"></div>
    <div class="embed embed--twitter" data-id="48213"></div>
    <div class="consent-box" data-consent="youtube" data-id="1313455352902492162"></div>
    </article></body></html>"""
    article = parse_document(html, source="data.html")
    assert [(p.kind, p.post_id, p.handle) for p in article.posts] == [
        ("wrapped", "1254834028248735744", "AutonomousUnion"),
        ("wrapped", "1313412635854077952", "blairscove"),
        ("wrapped", "1313455352902492160", None),
    ]


REACT_TWEET = """<div class="react-tweet-theme tweet-container_root__3qYvM">
<article class="tweet-container_article__0ERPK">
<div class="tweet-header_header__CXzdi">
<a href="https://x.com/NWS" class="tweet-header_avatar__0Wi9G"><img alt="NWS" src="a.jpg"></a>
<div class="tweet-header_author__k7Vgw">
<a href="https://x.com/NWS"><span>National Weather Service</span></a>
<a href="https://x.com/NWS"><span>@NWS</span></a></div></div>
<p class="tweet-body_root__ChzUj" lang="en">Flood warning for the county until 6 PM. #flood</p>
<div class="tweet-info_info__ll_kH">
<a class="tweet-info-created-at_root__KaxZi"
   href="https://x.com/NWS/status/1234567890123456789">
<time datetime="2020-05-01T10:00:00.000Z">10:00 AM · May 1, 2020</time></a></div>
</article></div>"""


@pytest.mark.parametrize(
    "wrapper",
    [
        # react-tweet (Next.js sites): CSS modules keep the part's name in its class
        REACT_TWEET,
        # a publisher's own: the header names the author, the text has its own part
        """<div class="embed--twitter"><div class="embed__header">National Weather Service
        @NWS</div><div class="tweet__text">Flood warning for the county until 6 PM.
        #flood</div><a href="https://twitter.com/NWS/status/1234567890123456789">
        <time datetime="2020-05-01">May 1, 2020</time></a></div>""",
    ],
)
def test_a_wrappers_text_part_is_the_posts_text(wrapper: str) -> None:
    """The header (name, handle, avatar) around the text is not the post's text."""
    html = f"<html><body><p>The service warned:</p>{wrapper}</body></html>".encode()
    (post,) = parse_document(html, source="react.html").posts
    assert (post.kind, post.post_id, post.handle, post.text, post.date) == (
        "wrapped",
        "1234567890123456789",
        "NWS",
        "Flood warning for the county until 6 PM. #flood",
        "2020-05-01",
    )
    assert [e.value for e in post.entities] == ["flood"]


SUBSTACK_TWEET = """<div class="tweet" data-attrs="{}" data-component-name="Twitter2ToDOM">
<a class="tweet-link-top" href="https://twitter.com/NWS/status/1234567890123456789">
<div class="tweet-header"><img class="tweet-header-avatar" src="a.jpg">
<div class="tweet-header-text"><span class="tweet-author-name">National Weather Service
</span><span class="tweet-author-handle">@NWS</span></div></div>
<div class="tweet-text">Flood warning for the county until 6 PM. #flood</div></a>
<a class="tweet-link-bottom" href="https://twitter.com/NWS/status/1234567890123456789">
<div class="tweet-footer"><span class="tweet-date">7:54 PM \u2219 Mar 2, 2020</span></div>
</a></div>"""


def test_a_wrappers_name_and_date_parts() -> None:
    """Substack's tweet: the author's name and the date shown have parts of their own
    (no signature, no ``<time>``)."""
    html = f"<html><body><p>The service warned:</p>{SUBSTACK_TWEET}</body></html>".encode()
    (post,) = parse_document(html, source="substack.html").posts
    assert (post.kind, post.handle, post.display_name, post.text) == (
        "wrapped",
        "NWS",
        "National Weather Service",
        "Flood warning for the county until 6 PM. #flood",
    )
    # the date shown is the one the id encodes (2020-03-02T19:54:56Z): no mismatch
    assert (post.date, post.date_text, post.date_mismatch) == (
        "2020-03-02",
        "7:54 PM \u2219 Mar 2, 2020",
        False,
    )


def test_without_one_text_part_the_wrapper_is_read_whole() -> None:
    """Two parts named for text (or a "retweet-text" counter) say nothing: read as before."""
    html = b"""<html><body><div class="embed--twitter"><div class="tweet-text">First
    part.</div><div class="tweet-text">Second part.</div><span class="retweet-text">3</span>
    <a href="https://twitter.com/NWS/status/1234567890123456789">May 1, 2020</a></div>
    </body></html>"""
    (post,) = parse_document(html, source="two.html").posts
    assert post.text is not None
    assert "First" in post.text and "Second" in post.text
