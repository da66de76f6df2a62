"""Pure parsers: article text or HTML in, :class:`scraper.model.Article` out."""
