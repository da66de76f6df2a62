"""Link resolving: expand URLs hop by hop and hand back one ``Resolution`` per URL.

- :mod:`scraper.resolve.resolver`: one URL, followed with the run's client.
- :mod:`scraper.resolve.batch`: many URLs at once, bounded, in one process (many cores or
  machines: the Dask engine, :mod:`scraper.engine.resolving`).
- :mod:`scraper.resolve.fan_in`: many producers feeding one bounded stream.
"""
