"""Tweets quoted as text signatures, and plain-text / Markdown articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.model import Article
from scraper.parse.text import (
    Signature,
    find_text_links,
    find_text_posts,
    parse_signature,
    parse_text_article,
)

FIXTURES = Path(__file__).parent / "fixtures" / "text"
SEED = Path(__file__).parents[2] / "shared" / "seeds" / "mississippi-raids-article.txt"


def _read(name: str) -> str:
    """A fixture file's text exactly as stored (line endings kept)."""
    with (FIXTURES / name).open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _assert_links_consistent(article: Article) -> None:
    """Each post's links are exactly the URLs of the Link entries pointing at it."""
    for index, post in enumerate(article.posts):
        assert post.links == [link.url for link in article.links if link.post_index == index]
    assert [link.position for link in article.links] == list(range(len(article.links)))
    for link in article.links:
        assert (link.context == "post") == (link.post_index is not None)


@pytest.fixture
def seed_text() -> str:
    """The seed article from ../shared, skipping when it is absent."""
    if not SEED.exists():
        pytest.skip(f"{SEED} is absent")
    return SEED.read_text(encoding="utf-8")


def test_seed_article_has_the_seven_tweets(seed_text: str) -> None:
    """The seed yields exactly its 7 quoted tweets with handles, names and dates."""
    article = parse_text_article(seed_text, source="seed.txt")
    assert [(p.handle, p.display_name, p.date, p.date_text) for p in article.posts] == [
        ("girlsreallyrule", "Amee Vanderpool", "2019-08-08", "August 8, 2019"),
        ("amyfeldman", "Amy Feldman", "2019-08-07", "August 7, 2019"),
        ("britishemily78", "TexasBrit", "2019-08-08", "August 8, 2019"),
        ("seankent", "Sean Kent", "2019-08-08", "August 8, 2019"),
        ("adamcbest", "Adam Best", "2019-08-08", "August 8, 2019"),
        ("JuanSaaa", "Juan Escalante", "2019-08-08", "August 8, 2019"),
        ("RAICESTEXAS", "RAICES", "2019-08-08", "August 8, 2019"),
    ]
    assert all(p.platform == "twitter" and p.kind == "text-signature" for p in article.posts)
    assert all(p.post_id is None and p.url is None for p in article.posts)
    assert article.title is None


def test_seed_article_tweet_text_boundaries(seed_text: str) -> None:
    """Each tweet's text starts at its paragraph and stops before the signature dash."""
    posts = parse_text_article(seed_text, source="seed.txt").posts
    texts = [p.text or "" for p in posts]
    assert texts[0].startswith("The children of the people arrested in yesterday")
    assert texts[0].endswith("(photos via @AlexLoveWJTV) pic.twitter.com/hM7EG8A5YS")
    assert texts[1].startswith("Arrests reported at Koch Foods")
    assert texts[1].endswith("@BurgerKing https://t.co/B8x1pckIkH")
    assert texts[2].endswith("#ICEraids #TrumpAdministration #MississippiRaids")
    assert texts[5].startswith("CONCLUSION: ICE will lie and overstretch")
    assert "objective — destroy and separate families" in texts[5]
    assert texts[5].endswith("#immigration https://t.co/MnBSrYY11Q")
    assert texts[6].startswith("IMPORTANT THREAD")
    assert not any("—" in t[-3:] or "Juan Escalante" in t for t in texts)


def test_seed_article_links_and_entities(seed_text: str) -> None:
    """Links are normalised t.co URLs inside posts; entities carry no sign."""
    article = parse_text_article(seed_text, source="seed.txt")
    assert [p.links for p in article.posts] == [
        ["https://t.co/hM7EG8A5YS"],
        ["https://t.co/B8x1pckIkH"],
        [],
        [],
        [],
        ["https://t.co/MnBSrYY11Q"],
        ["https://t.co/P0ji5877oe"],
    ]
    assert article.links[0].text == "pic.twitter.com/hM7EG8A5YS"
    assert all(link.context == "post" for link in article.links)
    _assert_links_consistent(article)
    entities = [[(e.kind, e.value) for e in p.entities] for p in article.posts]
    assert entities[0] == [("hashtag", "ICEraids"), ("mention", "AlexLoveWJTV")]
    assert entities[1] == [("cashtag", "WMT"), ("mention", "BurgerKing")]
    assert entities[2] == [
        ("hashtag", "ICEraids"),
        ("hashtag", "TrumpAdministration"),
        ("hashtag", "MississippiRaids"),
    ]
    assert entities[5] == [("hashtag", "ICEraids"), ("hashtag", "immigration")]


