"""Embeds that editors and embed services leave as a placeholder holding only the post's
URL (kind ``oembed``) or id (Embetty's), oEmbed services' iframes, WordPress 7's X embed
block, and embeds a consent tool keeps base64-encoded; and the near misses."""

from __future__ import annotations

import base64

import pytest

from scraper.parse import parse_document

STATUS = "https://twitter.com/NWS/status/1234567890123456789"
BLOCKQUOTE = (
    '<blockquote class="twitter-tweet"><p>Flood warning until 6 PM.</p>&mdash; NWS (@NWS) '
    f'<a href="{STATUS}">May 1, 2020</a></blockquote>'
)


def posts(body: str) -> list[tuple[str, str, str | None, str | None]]:
    html = f"<html><body><p>What the weather service said.</p>{body}</body></html>"
    article = parse_document(html.encode(), source="page.html", base_url="https://news.example/")
    return [(p.platform, p.kind, p.post_id, p.handle) for p in article.posts]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # CKEditor 5's media embed, as it saves it by default
        (
            f'<figure class="media"><oembed url="{STATUS}"></oembed></figure>',
            ("twitter", "oembed", "1234567890123456789", "NWS"),
        ),
        (
            '<figure class="media"><oembed url="https://x.com/NWS/status/1234567890123456789'
            '?s=20"></oembed></figure>',
            ("twitter", "oembed", "1234567890123456789", "NWS"),
        ),
        (
            '<figure class="media"><oembed url="https://www.youtube.com/watch?v=dQw4w9WgXcQ">'
            "</oembed></figure>",
            ("youtube", "oembed", "dQw4w9WgXcQ", None),
        ),
        (
            '<figure class="media"><oembed url="https://www.instagram.com/p/CqXyZ12abcD/">'
            "</oembed></figure>",
            ("instagram", "oembed", "CqXyZ12abcD", None),
        ),
        # ...and with previews kept, before the provider's script filled them
        (
            f'<figure class="media"><div data-oembed-url="{STATUS}"><div style="position:'
            'relative"></div></div></figure>',
            ("twitter", "oembed", "1234567890123456789", "NWS"),
        ),
        # AMP's Embedly card
        (
            '<amp-embedly-card data-url="https://twitter.com/AMPhtml/status/986750295077040128"'
            ' layout="responsive" width="150" height="80"></amp-embedly-card>',
            ("twitter", "oembed", "986750295077040128", "AMPhtml"),
        ),
        (
            '<amp-embedly-card data-url="https://www.youtube.com/watch?v=lBTCB7yLs8Y">'
            "</amp-embedly-card>",
            ("youtube", "oembed", "lBTCB7yLs8Y", None),
        ),
        # Iframely's embed code: a div around a link to the post, for its script
        (
            '<div class="iframely-embed"><div class="iframely-responsive"><a href="https://'
            'www.instagram.com/p/CqXyZ12abcD/" data-iframely-url="//cdn.iframe.ly/abc123"></a>'
            "</div></div>",
            ("instagram", "oembed", "CqXyZ12abcD", None),
        ),
        (
            f'<div class="iframely-embed"><a href="{STATUS}" data-iframely-url="//cdn.iframe.'
            'ly/abc123"></a></div>',
            ("twitter", "oembed", "1234567890123456789", "NWS"),
        ),
        # oEmbed services' iframes (Medium embeds everything through Embedly's)
        (
            '<iframe src="https://cdn.embedly.com/widgets/media.html?src=https%3A%2F%2Fwww.'
            "youtube.com%2Fembed%2FdQw4w9WgXcQ%3Ffeature%3Doembed&url=https%3A%2F%2Fwww."
            'youtube.com%2Fwatch%3Fv%3DdQw4w9WgXcQ&type=text%2Fhtml&schema=youtube"></iframe>',
            ("youtube", "iframe", "dQw4w9WgXcQ", None),
        ),
        (
            '<iframe src="https://cdn.iframe.ly/api/iframe?url=https%3A%2F%2Fwww.instagram.com'
            '%2Fp%2FCqXyZ12abcD%2F&key=abc"></iframe>',
            ("instagram", "iframe", "CqXyZ12abcD", None),
        ),
        # a tweet through Embedly: the status URL in the parameter shows the handle
        (
            '<iframe src="https://cdn.embedly.com/widgets/media.html?url=https%3A%2F%2Ftwitter'
            '.com%2FNWS%2Fstatus%2F1234567890123456789&schema=twitter"></iframe>',
            ("twitter", "rendered", "1234567890123456789", "NWS"),
        ),
        # Embetty (heise's privacy-friendly embeds): ids for its script to render
        (
            '<embetty-tweet status="1234567890123456789"></embetty-tweet>',
            ("twitter", "embed-id", "1234567890123456789", None),
        ),
        (
            '<embetty-video type="youtube" video-id="dQw4w9WgXcQ"></embetty-video>',
            ("youtube", "lite", "dQw4w9WgXcQ", None),
        ),
        # WordPress 7 names the provider "x", whatever the URL's host
        (
            '<figure class="wp-block-embed is-type-rich is-provider-x wp-block-embed-x">'
            '<div class="wp-block-embed__wrapper">\nhttps://x.com/NWS/status/1234567890123456789'
            "\n</div></figure>",
            ("twitter", "wp-embed", "1234567890123456789", "NWS"),
        ),
        (
            '<figure class="wp-block-embed is-type-rich is-provider-x"><div class="wp-block-'
            f'embed__wrapper">{STATUS}</div></figure>',
            ("twitter", "wp-embed", "1234567890123456789", "NWS"),
        ),
    ],
)
def test_a_placeholder_holding_only_the_url_is_an_embed(
    body: str, expected: tuple[str, str, str, str | None]
) -> None:
    assert posts(body) == [expected]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # the provider's markup inside the placeholder is the post, read as such
        (
            f'<div data-oembed-url="{STATUS}">{BLOCKQUOTE}</div>',
            ("twitter", "blockquote", "1234567890123456789", "NWS"),
        ),
        (
            '<div data-oembed-url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"><div><iframe '
            'src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe></div></div>',
            ("youtube", "iframe", "dQw4w9WgXcQ", None),
        ),
        (
            '<figure class="wp-block-embed is-provider-x wp-block-embed-x"><div class="wp-block-'
            f'embed__wrapper">{BLOCKQUOTE}</div></figure>',
            ("twitter", "blockquote", "1234567890123456789", "NWS"),
        ),
    ],
)
def test_markup_inside_a_placeholder_is_the_post(
    body: str, expected: tuple[str, str, str, str | None]
) -> None:
    assert posts(body) == [expected]


