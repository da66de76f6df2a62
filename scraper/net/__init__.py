"""The network floor that fetching, resolving and checking share.

- :mod:`scraper.net.client`: the one way to build an ``httpx.AsyncClient``.
- :mod:`scraper.net.guard`: the address guard (no private, loopback or metadata addresses).
- :mod:`scraper.net.transport`: the httpx transport on aiohttp that connects to the checked address.
- :mod:`scraper.net.retry`: the one retry policy (tenacity), ``Retry-After`` included.
- :mod:`scraper.net.limits`: whole-request deadlines and per-host slots.
- :mod:`scraper.net.body`: bodies read with a cap on decoded bytes.
- :mod:`scraper.net.redirects`: reading ``Location``, ``Refresh``, meta and script redirects.
- :mod:`scraper.net.chain`: one URL's hops, loop checks, and failure categories.
- :mod:`scraper.net.breaker`: per-host breakers for hosts that keep failing to connect.
- :mod:`scraper.net.follow`: the one redirect follower that fetching and resolving use.
"""