def test_seed_article_spans_cover_tweet_and_signature(seed_text: str) -> None:
    """Each span runs from the tweet's first word to the end of its date."""
    for found in find_text_posts(seed_text):
        span = seed_text[found.start : found.end]
        assert span.endswith(found.post.date_text or "")
        assert span.startswith((found.post.text or "")[:20])


def test_own_paragraph_fixture() -> None:
    """Tweets in their own paragraphs: em dash inside the tweet, emoji and dots in names."""
    article = parse_text_article(_read("own_paragraph.txt"), source="own_paragraph.txt")
    assert article.title == "Town council votes on the new bridge"
    first, second = article.posts
    assert (first.handle, first.display_name, first.date) == (
        "riverwatch_org",
        "River Watch",
        "2020-03-03",
    )
    assert first.text == (
        "The bridge vote is tonight — bring a sign, bring a friend. "
        "Details: https://example.org/bridge-vote?ref=tw. #BridgeVote"
    )
    assert first.links == ["https://example.org/bridge-vote?ref=tw"]
    assert [(e.kind, e.value) for e in first.entities] == [("hashtag", "BridgeVote")]
    assert (second.handle, second.display_name, second.date_text, second.date) == (
        "janeqpublic",
        "Dr. Jane Q. Public 🌉",
        "Mar 4, 2020",
        "2020-03-04",
    )
    assert second.text is not None
    assert second.text.startswith("We counted 412 cars")
    assert "— that's a jam." in second.text
    assert second.links == ["https://t.co/Ab3dE5fGh1"]
    _assert_links_consistent(article)


def test_glued_fixture() -> None:
    """Signatures glued to prose: the date ends at the year and the next tweet starts there."""
    text = _read("glued.txt")
    found = find_text_posts(text)
    assert [(f.post.handle, f.post.display_name, f.post.date) for f in found] == [
        ("elonmusk", "Elon Musk", "2024-06-05"),
        ("SpaceCoastWx", "Space Coast Weather", "2024-06-06"),
    ]
    assert (
        found[0].post.text == "The launch was delayed again, and the chief executive said so on X!"
    )
    assert text[found[0].end :].startswith("SpaceX is now targeting")
    assert found[1].post.text is not None
    assert found[1].post.text.startswith("SpaceX is now targeting Thursday")
    assert found[1].post.text.endswith("80% go for launch")
    assert text[found[1].end :].startswith("The launch went ahead")


def test_double_hyphen_fixture() -> None:
    """``--`` works as the signature dash; an earlier ``--`` stays in the tweet."""
    (post,) = parse_text_article(_read("double_hyphen.txt"), source="d.txt").posts
    assert (post.handle, post.display_name, post.date) == ("sam_reads", "Sam Reader", "2021-11-12")
    assert (
        post.text
        == "Honestly the best thread I have read all year -- read it all https://t.co/Xy12AbCdEf"
    )
    assert post.links == ["https://t.co/Xy12AbCdEf"]


def test_mojibake_fixture() -> None:
    """UTF-8 read as cp1252 (``â€”``) is a dash, and the tweet text is repaired."""
    (post,) = parse_text_article(_read("mojibake.txt"), source="m.txt").posts
    assert (post.handle, post.display_name, post.date) == (
        "MayorAnaRuiz",
        "Mayor Ana Ruiz",
        "2019-08-09",
    )
    assert post.text == (
        "The mayor didn’t wait long to reply — she posted within minutes. https://t.co/MoJiBaKe01"
    )
    assert post.links == ["https://t.co/MoJiBaKe01"]


def test_crlf_fixture() -> None:
    """CRLF line endings: the tweet spans two lines and its text uses plain newlines."""
    text = _read("crlf.txt")
    assert "\r\n" in text
    article = parse_text_article(text, source="crlf.txt")
    assert article.title == "CRLF article"
    (post,) = article.posts
    assert post.text == "Line one of the tweet\nline two #crlf https://t.co/CrLf000001"
    assert (post.handle, post.display_name, post.date) == ("crlf_user", "Line Ending", "2022-01-02")
    assert [(e.kind, e.value) for e in post.entities] == [("hashtag", "crlf")]