@pytest.mark.parametrize(
    "body",
    [
        '<figure class="media"><oembed url="https://twitter.com/NWS"></oembed></figure>',
        '<figure class="media"><oembed url="https://www.google.com/maps/place/X"></oembed></figure>',
        '<figure class="media"><oembed></oembed></figure>',
        '<div data-oembed-url=""></div>',
        '<amp-embedly-card data-url="https://news.example/story"></amp-embedly-card>',
        # a URL in an attribute no placeholder uses
        f'<div data-share-url="{STATUS}"></div>',
        # an oEmbed service's iframe of an article, a URL parameter of another host's iframe
        '<iframe src="https://cdn.embedly.com/widgets/media.html?url=https%3A%2F%2Fnews.'
        'example%2Fstory&schema=news"></iframe>',
        '<iframe src="https://widgets.example/player?url=https%3A%2F%2Fwww.youtube.com%2F'
        'watch%3Fv%3DdQw4w9WgXcQ"></iframe>',
        '<div class="iframely-embed"><a href="https://news.example/story"></a></div>',
        # Embetty without a plausible id, and its videos of platforms not supported
        '<embetty-tweet status="42"></embetty-tweet>',
        "<embetty-tweet></embetty-tweet>",
        '<embetty-video type="vimeo" video-id="76979871"></embetty-video>',
        # another provider's WordPress block
        '<figure class="wp-block-embed is-provider-xkcd wp-block-embed-xkcd"><div class='
        '"wp-block-embed__wrapper">https://xkcd.com/927/</div></figure>',
    ],
)
def test_near_misses_are_not_posts(body: str) -> None:
    assert posts(body) == []


