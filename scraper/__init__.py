"""scraper: find the social posts that articles cite, and where their links really go."""

__version__ = "0.1.0"
