"""Still there? Whether cited posts still exist, and archived copies of what died.

- :mod:`scraper.liveness.posts`: each platform's keyless endpoint and how to read it.
- :mod:`scraper.liveness.archives`: the Wayback Machine's availability API.
- :mod:`scraper.liveness.checker`: the requests, over the network floor.

Link re-checks are the resolver's work (:mod:`scraper.resolve`); the check stage that
chooses what is due and stores the answers is :mod:`scraper.checking`.
"""
