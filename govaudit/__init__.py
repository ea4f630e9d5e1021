"""govaudit: plugin-based content auditing for published government websites."""

__version__ = "0.1.0"
