"""The limits the fake provider enforces both on requests and on the webhooks it parses."""

from __future__ import annotations

import hashlib
import re
from typing import Final

# amounts end up in BIGINT columns
MAX_AMOUNT: Final = 2**63 - 1
MAX_ID_LENGTH: Final = 255
CURRENCY: Final = re.compile(r"[A-Za-z]{3}")


def digest(*parts: str) -> str:
    """24 hex digits of a SHA-256 of ``parts``: the fake derives every id, none is random."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