BLOCKED_TWEET = (
    '<blockquote class="twitter-tweet"><p lang="de">Pegel am Rhein steigt weiter.</p>&mdash; '
    'Stadt Köln (@stadtkoeln) <a href="https://twitter.com/stadtkoeln/status/'
    '1234567890123456789">2. März 2020</a></blockquote>'
)
BLOCKED_VIDEO = '<iframe src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"></iframe>'


def _base64(markup: str) -> str:
    return base64.b64encode(markup.encode()).decode()


def test_an_embed_a_consent_tool_keeps_base64_encoded_is_found() -> None:
    """Borlabs Cookie 3 keeps the blocked embed in an attribute of its container; the
    preview's own words ("load the content") are not the post."""
    body = (
        '<div class="brlbs-cmpnt-container brlbs-cmpnt-content-blocker" data-borlabs-cookie-'
        'content-blocker-id="x-alias-twitter" '
        f'data-borlabs-cookie-content="{_base64(BLOCKED_TWEET)}">'
        "<p>Klicken Sie auf den Button, um den Inhalt von X zu laden.</p>"
        '<a class="brlbs-cmpnt-cb-btn" href="#" role="button">Inhalt laden</a></div>'
    )
    html = f'<html lang="de"><body><p>Die Stadt schrieb:</p>{body}</body></html>'
    (post,) = parse_document(html.encode(), source="page.html").posts
    assert (post.kind, post.post_id, post.handle, post.text, post.date) == (
        "escaped",
        "1234567890123456789",
        "stadtkoeln",
        "Pegel am Rhein steigt weiter.",
        "2020-03-02",
    )


def test_an_embed_a_consent_shortcode_keeps_base64_encoded_is_found() -> None:
    """Borlabs Cookie 3's shortcode wraps the embed in a bare span."""
    body = (
        '<span data-borlabs-cookie-service-id="youtube" '
        f'data-borlabs-cookie-content="{_base64(BLOCKED_VIDEO)}"></span>'
    )
    assert posts(body) == [("youtube", "escaped", "dQw4w9WgXcQ", None)]


@pytest.mark.parametrize(
    "hidden",
    [
        f'<script type="text/template">{_base64(BLOCKED_VIDEO)}</script>',
        _base64(BLOCKED_VIDEO),  # without the template script
    ],
)
def test_an_embed_an_older_consent_tool_keeps_in_its_blocker_is_found(hidden: str) -> None:
    """Borlabs Cookie 2: the encoded embed is the text of a hidden content-blocker div."""
    body = (
        '<div class="BorlabsCookie _brlbs-cb-youtube"><div class="_brlbs-content-blocker">'
        "<p>Mit dem Laden des Videos akzeptieren Sie die Datenschutzerklärung von YouTube.</p>"
        '</div><div class="borlabs-hide" data-borlabs-cookie-type="content-blocker" '
        f'data-borlabs-cookie-id="youtube">{hidden}</div></div>'
    )
    assert posts(body) == [("youtube", "escaped", "dQw4w9WgXcQ", None)]


@pytest.mark.parametrize(
    "body",
    [
        '<div class="brlbs-cmpnt-container" data-borlabs-cookie-content="not base64 !!"></div>',
        '<div class="brlbs-cmpnt-container" data-borlabs-cookie-content="'
        + _base64("<p>Just a map of the levees</p>")
        + '"></div>',
        '<div class="brlbs-cmpnt-container" data-borlabs-cookie-content=""></div>',
        # base64 elsewhere is not read
        f'<div class="brlbs-cmpnt-container" data-payload="{_base64(BLOCKED_VIDEO)}"></div>',
    ],
)
def test_what_a_consent_tool_keeps_that_is_no_embed_is_no_post(body: str) -> None:
    assert posts(body) == []


