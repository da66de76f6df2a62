"""The project's exceptions.

::

    ScraperError
    ├── ConfigError        bad config file or option (exit 2)
    ├── LockHeldError      another run holds the database lock (exit 75)
    └── SourceError        a source that cannot be read at all (exit 2 on the command line)

Per-item failures (one page that will not fetch, one URL that will not resolve) are not
exceptions: they are recorded as data with a status and an error column.
"""


class ScraperError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(ScraperError):
    """The configuration or a command-line option is invalid; the message names the key."""


class LockHeldError(ScraperError):
    """Another ``scraper run`` holds the lock on this database."""


class SourceError(ScraperError):
    """A source given by the user cannot be read (missing file, unknown scheme)."""