def test_markdown_fixture() -> None:
    """Markdown blockquotes with a date link give ids, URLs and posted_at; links keep anchors."""
    article = parse_text_article(
        _read("markdown.md"), source="markdown.md", base_url="https://news.example.com/2023/07/x"
    )
    assert article.title == "Flood warnings across the valley"
    assert article.url == "https://news.example.com/2023/07/x"
    first, second = article.posts
    assert first.post_id == "1678450000000000000"
    assert first.url == "https://twitter.com/NWSValley/status/1678450000000000000"
    assert first.posted_at == "2023-07-10T17:03:58.750+00:00"
    assert first.date == "2023-07-10"
    assert first.date_mismatch is False
    assert first.text == (
        "Flash flood warning for the valley until 9 PM. Move to higher ground now. #flood\n"
        "https://t.co/FlOoD00001"
    )
    assert second.display_name == "Río Grande 🇲🇽"
    assert second.url == "https://twitter.com/rio_grande/status/1678460000000000000"
    assert second.text == "Our street this morning 😳\n\npic.twitter.com/StReEt0001"
    assert [(link.url, link.text, link.context, link.post_index) for link in article.links] == [
        ("https://news.example.com/alerts/2023-07-10", "an alert", "article", None),
        ("https://t.co/FlOoD00001", "https://t.co/FlOoD00001", "post", 0),
        (
            "https://twitter.com/NWSValley/status/1678450000000000000?s=20",
            "July 10, 2023",
            "post",
            0,
        ),
        ("https://t.co/StReEt0001", "pic.twitter.com/StReEt0001", "post", 1),
        (
            "https://x.com/rio_grande/status/1678460000000000000/photo/1",
            "July 10, 2023",
            "post",
            1,
        ),
        (
            "https://weather.example.gov/valley",
            "https://weather.example.gov/valley",
            "article",
            None,
        ),
        ("https://county.example.gov/flood", "the county site", "article", None),
    ]
    _assert_links_consistent(article)


@pytest.mark.parametrize(
    "name",
    [
        "John (Jack) Smith",
        "Dr. J. R. R. Tolkien",
        "🌉 Bridge Fan 🌉",
        "Анна Петрова",
        "محمد",
        "東京都",
    ],
)
def test_display_name_variants(name: str) -> None:
    """Display names keep spaces, dots, emoji, parentheses and non-Latin letters."""
    (found,) = find_text_posts(f"Some tweet text — {name} (@someone_1) Aug 1, 2020")
    assert found.post.display_name == name
    assert found.post.text == "Some tweet text"


def test_markdown_date_mismatch() -> None:
    """A shown date far from the id's moment is flagged as a mismatch."""
    text = (
        "> Hello\n> — A (@a) [August 8, 2015](https://twitter.com/a/status/1159518138349498368)\n"
    )
    (found,) = find_text_posts(text)
    assert found.post.date == "2015-08-08"
    assert found.post.date_mismatch is True


def test_localised_fixture() -> None:
    """Localised signature dates (de, ja, es, fr, ru) are recognised and read."""
    posts = parse_text_article(_read("localised.txt"), source="l.txt").posts
    assert [(p.handle, p.display_name, p.date_text, p.date) for p in posts] == [
        ("stadtkoeln", "Stadt Köln", "12. August 2018", "2018-08-12"),
        ("tokyo_bousai", "東京都", "2018年3月21日", "2018-03-21"),
        ("CDMX", "Ciudad de México", "8 de agosto de 2019", "2019-08-08"),
        ("Paris", "Ville de Paris", "8 août 2019", "2019-08-08"),
        ("wetteronline", "Wetter Online", "3. März 2020", "2020-03-03"),
        ("mos_ru", "Москва", "8 августа 2019 г.", "2019-08-08"),
    ]
    assert posts[0].text == "Die Brücke ist endlich offen! #Brücke"
    assert [(e.kind, e.value) for e in posts[0].entities] == [("hashtag", "Brücke")]


