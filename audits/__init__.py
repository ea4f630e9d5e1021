"""Audit plugins: each module reads a stored site snapshot and yields findings with rule
metadata (base.py is the contract, registry.py finds plugins, runner.py runs them).

Knows nothing of Scrapy, the crawler or the command line.
"""
