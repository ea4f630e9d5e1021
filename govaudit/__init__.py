"""govaudit: plugin-based content auditing for published government websites.

The product's face (entry floor): the CLI, the bundled demo and doc generation.
"""

from core import __version__

__all__ = ["__version__"]
