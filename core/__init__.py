"""The ground floor: shared types and clients (config, snapshot, dates, DNS, probes, browser).

Everything above stands on it; it imports nothing from crawler/, audits/, reports/,
pipeline/, scheduler or govaudit/.
"""

__version__ = "0.1.0"
