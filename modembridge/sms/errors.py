"""The single exception type raised by the codec for malformed input."""


class PduError(ValueError):
    """Malformed PDU or un-encodable input. The message names the field and the octet offset."""
