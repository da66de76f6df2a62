"""Link resolving: expand URLs hop by hop and hand back one ``Resolution`` per URL.

- :mod:`scraper.resolve.resolver`: one URL, followed with the run's client.
- :mod:`scraper.resolve.batch`: many URLs at once, bounded, in one process or several.
- :mod:`scraper.resolve.pool` and :mod:`scraper.resolve.worker`: the worker processes.
- :mod:`scraper.resolve.fan_in`: many producers feeding one bounded stream.
"""
