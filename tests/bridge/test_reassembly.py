"""The bridge decides a concatenated message's text once, decoding its parts' PDUs together."""

from __future__ import annotations

from pathlib import Path

from modembridge.bridge.reassembly import joined_text, settle_texts
from modembridge.sms import Deliver, decode_pdu
from modembridge.store import PartFields, Store


def _ucs2_part(seq: int, total: int, payload: bytes) -> str:
    """A real SMS-DELIVER PDU (no SMSC, sender +254711000001) carrying one concatenated UCS2 part."""
    ud = bytes([5, 0, 3, 0x2A, total, seq]) + payload
    tpdu = bytes([0x44, 12, 0x91, 0x52, 0x74, 0x11, 0x00, 0x00, 0x10, 0, 8]) + bytes.fromhex("62118201000000")
    return ("00" + (tpdu + bytes([len(ud)]) + ud).hex()).upper()


SPLIT_EMOJI = [
    _ucs2_part(1, 2, "ab".encode("utf-16-be") + b"\xd8\x3d"),  # an emoji's surrogates split in two
    _ucs2_part(2, 2, b"\xde\x00" + "c".encode("utf-16-be")),
]


def test_a_character_split_across_parts_is_joined_whole(tmp_path: Path) -> None:
    store = Store(tmp_path / "journal.db")
    for i, pdu in enumerate(reversed(SPLIT_EMOJI)):
        d = decode_pdu(pdu)
        assert isinstance(d, Deliver) and d.concat is not None and "\ufffd" in d.text  # each alone: broken
        c = d.concat
        r = store.inbox.add_part(
            modem_id="gsm0", mem="SM", index=i, pdu=pdu, received_at=1.0, error=None,
            part=PartFields(sender=d.sender, text=d.text, encoding=d.encoding,
                            concat=(c.ref, c.total, c.seq, c.ref_bits)))
    assert r.complete
    settle_texts(store, [r.message_id])
    store.commit_now()
    [m] = store.inbox.due(2.0, 5)
    assert m.text == "ab\U0001f600c"
    view = store.views.inbound(m.message_id)
    assert view is not None and view.text == m.text
    store.close()


def test_joined_text_gives_up_on_a_pdu_that_does_not_decode() -> None:
    assert joined_text(SPLIT_EMOJI) == "ab\U0001f600c"
    assert joined_text([SPLIT_EMOJI[0], "00FF"]) is None
    assert joined_text([]) is None
