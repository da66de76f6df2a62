"""`python -m scraper` runs the command-line interface."""

from scraper.cli import main

if __name__ == "__main__":
    main()
