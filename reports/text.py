"""Text taken from crawled pages made safe to display: bidirectional-override controls
(U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) shown as visible marks, so a title
cannot display reversed in the report, the workbook or a mail.

Knows nothing of where the text goes; every writer calls it.
"""

from __future__ import annotations

import re
from typing import Any

_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def neutralize_bidi(value: Any) -> Any:
    """``value`` with each bidi control replaced by a visible ``‹U+202E›``; non-strings as is."""
    if isinstance(value, str) and _BIDI.search(value):
        return _BIDI.sub(lambda m: f"‹U+{ord(m.group()):04X}›", value)
    return value