def test_negatives_fixture() -> None:
    """``(@handle)`` without a dash and a readable date is prose, not a post."""
    article = parse_text_article(_read("negatives.txt"), source="n.txt")
    assert article.posts == []
    assert article.links == []
    assert article.title == "No quoted tweets here"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "— Amee Vanderpool (@girlsreallyrule) August 8, 2019",
            Signature("Amee Vanderpool", "girlsreallyrule", "August 8, 2019", None),
        ),
        (
            "&mdash; Amee Vanderpool (@girlsreallyrule) August 8, 2019",
            Signature("Amee Vanderpool", "girlsreallyrule", "August 8, 2019", None),
        ),
        (
            "-- Sam (@sam_reads) 12 November 2021",
            Signature("Sam", "sam_reads", "12 November 2021", None),
        ),
        (
            "â€” Mayor Ana Ruiz (@MayorAnaRuiz) Aug 9, 2019",
            Signature("Mayor Ana Ruiz", "MayorAnaRuiz", "Aug 9, 2019", None),
        ),
        (
            "Amee Vanderpool (@girlsreallyrule) August 8, 2019",
            Signature("Amee Vanderpool", "girlsreallyrule", "August 8, 2019", None),
        ),
        (
            "\n  —\u00a0Stadt Köln\n(@stadtkoeln)\n12. August 2018 ",
            Signature("Stadt Köln", "stadtkoeln", "12. August 2018", None),
        ),
        (
            "— Elon Musk (@elonmusk) May 17, 2025 at 6:54 AM",
            Signature("Elon Musk", "elonmusk", "May 17, 2025 at 6:54 AM", None),
        ),
        (
            "— NWS (@NWSValley) [July 10, 2023](https://x.com/NWSValley/status/1678450000000000000?s=20)",
            Signature(
                "NWS",
                "NWSValley",
                "July 10, 2023",
                "https://twitter.com/NWSValley/status/1678450000000000000",
            ),
        ),
        ("— (@nobody)", Signature(None, "nobody", None, None)),
        (
            "tweet text — with a dash — Real Name (@real) Aug 1, 2020",
            Signature("Real Name", "real", "Aug 1, 2020", None),
        ),
        ("no handle here — August 8, 2019", None),
        ("", None),
    ],
)
def test_parse_signature(text: str, expected: Signature | None) -> None:
    """Signature strings in every dash form split into name, handle, date and link."""
    assert parse_signature(text) == expected


def test_find_text_links_forms() -> None:
    """Bare t.co, pic.twitter.com, http(s) URLs and Markdown links, in order, trimmed."""
    text = (
        "See t.co/AbC123 and pic.twitter.com/Zz9 (also https://example.com/a_(b)), "
        "http://t.co/Http01. [docs](https://docs.example.com/x) [mail](mailto:a@b.c) "
        "<https://auto.example.com/> “https://quoted.example.com/p”"
    )
    assert find_text_links(text) == [
        ("https://t.co/AbC123", "t.co/AbC123", text.index("t.co/AbC")),
        ("https://t.co/Zz9", "pic.twitter.com/Zz9", text.index("pic.")),
        ("https://example.com/a_(b)", "https://example.com/a_(b)", text.index("https://example")),
        ("https://t.co/Http01", "http://t.co/Http01", text.index("http://t.co")),
        ("https://docs.example.com/x", "docs", text.index("[docs]")),
        ("https://auto.example.com/", "https://auto.example.com/", text.index("https://auto")),
        (
            "https://quoted.example.com/p",
            "https://quoted.example.com/p",
            text.index("https://quoted"),
        ),
    ]


def test_title_detection() -> None:
    """Headings and short unpunctuated first lines are titles; sentences are not."""
    assert parse_text_article("## Big news ##\n\nBody.", source="x").title == "Big news"
    assert parse_text_article("\n\nShort title\n\nBody.", source="x").title == "Short title"
    assert parse_text_article("This is a sentence.\n\nBody.", source="x").title is None
    assert parse_text_article("", source="x").title is None
    opening_tweet = "Hi all — A (@a) Aug 1, 2020\n\nBody."
    assert parse_text_article(opening_tweet, source="x").title is None


