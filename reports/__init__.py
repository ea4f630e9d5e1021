"""The work floor's results side: storage of runs, run-to-run tracking, the scorecard, the
report bundle and its writers (HTML, JSON, XLSX), mail and the report web server.

Knows nothing of the crawler or the command line; it reads rule metadata from audits/.
"""
