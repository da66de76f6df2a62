"""Every platform but Twitter: embeds, post URLs, link citations, storage and the corpus."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from scraper.datasette_plugin import post_url
from scraper.model import Article
from scraper.parse import parse_document
from scraper.parse.post_urls import canonical_post_url, parse_post_url, posted_at_for
from scraper.parse.urls import StatusRef
from scraper.store import open_database, save_article
from scraper.store.posts import profile_url

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BASE = "https://news.example/2025/05/flood"

BSKY_DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
BSKY_URI = f"at://{BSKY_DID}/app.bsky.feed.post/3lpeoxwsmc22b"


def parse_fixture(name: str) -> Article:
    path = FIXTURES / name
    return parse_document(path.read_bytes(), source=str(path), base_url=BASE)


def found(article: Article) -> list[tuple[str, str, str | None, str | None]]:
    return [(p.platform, p.kind, p.post_id, p.handle) for p in article.posts]


# --- embeds, platform by platform ----------------------------------------------------------


def test_bluesky_blockquote_iframe_and_links() -> None:
    """The blockquote gives AT URI, handle, name, date and time; iframes and links are posts."""
    article = parse_fixture("bluesky.html")
    assert found(article) == [
        ("bluesky", "blockquote", BSKY_URI, "county-ema.bsky.social"),
        ("bluesky", "link", "at://someone.example.org/app.bsky.feed.post/3lpgp2la4s22b",
         "someone.example.org"),
        ("bluesky", "iframe",
         "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kxqh7qq5fy2c", None),
    ]  # fmt: skip
    post = article.posts[0]
    assert (post.display_name, post.date, post.date_text) == (
        "County Emergency",
        "2025-05-17",
        "May 17, 2025 at 6:54 AM",
    )
    assert post.text == "Flood warnings stay in place overnight. #flood"
    assert post.posted_at == "2025-05-17T13:54:12.000+00:00"
    assert post.url == f"https://bsky.app/profile/{BSKY_DID}/post/3lpeoxwsmc22b"
    assert [(e.kind, e.value) for e in post.entities] == [("hashtag", "flood")]
    assert (post.lang, post.date_mismatch) == ("en", False)


def test_bluesky_handle_link_joins_the_embed_that_shows_the_handle() -> None:
    """A handle-based link to an embedded (DID-based) post is that post, not a second one."""
    article = parse_fixture("bluesky.html")
    assert [p.post_id for p in article.posts].count(BSKY_URI) == 1
    wrote = next(link for link in article.links if link.text == "wrote")
    assert (wrote.context, wrote.post_index) == ("article", None)


def test_mastodon_blockquote_iframes_and_links() -> None:
    """New blockquote and old iframe (with or without class) embeds; user@instance handles."""
    article = parse_fixture("mastodon.html")
    assert found(article) == [
        ("mastodon", "blockquote", "mastodon.social/113270271335535035", "Gargron@mastodon.social"),
        ("mastodon", "iframe", "fosstodon.org/109478936040040462", "kde@fosstodon.org"),
        ("mastodon", "iframe", "m.cmx.im/110590052385307181", "someone@m.cmx.im"),
        ("mastodon", "link", "social.example/112233445566778899", "Reporter@social.example"),
    ]
    post = article.posts[0]
    assert post.url == "https://mastodon.social/@Gargron/113270271335535035"
    assert post.posted_at == "2024-10-08T05:59:37.361+00:00"
    assert post.text is None  # "Post by ... View on Mastodon" is boilerplate


def test_instagram_blockquote_versions_amp_and_iframe() -> None:
    """v7 (time), v12 (profile link), v14 (no caption), amp and iframe; profiles are not posts."""
    article = parse_fixture("instagram.html")
    assert [(p.kind, p.post_id, p.handle, p.display_name) for p in article.posts] == [
        ("blockquote", "BalQ2SWFty8", "verein.beispiel", "Verein Beispiel"),
        ("blockquote", "B_fawQoFahE", "some.artist", "Some Artist - the studio"),
        ("blockquote", "CZIALixI8FH", "adam.climber", "Adam Climber"),
        ("amp", "B1mHd6sHGXK", None, None),
        ("iframe", "CdSXB5dNnPp", None, None),
        ("link", "Cx9yZ8wVuT1", "some.artist", None),
    ]
    v7, v12, v14 = article.posts[:3]
    assert (v7.date, v7.date_text, v7.posted_at) == (
        "2017-10-23",
        "23. Okt 2017 um 0:31 Uhr",
        "2017-10-23T07:31:37+00:00",
    )
    assert v7.text == "Was die Arbeit bei uns ausmacht... #ikigai #team"
    assert (v12.date, v12.date_text) == ("2020-04-27", "Apr 27, 2020 at 9:24am PDT")
    assert v12.text == "Swipe for the madness ➡️ #daddyissues @friend"
    assert (v14.text, v14.date, v14.url) == (
        None,
        None,
        "https://www.instagram.com/p/CZIALixI8FH/",
    )


def test_threads_and_tiktok() -> None:
    """Threads (net and com, /t/) and TikTok (blockquote, id-only, iframe); creators are not."""
    article = parse_fixture("threads_tiktok.html")
    assert found(article) == [
        ("threads", "blockquote", "C8aVHU4JD0A", "zuck"),
        ("threads", "blockquote", "DKx2hQ4sABC", "newsroom.daily"),
        ("threads", "link", "CuXFPIeLLod", None),
        ("tiktok", "blockquote", "6718335390845095173", "scout2015"),
        ("tiktok", "blockquote", "7290785513285456160", "citynews"),
        ("tiktok", "iframe", "7301234567890123456", None),
    ]
    zuck = article.posts[0]
    assert zuck.url == "https://www.threads.com/@zuck/post/C8aVHU4JD0A"
    assert zuck.text is None
    video = article.posts[3]
    assert video.text == "Scramble up ur name & I’ll try to guess it😍❤️ #foryoupage #PetsOfTikTok"
    assert video.url == "https://www.tiktok.com/@scout2015/video/6718335390845095173"
    assert video.posted_at == "2019-07-27T13:32:33.000+00:00"
    assert article.posts[5].url == "https://www.tiktok.com/embed/v2/7301234567890123456"


def test_facebook_xfbml_plugins_amp_and_localised_bylines() -> None:
    """fb-post/fb-video bylines in any language, plugin iframes, amp; plugins that are no post."""
    article = parse_fixture("facebook.html")
    rows = [
        (p.kind, p.post_id, p.handle, p.display_name, p.date, p.date_text) for p in article.posts
    ]
    assert rows == [
        ("blockquote", "pfbid02Zq9xVZxLm7hTT3Yq8cH4aHcv1rS5kQJ6wLpB8nXgT7oE9uF2dMyl", "CountyEMA",
         "County Emergency Management", "2023-09-07", "Thursday, September 7, 2023"),
        ("blockquote", "928812574504508", "Sozialdemokratie", "SPÖ", "2022-02-07",
         "Montag, 7. Februar 2022"),
        ("blockquote", "10153231379946729", "facebook", "Facebook", "2014-12-05",
         "Friday, December 5, 2014"),
        ("iframe", "2840349112961417", None, None, None, None),
        ("iframe", "1321262654994930", "elespectadorcom", None, None, None),
        ("amp", "1712989015384373", "ParksCanada", None, None, None),
        ("xfbml", "3485430308204317", "unialesznoks", None, None, None),
        ("link", "4567890123456", None, None, None, None),
        ("link", "1122334455667788", None, None, None, None),
    ]  # fmt: skip
    assert article.posts[0].text == "Shelters are open in Alder and Birch. Bring medication and ID."
    assert article.posts[2].text == "How to share with just friends."
    assert article.posts[2].url == "https://www.facebook.com/watch/?v=10153231379946729"
    assert article.posts[3].url == "https://www.facebook.com/100064475355555/posts/2840349112961417"


def test_youtube_reddit_linkedin() -> None:
    """Iframes (lazy too), amp, lite, placeholders, WordPress blocks; playlists are no videos."""
    article = parse_fixture("youtube_reddit_linkedin.html")
    assert [(p.platform, p.kind, p.post_id) for p in article.posts] == [
        ("youtube", "iframe", "dQw4w9WgXcQ"),
        ("youtube", "iframe", "EAKTYa0-iqk"),
        ("youtube", "iframe", "BItSgrSYAXA"),
        ("youtube", "amp", "mGENRKrdoGY"),
        ("youtube", "lite", "ogfYd705cRs"),
        ("youtube", "placeholder", "Iuobpte4ndQ"),
        ("youtube", "wp-embed", "9bZkp7q19f0"),
        ("youtube", "link", "aqz-KE-bpKQ"),
        ("reddit", "blockquote", "t3_1d4x0qa"),
        ("reddit", "blockquote", "t3_6gq7fk"),
        ("reddit", "blockquote", "t1_e25ifmv"),
        ("reddit", "iframe", "t3_9ke5tq"),
        ("reddit", "link", "t3_92dd8"),
        ("linkedin", "iframe", "urn:li:share:7123456789012345678"),
        ("linkedin", "iframe", "urn:li:ugcPost:7098765432109876543"),
        ("linkedin", "link", "urn:li:activity:7111222333444555666"),
    ]
    by_id = {p.post_id: p for p in article.posts}
    cat = by_id["t3_1d4x0qa"]
    assert (cat.handle, cat.text, cat.url) == (
        "catperson42",
        "My cat learned to open doors",
        "https://www.reddit.com/r/aww/comments/1d4x0qa/",
    )
    assert by_id["t3_6gq7fk"].url == "https://www.reddit.com/r/pics/comments/6gq7fk/"
    comment = by_id["t1_e25ifmv"]
    assert (comment.handle, comment.text) == ("historian_x", None)
    assert comment.url == "https://www.reddit.com/r/AskHistorians/comments/8xq1e5/_/e25ifmv/"
    share = by_id["urn:li:share:7123456789012345678"]
    assert share.posted_at == "2023-10-26T23:54:05.927+00:00"
    assert by_id["urn:li:activity:7111222333444555666"].handle == "jane-doe-123"
    assert by_id["dQw4w9WgXcQ"].url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def test_escaped_embeds_and_page_furniture() -> None:
    """Embeds escaped in JSON or attributes are found; sidebar and footer links cite nothing."""
    article = parse_fixture("escaped_and_chrome.html")
    assert found(article) == [
        ("instagram", "escaped", "CYokA48MWDA", "ally_account"),
        ("facebook", "escaped", "1321262654994930", "citynews"),
        ("youtube", "escaped", "1QFMPo5k6p0", None),
        ("twitter", "blockquote", "1812784418784061907", "CountyEMA"),
    ]


def test_x_com_and_front_end_links_are_the_embedded_tweet() -> None:
    """x.com, Nitter and vxtwitter links to an embedded tweet add no post; the links stay."""
    article = parse_fixture("escaped_and_chrome.html")
    tweet = article.posts[3]
    assert tweet.kind == "blockquote"  # the embed's kind, though a link came first
    texts = {link.text: link.context for link in article.links}
    assert texts["the same post on Nitter"] == "article"
    assert texts["5 hours ago"] == "article"  # still a link row, but no citation


def test_plain_text_article_cites_linked_posts() -> None:
    """Markdown links to posts become link citations after the quoted tweets, once each."""
    path = FIXTURES / "linked.md"
    article = parse_document(path.read_bytes(), source=str(path))
    assert found(article) == [
        ("twitter", "text-signature", "1812784418784061907", "CountyEMA"),
        ("bluesky", "link", "at://county-ema.bsky.social/app.bsky.feed.post/3lpeoxwsmc22b",
         "county-ema.bsky.social"),
        ("youtube", "link", "aqz-KE-bpKQ", None),
        ("mastodon", "link", "mastodon.social/113270271335535035", "Gargron@mastodon.social"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "markup",
    [
        '<blockquote class="tiktok-embed" cite="https://www.tiktok.com/@a" data-unique-id="a" '
        'data-embed-type="creator"><section><a href="https://www.tiktok.com/@a">@a</a>'
        "</section></blockquote>",
        '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/a/">'
        "</blockquote>",
        '<div class="fb-page" data-href="https://www.facebook.com/a"></div>',
        '<amp-facebook-page data-href="https://www.facebook.com/a"></amp-facebook-page>',
        '<iframe src="https://www.facebook.com/plugins/like.php?href=https%3A%2F%2Fa.example"></iframe>',
        '<iframe src="https://www.youtube.com/embed/videoseries?list=PL590L5WQmH8fJ54F369BLDSqIwcs"></iframe>',
        '<iframe src="https://www.youtube.com/embed/live_stream?channel=UC_x5XG1OV2P6uZZ5FSM9Ttw"></iframe>',
        '<iframe src="https://embed.bsky.app/embed/did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.generator/x"></iframe>',
        '<iframe src="https://player.vimeo.com/video/76979871"></iframe>',
        '<blockquote class="reddit-card"><a href="https://www.reddit.com/r/pics/">r/pics</a></blockquote>',
        '<blockquote class="mastodon-embed"><a href="https://mastodon.social/@Gargron">x</a></blockquote>',
        '<div class="youtube-subscribe" data-channel="GoogleDevelopers"></div>',
        '<p><a href="https://www.youtube.com/@newsroom">channel</a> '
        '<a href="https://www.linkedin.com/in/jane/">profile</a> '
        '<a href="https://www.reddit.com/r/pics/s/AbCdEf">share</a></p>',
    ],
)
def test_negatives_are_not_posts(markup: str) -> None:
    """Profile and creator embeds, page plugins, like buttons, playlists, share links."""
    article = parse_document(f"<html><body>{markup}</body></html>", source="n.html", base_url=BASE)
    assert article.posts == []


# --- post URLs -------------------------------------------------------------------------------

TWEET = "1812784418784061907"


@pytest.mark.parametrize(
    "url",
    [
        f"https://twitter.com/CountyEMA/status/{TWEET}",
        f"https://x.com/CountyEMA/status/{TWEET}?s=20",
        f"https://mobile.twitter.com/CountyEMA/status/{TWEET}/photo/1",
        f"https://fxtwitter.com/CountyEMA/status/{TWEET}",
        f"https://vxtwitter.com/CountyEMA/status/{TWEET}",
        f"https://fixupx.com/CountyEMA/status/{TWEET}",
        f"https://nitter.net/CountyEMA/status/{TWEET}#m",
        f"https://xcancel.com/CountyEMA/status/{TWEET}",
        f"https://web.archive.org/web/20240715000000/https://twitter.com/CountyEMA/status/{TWEET}",
    ],
)
def test_twitter_forms_resolve_to_the_same_post(url: str) -> None:
    """Every Twitter host and front-end gives the one canonical status URL."""
    ref = parse_post_url(url)
    assert ref == StatusRef(
        "twitter", "CountyEMA", TWEET, f"https://twitter.com/CountyEMA/status/{TWEET}"
    )


POST_URLS = [
    # (url, platform, post_id, handle, canonical url)
    (f"https://bsky.app/profile/{BSKY_DID}/post/3lpeoxwsmc22b?ref_src=embed", "bluesky", BSKY_URI,
     None, f"https://bsky.app/profile/{BSKY_DID}/post/3lpeoxwsmc22b"),
    ("https://bsky.app/profile/County-EMA.bsky.social/post/3lpeoxwsmc22b", "bluesky",
     "at://county-ema.bsky.social/app.bsky.feed.post/3lpeoxwsmc22b", "county-ema.bsky.social",
     "https://bsky.app/profile/county-ema.bsky.social/post/3lpeoxwsmc22b"),
    (f"https://embed.bsky.app/embed/{BSKY_DID}/app.bsky.feed.post/3lpeoxwsmc22b?id=1", "bluesky",
     BSKY_URI, None, f"https://bsky.app/profile/{BSKY_DID}/post/3lpeoxwsmc22b"),
    ("https://mastodon.social/@Gargron/113270271335535035/embed", "mastodon",
     "mastodon.social/113270271335535035", "Gargron@mastodon.social",
     "https://mastodon.social/@Gargron/113270271335535035"),
    ("https://mastodon.social/users/Gargron/statuses/113270271335535035", "mastodon",
     "mastodon.social/113270271335535035", "Gargron@mastodon.social",
     "https://mastodon.social/@Gargron/113270271335535035"),
    ("https://social.example/web/@kde@fosstodon.org/109478936040040462", "mastodon",
     "social.example/109478936040040462", "kde@fosstodon.org",
     "https://social.example/@kde@fosstodon.org/109478936040040462"),
    ("https://www.instagram.com/reel/CZIALixI8FH/?igsh=x", "instagram", "CZIALixI8FH", None,
     "https://www.instagram.com/p/CZIALixI8FH/"),
    ("https://instagram.com/tv/B1mHd6sHGXK", "instagram", "B1mHd6sHGXK", None,
     "https://www.instagram.com/p/B1mHd6sHGXK/"),
    ("https://www.instagram.com/p/CdSXB5dNnPp/embed/captioned/", "instagram", "CdSXB5dNnPp", None,
     "https://www.instagram.com/p/CdSXB5dNnPp/"),
    ("https://www.threads.net/@zuck/post/C8aVHU4JD0A/embed", "threads", "C8aVHU4JD0A", "zuck",
     "https://www.threads.com/@zuck/post/C8aVHU4JD0A"),
    ("https://www.tiktok.com/@scout2015/video/6718335390845095173?lang=en", "tiktok",
     "6718335390845095173", "scout2015",
     "https://www.tiktok.com/@scout2015/video/6718335390845095173"),
    ("https://www.tiktok.com/player/v1/6718335390845095173", "tiktok", "6718335390845095173",
     None, "https://www.tiktok.com/embed/v2/6718335390845095173"),
    ("https://de-de.facebook.com/CountyEMA/videos/a-slug/1321262654994930/", "facebook",
     "1321262654994930", "CountyEMA", "https://www.facebook.com/watch/?v=1321262654994930"),
    ("https://www.facebook.com/reel/1321262654994930", "facebook", "1321262654994930", None,
     "https://www.facebook.com/watch/?v=1321262654994930"),
    ("https://www.facebook.com/photo.php?fbid=3485430308204317&set=a.1", "facebook",
     "3485430308204317", None, "https://www.facebook.com/photo/?fbid=3485430308204317"),
    ("https://www.facebook.com/v18.0/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2F"
     "NASA%2Fposts%2F123456789012345", "facebook", "123456789012345", "NASA",
     "https://www.facebook.com/NASA/posts/123456789012345"),
    ("https://youtu.be/dQw4w9WgXcQ?t=42", "youtube", "dQw4w9WgXcQ", None,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ", None,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://www.youtube.com/live/dQw4w9WgXcQ", "youtube", "dQw4w9WgXcQ", None,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
    ("https://old.reddit.com/r/aww/comments/1d4x0qa/my_cat/l6fq3xz/", "reddit", "t1_l6fq3xz",
     None, "https://www.reddit.com/r/aww/comments/1d4x0qa/_/l6fq3xz/"),
    ("https://embed.reddit.com/r/aww/comments/1d4x0qa/my_cat/?embed=true", "reddit",
     "t3_1d4x0qa", None, "https://www.reddit.com/r/aww/comments/1d4x0qa/"),
    ("https://www.linkedin.com/feed/update/urn%3Ali%3Aactivity%3A7111222333444555666/",
     "linkedin", "urn:li:activity:7111222333444555666", None,
     "https://www.linkedin.com/feed/update/urn:li:activity:7111222333444555666/"),
    ("youtube.com/shorts/aqz-KE-bpKQ", "youtube", "aqz-KE-bpKQ", None,
     "https://www.youtube.com/watch?v=aqz-KE-bpKQ"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "platform", "post_id", "handle", "canonical"), POST_URLS)
def test_post_urls_of_every_platform(
    url: str, platform: str, post_id: str, handle: str | None, canonical: str
) -> None:
    """Post and embed URLs of each platform give its id, handle and one canonical URL."""
    assert parse_post_url(url) == StatusRef(platform, handle, post_id, canonical)


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example/article",
        "/relative/path",
        "https://bsky.app/profile/county-ema.bsky.social",
        "https://mastodon.social/@Gargron",
        "https://mastodon.social/tags/flood",
        "https://medium.com/@writer/a-story-1a2b3c4d5e6f",
        "https://www.instagram.com/newsroom/",
        "https://www.instagram.com/p/abc/",
        "https://www.threads.net/@zuck",
        "https://vm.tiktok.com/ZMabc123/",
        "https://www.tiktok.com/@scout2015",
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example",
        "https://www.facebook.com/share/p/1AbCdEfGh/",
        "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2FNASA",
        "https://www.youtube.com/playlist?list=PL590L5WQmH8fJ54F369BLDSqIwcs",
        "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw",
        "https://www.reddit.com/r/aww/",
        "https://www.linkedin.com/company/newsroom/",
        "https://twitter.com/intent/tweet?text=x",
        "",
        "https://[::1",
    ],
)
def test_urls_that_name_no_post(url: str) -> None:
    """Profiles, channels, tags, share buttons, short links and junk are not posts."""
    assert parse_post_url(url) is None


def test_times_encoded_in_ids() -> None:
    """Bluesky TIDs, Mastodon, TikTok and LinkedIn ids give posted_at; others give none."""
    assert posted_at_for("bluesky", BSKY_URI) == "2025-05-17T13:54:12.000+00:00"
    assert posted_at_for("mastodon", "mastodon.social/113270271335535035") == (
        "2024-10-08T05:59:37.361+00:00"
    )
    assert posted_at_for("mastodon", "mastodon.social/42") is None  # a pre-snowflake id
    assert posted_at_for("tiktok", "6718335390845095173") == "2019-07-27T13:32:33.000+00:00"
    assert posted_at_for("linkedin", "urn:li:share:7123456789012345678") == (
        "2023-10-26T23:54:05.927+00:00"
    )
    assert posted_at_for("twitter", TWEET) == "2024-07-15T09:41:00.000+00:00"
    assert posted_at_for("youtube", "dQw4w9WgXcQ") is None
    assert posted_at_for("bluesky", "at://did:plc:x/app.bsky.feed.post/self") is None


def test_canonical_urls_for_datasette() -> None:
    """The Datasette plugin links each platform's post id (or key) to its public page."""
    assert (
        post_url("youtube", "youtube:dQw4w9WgXcQ") == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    assert post_url("bluesky", f"bluesky:{BSKY_URI}") == (
        f"https://bsky.app/profile/{BSKY_DID}/post/3lpeoxwsmc22b"
    )
    assert post_url("reddit", "t3_1d4x0qa") == "https://www.reddit.com/comments/1d4x0qa/"
    assert post_url("mastodon", "mastodon.social/1") is None  # needs the author's name
    assert post_url("youtube", "youtube:h-0123abcd") is None
    assert canonical_post_url("twitter", TWEET) == f"https://twitter.com/i/web/status/{TWEET}"
    assert profile_url("reddit", "catperson42") == "https://www.reddit.com/user/catperson42/"
    assert profile_url("mastodon", "Gargron@mastodon.social") == "https://mastodon.social/@Gargron"


# --- the store ---------------------------------------------------------------------------------


def _table(db: Database, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.execute(sql).fetchall()]


def test_posts_of_every_platform_share_the_tables(tmp_path: Path) -> None:
    """Each platform's posts, accounts and link citations are stored, idempotently."""
    db = open_database(tmp_path / "citations.db")
    try:
        for name in ("bluesky.html", "youtube_reddit_linkedin.html", "facebook.html"):
            article = parse_fixture(name)
            article.url = f"https://news.example/{name}"
            for _ in range(2):
                save_article(db, article, source=name, fetched_at="2025-05-18T00:00:00+00:00")
        platforms = _table(db, "SELECT platform, count(*) FROM posts GROUP BY platform")
        assert platforms == [("bluesky", 3), ("facebook", 9), ("linkedin", 3), ("reddit", 5),
                             ("youtube", 8)]  # fmt: skip
        (bsky,) = _table(db, f"SELECT id, url, posted_at FROM posts WHERE post_id = '{BSKY_URI}'")
        assert bsky == (
            f"bluesky:{BSKY_URI}",
            f"https://bsky.app/profile/{BSKY_DID}/post/3lpeoxwsmc22b",
            "2025-05-17T13:54:12.000+00:00",
        )
        kinds = _table(db, "SELECT kind, count(*) FROM citations GROUP BY kind ORDER BY kind")
        assert dict(kinds)["link"] == 6
        accounts = _table(
            db, "SELECT platform, handle, url FROM accounts WHERE platform = 'reddit'"
        )
        assert accounts == [
            ("reddit", "catperson42", "https://www.reddit.com/user/catperson42/"),
            ("reddit", "historian_x", "https://www.reddit.com/user/historian_x/"),
        ]
        # a link row stays an article link: the citation, not the link, ties it to the post
        linked = _table(
            db,
            "SELECT l.context, l.post_id FROM links l JOIN urls u ON u.id = l.url_id "
            "WHERE u.url = 'https://redd.it/92dd8'",
        )
        assert linked == [("article", None)]
    finally:
        db.close()


# --- the shared corpus ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_evaluation() -> Any:
    if not (CORPUS / "pages.tsv").is_file():
        pytest.skip("the shared corpus (../shared/corpus) is not here")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        import eval_platforms
    finally:
        sys.path.pop(0)
    return eval_platforms.evaluate(CORPUS, labelled_for=("instagram", "facebook"))


def test_corpus_instagram_and_facebook_counts(corpus_evaluation: Any) -> None:
    """On the corpus pages labelled for them, Instagram and Facebook embeds are all found."""
    instagram = corpus_evaluation.scores["instagram"]
    assert (instagram.tp, instagram.fp, instagram.fn) == (111, 0, 0)
    facebook = corpus_evaluation.scores["facebook"]
    # the one labelled "amp-facebook" is an amp-facebook-page (a page plugin, not a post)
    assert (facebook.tp, facebook.fp, facebook.fn) == (4, 0, 1)
