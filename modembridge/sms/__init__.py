"""Pure SMS PDU codec (3GPP TS 23.040 / 23.038): no I/O, no asyncio, no imports from the rest of modembridge.

Decode what modems print (+CMGR/+CMGL/+CMT/+CDS) with `decode_pdu`; build AT+CMGS input with
`encode_submit`; build inbound PDUs (for simulators) with `encode_deliver` / `encode_status_report`.
Every malformed input raises `PduError` (a ValueError) naming the field and octet offset.
"""

from .address import Address
from .concat import join_data, join_parts
from .dcs import DcsInfo, Encoding, Mwi, build_dcs, parse_dcs
from .errors import PduError
from .gsm7 import (
    decode_octet_counted,
    encode_octet_counted,
    pack_septets,
    septet_length,
    septets_to_text,
    text_to_septets,
    unpack_septets,
)
from .pdu import (
    Deliver,
    EncodedPdu,
    StatusReport,
    Submit,
    decode_pdu,
    encode_deliver,
    encode_status_report,
    encode_submit,
)
from .segment import Segments, segment_info, split_text
from .timestamp import decode_relative_vp, encode_relative_vp
from .udh import (
    Concat,
    InformationElement,
    Language,
    Ports,
    SpecialIndication,
    decoding_ie,
    find_ports,
    find_special_indication,
    parse_udh,
    ports_ie,
)
from .ussd import MAX_USSD, UssdMode, decode_ussd, encode_ussd, valid_code

__all__ = [
    "MAX_USSD",
    "Address",
    "Concat",
    "DcsInfo",
    "Deliver",
    "EncodedPdu",
    "Encoding",
    "InformationElement",
    "Language",
    "Mwi",
    "PduError",
    "Ports",
    "Segments",
    "SpecialIndication",
    "StatusReport",
    "Submit",
    "UssdMode",
    "build_dcs",
    "decode_octet_counted",
    "decode_pdu",
    "decode_relative_vp",
    "decode_ussd",
    "decoding_ie",
    "encode_deliver",
    "encode_octet_counted",
    "encode_relative_vp",
    "encode_status_report",
    "encode_submit",
    "encode_ussd",
    "find_ports",
    "find_special_indication",
    "join_data",
    "join_parts",
    "pack_septets",
    "parse_dcs",
    "parse_udh",
    "ports_ie",
    "segment_info",
    "septet_length",
    "septets_to_text",
    "split_text",
    "text_to_septets",
    "unpack_septets",
    "valid_code",
]
