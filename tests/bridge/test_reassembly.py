"""The bridge decides a message's text once, decoding its parts' PDUs together (with the TPDU length each
modem printed: some leave the SMSC prefix out)."""

from __future__ import annotations

from pathlib import Path

from modembridge.bridge.inbound import part_fields
from modembridge.bridge.reassembly import joined_text, message_text, settle_texts
from modembridge.sms import Deliver, decode_pdu
from modembridge.store import Store, StoredPart


def _ucs2_part(seq: int, total: int, payload: bytes, smsc: bool = True) -> tuple[str, int]:
    """A real SMS-DELIVER PDU (sender +254711000001) carrying one concatenated UCS2 part, with an empty
    SMSC prefix ("00") or without one; and its TPDU length."""
    ud = bytes([5, 0, 3, 0x2A, total, seq]) + payload
    tpdu = bytes([0x44, 12, 0x91, 0x52, 0x74, 0x11, 0x00, 0x00, 0x10, 0, 8]) + bytes.fromhex("62118201000000")
    body = tpdu + bytes([len(ud)]) + ud
    return (("00" if smsc else "") + body.hex()).upper(), len(body)


def split_emoji(smsc: bool = True) -> list[tuple[str, int]]:
    return [
        _ucs2_part(1, 2, "ab".encode("utf-16-be") + b"\xd8\x3d", smsc),  # an emoji's surrogates split in two
        _ucs2_part(2, 2, b"\xde\x00" + "c".encode("utf-16-be"), smsc),
    ]


def journal(store: Store, parts: list[tuple[str, int]]) -> str:
    for i, (pdu, length) in enumerate(reversed(parts)):
        d = decode_pdu(pdu, tpdu_length=length)
        assert isinstance(d, Deliver) and d.concat is not None and "\ufffd" in d.text  # each alone: broken
        r = store.inbox.add_part(modem_id="gsm0", mem="SM", index=i, pdu=pdu, received_at=1.0, error=None,
                                 part=part_fields(d, length))
    assert r.complete
    return r.message_id


def test_a_character_split_across_parts_is_joined_whole(tmp_path: Path) -> None:
    store = Store(tmp_path / "journal.db")
    message_id = journal(store, split_emoji())
    settle_texts(store, [message_id])
    store.commit_now()
    [m] = store.inbox.due(2.0, 5)
    assert m.text == "ab\U0001f600c"
    view = store.views.inbound(m.message_id)
    assert view is not None and view.text == m.text
    store.close()


def test_a_modem_that_leaves_out_the_smsc_prefix_gets_the_whole_text_too(tmp_path: Path) -> None:
    store = Store(tmp_path / "journal.db")
    message_id = journal(store, split_emoji(smsc=False))
    settle_texts(store, [message_id])
    store.commit_now()
    assert [m.text for m in store.inbox.due(2.0, 5)] == ["ab\U0001f600c"]
    store.close()


def test_a_text_is_always_decided_even_when_a_pdu_no_longer_decodes() -> None:
    (a, la), (b, lb) = split_emoji()
    parts = [StoredPart(a, la, "ab\ufffd"), StoredPart(b, lb, "\ufffdc")]
    assert joined_text(parts) == "ab\U0001f600c" == message_text(parts)
    broken = [parts[0], StoredPart("00FF", None, "rest")]
    assert joined_text(broken) is None
    assert message_text(broken) == "ab\ufffdrest"  # the parts' own texts, set once, not NULL
    assert message_text([StoredPart("not even hex", None, "single")]) == "single"  # one part: its text
