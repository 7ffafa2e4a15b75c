"""Bounds-checked octet reader that reports the field and offset on truncation."""

from __future__ import annotations

from .errors import PduError


class Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf = buf
        self.pos = pos

    def u8(self, field: str) -> int:
        if self.pos >= len(self.buf):
            raise PduError(f"truncated: {field} expected at octet {self.pos}, PDU has {len(self.buf)} octets")
        v = self.buf[self.pos]
        self.pos += 1
        return v

    def take(self, n: int, field: str) -> bytes:
        end = self.pos + n
        if end > len(self.buf):
            raise PduError(
                f"truncated: {field} needs {n} octets at octet {self.pos}, "
                f"only {len(self.buf) - self.pos} left"
            )
        out = self.buf[self.pos:end]
        self.pos = end
        return out

    def remaining(self) -> int:
        return len(self.buf) - self.pos