@pytest.mark.parametrize(
    "attribute",
    [
        "src-consent",  # Borlabs Cookie
        "data-src-cmplz",  # Complianz
        "consent-original-src-_",  # Real Cookie Banner
        "data-cookieblock-src",  # Cookiebot
        "data-uc-src",  # Usercentrics
    ],
)
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
            ("youtube", "iframe", "dQw4w9WgXcQ", None),
        ),
        (
            "https://platform.twitter.com/embed/Tweet.html?id=1234567890123456789",
            ("twitter", "rendered", "1234567890123456789", None),
        ),
    ],
)
def test_an_iframe_whose_url_a_consent_tool_parked_is_an_embed(
    attribute: str, url: str, expected: tuple[str, str, str, str | None]
) -> None:
    """Until the reader agrees, the iframe's src is about:blank or a placeholder video."""
    assert posts(f'<iframe src="about:blank" {attribute}="{url}"></iframe>') == [expected]


def test_an_iframe_parks_nothing_in_other_attributes() -> None:
    body = '<iframe src="about:blank" data-title="https://www.youtube.com/embed/dQw4w9WgXcQ">'
    assert posts(body + "</iframe>") == []


def _privacy_gate(provider: str, url: str) -> str:
    """Embed Privacy's placeholder (a WordPress plugin): the player is replaced by a
    notice and an "open directly" link."""
    return (
        f'<div class="embed-privacy-container is-disabled embed-{provider}" '
        f'data-embed-provider="{provider}"><div class="embed-privacy-inner"><p>Hier klicken, '
        f"um den Inhalt von {provider} anzuzeigen. Erfahre mehr in der "
        '<a href="https://policies.google.com/privacy?hl=de">Datenschutzerklärung</a>.</p>'
        '</div><div class="embed-privacy-footer"><span class="embed-privacy-url">'
        f'<a target="_blank" href="{url}">„Video“ direkt öffnen</a></span></div></div>'
    )


@pytest.mark.parametrize(
    ("provider", "url", "expected"),
    [
        (
            "youtube",
            "https://www.youtube.com/watch?v=XNbc2HhL7J4",
            ("youtube", "consent", "XNbc2HhL7J4", None),
        ),
        (
            "instagram",
            "https://www.instagram.com/p/CqXyZ12abcD/",
            ("instagram", "consent", "CqXyZ12abcD", None),
        ),
        (
            "twitter",
            STATUS,
            ("twitter", "consent", "1234567890123456789", "NWS"),
        ),
    ],
)
def test_a_consent_placeholder_keeping_the_posts_link_is_an_embed(
    provider: str, url: str, expected: tuple[str, str, str, str | None]
) -> None:
    assert posts(_privacy_gate(provider, url)) == [expected]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a profile is no post
        (_privacy_gate("instagram", "https://www.instagram.com/nws/"), []),
        # two posts: no single post replaced, two links cited
        (
            '<div class="consent-box"><a href="https://www.youtube.com/watch?v=XNbc2HhL7J4">a</a>'
            '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">b</a></div>',
            [
                ("youtube", "link", "XNbc2HhL7J4", None),
                ("youtube", "link", "dQw4w9WgXcQ", None),
            ],
        ),
        # a link to a post in a box that names no consent: a citation
        (
            '<div class="video-box"><a href="https://www.youtube.com/watch?v=XNbc2HhL7J4">a</a>'
            "</div>",
            [("youtube", "link", "XNbc2HhL7J4", None)],
        ),
    ],
)
def test_consent_near_misses_are_not_embeds(
    body: str, expected: list[tuple[str, str, str, str | None]]
) -> None:
    assert posts(body) == expected


def test_a_consent_box_holding_the_embed_itself_gives_the_embed() -> None:
    body = (
        '<div class="cmplz-blocked-content-container"><div class="cmplz-consent-notice">Load'
        ' YouTube?</div><iframe src="about:blank" data-src-cmplz="https://www.youtube.com/'
        'embed/XNbc2HhL7J4"></iframe></div>'
    )
    assert posts(body) == [("youtube", "iframe", "XNbc2HhL7J4", None)]
