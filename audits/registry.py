"""Discovery of audit plugins through the ``govaudit.audits`` entry-point group."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from audits.base import AuditPlugin
from core.config import ConfigError

log = logging.getLogger(__name__)

GROUP = "govaudit.audits"


class PluginLoadError(ConfigError):
    """plugins.enabled names a plugin that is not installed."""


def discover() -> dict[str, type[AuditPlugin]]:
    """All installed plugins by name. A plugin that fails to import is logged and skipped."""
    found: dict[str, type[AuditPlugin]] = {}
    for ep in entry_points(group=GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the others
            log.warning("plugin %s could not be loaded: %s", ep.name, exc)
            continue
        if not (isinstance(cls, type) and issubclass(cls, AuditPlugin)):
            log.warning("entry point %s does not name an AuditPlugin subclass", ep.name)
            continue
        found[cls.name or ep.name] = cls
    return dict(sorted(found.items()))


#: Plugins that run when the config does not list ``plugins.enabled``.
DEFAULT_EXCLUDED = {"example"}


def select_plugins(
    available: dict[str, type[AuditPlugin]], names: list[str] | None
) -> dict[str, type[AuditPlugin]]:
    """The plugins named (in that order), or all but the example when ``names`` is None."""
    if names is None:
        return {n: c for n, c in available.items() if n not in DEFAULT_EXCLUDED}
    unknown = [n for n in names if n not in available]
    if unknown:
        raise PluginLoadError(
            f"plugins.enabled: unknown plugin(s) {', '.join(unknown)}; "
            f"installed: {', '.join(available)} (see 'govaudit plugins')"
        )
    return {n: available[n] for n in names}
