"""The crawler: fetch → extract → scope → check → store. Knows nothing about audits.

Entry point: :func:`run_crawl` (runs Scrapy in this process; once per process).
"""

from crawler.run import CrawlStats, run_crawl

__all__ = ["CrawlStats", "run_crawl"]
