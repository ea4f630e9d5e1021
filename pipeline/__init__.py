"""The pipeline floor: one module per use case (audit a site, re-audit a stored run, recheck
open findings), each wiring the crawler, the audits and the reports together.

It may import crawler/, audits/, reports/ and core/; never govaudit/ (the CLI) or scheduler.
"""
