"""How many SMS parts a text needs, as the codec (``modembridge.sms``) will send it."""

from __future__ import annotations

from modembridge.model import Encoding
from modembridge.sms import segment_info


def count_parts(text: str) -> tuple[Encoding, int]:
    """(encoding, parts per recipient) for `text`: GSM 7-bit when it fits, else UCS-2."""
    info = segment_info(text)
    return info.encoding, info.parts
