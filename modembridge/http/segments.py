"""How many SMS parts a text needs: delegates to ``modembridge.sms.segment_info`` when available.

The codec is developed in parallel; until its ``segment_info`` exists this module falls back to a
conservative estimate (GSM 7-bit default alphabet, else UCS-2), so validation never blocks on it.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

from modembridge.model import Encoding

_GSM7_SINGLE, _GSM7_CONCAT = 160, 153
_UCS2_SINGLE, _UCS2_CONCAT = 70, 67


def _codec() -> Callable[[str], Any] | None:
    for name in ("modembridge.sms", "modembridge.sms.concat"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(mod, "segment_info", None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    return None


def _estimate(text: str) -> tuple[Encoding, int]:
    septets: int | None
    try:
        from modembridge.sms.gsm7 import septet_length

        septets = septet_length(text)
    except ImportError:  # pragma: no cover - the codec package is part of the project
        septets = len(text) if text.isascii() else None
    if septets is not None:
        return "gsm7", 1 if septets <= _GSM7_SINGLE else math.ceil(septets / _GSM7_CONCAT)
    units = len(text.encode("utf-16-be")) // 2
    return "ucs2", 1 if units <= _UCS2_SINGLE else math.ceil(units / _UCS2_CONCAT)


def count_parts(text: str) -> tuple[Encoding, int]:
    """(encoding, parts) the text needs as one SMS per recipient."""
    fn = _codec()
    if fn is not None:
        info = fn(text)
        raw = str(getattr(info.encoding, "value", info.encoding)).lower()
        enc: Encoding = "gsm7" if raw in ("gsm7", "gsm", "7bit") else "8bit" if raw == "8bit" else "ucs2"
        return enc, int(info.parts)
    return _estimate(text)