def test_big_hostile_input_finishes() -> None:
    """A 1 MB text full of dashes, handles and dates is processed (no catastrophic backtracking)."""
    noise = "— (@" * 500 + "text -- (@x) " * 200 + "[a](b " + "x (@h) August 8, 2019 " * 20
    signature = "A tweet #big — Big Name (@big_name) August 8, 2019\n\n"
    chunk = noise + signature
    text = chunk * (1_000_000 // len(chunk) + 1)
    assert len(text) >= 1_000_000
    article = parse_text_article(text, source="big.txt")
    assert article.posts
    assert {p.handle for p in article.posts} >= {"big_name"}
    _assert_links_consistent(article)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "— ",
                "--",
                "â€”",
                " (@",
                "a_b",
                ") ",
                "August 8, 2019",
                "8. März 2020",
                "\n",
                "\r\n",
                "\n\n",
                "> ",
                "[x](https://t.co/Q1)",
                "pic.twitter.com/Ab1",
                " #tag",
                "$WMT",
                "é",
                "🌉",
            ]
        )
        | st.text(max_size=5),
        max_size=40,
    ).map("".join)
)
def test_find_text_posts_never_raises(text: str) -> None:
    """Arbitrary text never raises; spans are ordered, disjoint and inside the text."""
    found = find_text_posts(text)
    previous_end = 0
    for item in found:
        assert previous_end <= item.start <= item.end <= len(text)
        previous_end = item.end
        assert item.post.handle
    _assert_links_consistent(parse_text_article(text, source="h"))
    signature = parse_signature(text)
    assert signature is None or signature.handle in text


SIGNATURE = " — Alder County EMA (@AlderCountyEMA) July 15, 2024"


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (  # the bundled sample: a lead-in glued to the post by its colon
            "Not everyone was reassured. One volunteer wrote that the stations ran out within"
            " hours:Sandbag station at the fairgrounds is out of sand AGAIN.",
            "Sandbag station at the fairgrounds is out of sand AGAIN.",
        ),
        (  # a verb of saying and a colon
            "The dam operator answered within the hour: The dam is intact.",
            "The dam is intact.",
        ),
        (  # a lead-in on its own line
            "A resident of Mill Street described the scene this morning:\n"
            "Water is up to the porch.",
            "Water is up to the porch.",
        ),
        (  # the post in quotation marks after the lead-in
            "The office said, “Shelters are open at Lincoln High.”",
            "Shelters are open at Lincoln High.",
        ),
        (  # posts with colons of their own keep them
            "Evacuation update: shelters are open at Lincoln High. Details: https://t.co/Vb7R",
            "Evacuation update: shelters are open at Lincoln High. Details: https://t.co/Vb7R",
        ),
        (
            "CONCLUSION: ICE will lie and overstretch in order to meet their objective.",
            "CONCLUSION: ICE will lie and overstretch in order to meet their objective.",
        ),
        (  # a quotation inside the post is not a lead-in
            "They love to preach “pull yourself up by the bootstraps” until it costs them.",
            "They love to preach “pull yourself up by the bootstraps” until it costs them.",
        ),
        (  # URLs and times hold colons that end nothing
            "Meeting at 9:30 at https://example.test/x today.",
            "Meeting at 9:30 at https://example.test/x today.",
        ),
    ],
)
def test_post_starts_after_the_reporters_lead_in(paragraph: str, expected: str) -> None:
    """A lead-in in the post's paragraph (colon after a verb of saying, glued colon, line
    break, quotation mark) stays out of the post's text; the post's own colons stay in."""
    (found,) = find_text_posts(paragraph + SIGNATURE)
    assert found.post.text == expected
    assert (paragraph + SIGNATURE)[found.start :].startswith(expected.split()[0].strip("“"))


def test_lead_in_links_stay_article_links() -> None:
    """A link in the reporter's lead-in is the article's, not the post's."""
    text = (
        "Officials [wrote on their site](https://county.example/news) this morning:"
        " Shelters are open at https://t.co/AbC123" + SIGNATURE
    )
    article = parse_text_article(text, source="lead.md")
    assert article.posts[0].text == "Shelters are open at https://t.co/AbC123"
    contexts = {link.url: link.context for link in article.links}
    assert contexts == {"https://county.example/news": "article", "https://t.co/AbC123": "post"}
    _assert_links_consistent(article)
