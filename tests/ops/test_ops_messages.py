"""`modembridge messages` against a real journal file written through the Store API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from modembridge.cli import main
from modembridge.model import SendRequest
from modembridge.store import PartFields, Store

NOW = time.time()
PDU = "0011000C915247000000010000AA05E8329BFD06"  # stands in for a SUBMIT PDU: the journal stores it opaquely
BAD_PDU = "07912547000000F0040C91524700000010FFFF"


@pytest.fixture
def journal(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "journal.db"
    store = Store(path)
    ids = {}
    two = store.outbox.add(
        SendRequest(recipients=("+254700000001", "+254700000002"), text="long " * 40, client_id="ref-9"),
        {"+254700000001": [(PDU, 19), (PDU, 19)], "+254700000002": [(PDU, 19), (PDU, 19)]},
        encoding="gsm7",
        now=NOW - 60,
        expires_at=NOW + 3600,
    )
    ids["queued"] = two.message_id
    one = store.outbox.add(
        SendRequest(recipients=("+254700000003",), text="will fail"),
        {"+254700000003": [(PDU, 19)]},
        encoding="gsm7",
        now=NOW - 30,
        expires_at=None,
    )
    ids["failed"] = one.message_id
    part = store.outbox.claim_next_part("gsm0", NOW)
    while part is not None and part.message_id != one.message_id:
        store.outbox.mark_retry(part.part_id, NOW, "not now", 3600)
        part = store.outbox.claim_next_part("gsm0", NOW)
    assert part is not None
    store.outbox.mark_sending(part.part_id, NOW)
    store.outbox.mark_failed(part.part_id, NOW, "+CMS ERROR: 38 (network out of order)")
    ok = store.inbox.add_part(
        modem_id="gsm0",
        mem="SM",
        index=1,
        pdu="0791AA",
        received_at=NOW - 10,
        part=PartFields(sender="+254711111111", text="hello there", encoding="gsm7"),
        error=None,
    )
    ids["inbound"] = ok.message_id
    bad = store.inbox.add_part(
        modem_id="gsm0",
        mem="SM",
        index=2,
        pdu=BAD_PDU,
        received_at=NOW - 5,
        part=None,
        error="TP-UDL beyond the PDU",
    )
    ids["undecodable"] = bad.message_id
    store.close()
    return path, ids


def test_list_both_directions(
    journal: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = journal
    assert main(["messages", "--db", str(path), "list"]) == 0
    out = capsys.readouterr().out
    inbound, outbound = out.split("outbound:")
    assert ids["inbound"] in inbound and "+254711111111" in inbound and "hello there" in inbound
    assert ids["undecodable"] in inbound and "undecodable" in inbound
    row = next(line for line in outbound.splitlines() if ids["queued"] in line)
    assert "queued" in row and "2 recipients" in row
    row = next(line for line in outbound.splitlines() if ids["failed"] in line)
    assert "failed" in row and "will fail" in row


def test_list_filters(journal: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    path, ids = journal
    assert main(["messages", "--db", str(path), "list", "--out", "--state", "failed", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert list(got) == ["out"] and [m["id"] for m in got["out"]] == [ids["failed"]]
    assert main(["messages", "--db", str(path), "list", "--in", "--state", "dead"]) == 0
    out = capsys.readouterr().out
    assert "outbound:" not in out and "(none) in state 'dead'" in out


def test_show_outbound_parts_and_error(
    journal: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = journal
    assert main(["messages", "--db", str(path), "show", ids["failed"]]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"outbound message {ids['failed']}")
    assert "recipient +254700000003" in out
    part = next(line for line in out.splitlines() if "part 1/1" in line)
    assert "state=failed" in part and "+CMS ERROR: 38" in part
    assert main(["messages", "--db", str(path), "show", ids["queued"]]) == 0
    out = capsys.readouterr().out
    assert out.count("part 1/2") == 2 and out.count("part 2/2") == 2 and "client_id:      ref-9" in out


def test_show_undecodable_prints_raw_pdu(
    journal: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = journal
    assert main(["messages", "--db", str(path), "show", ids["undecodable"]]) == 0
    out = capsys.readouterr().out
    assert "state:          undecodable" in out and "TP-UDL beyond the PDU" in out
    assert f"raw PDU: {BAD_PDU}" in out


def test_retry_and_cancel_are_committed(
    journal: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = journal
    assert main(["messages", "--db", str(path), "retry", ids["failed"]]) == 0
    assert main(["messages", "--db", str(path), "cancel", ids["queued"]]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{ids['failed']}: queued again",
        f"{ids['queued']}: cancelled",
    ]
    store = Store(path)  # a fresh connection sees both changes: they were committed
    try:
        assert store.views.outbound(ids["failed"]).state == "queued"
        assert store.views.outbound(ids["queued"]).state == "failed"
    finally:
        store.close()
    assert main(["messages", "--db", str(path), "cancel", ids["queued"]]) == 1
    assert "nothing to do" in capsys.readouterr().err


def test_unknown_id_and_missing_journal(
    journal: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = journal
    assert main(["messages", "--db", str(path), "show", "nope"]) == 1
    assert "no message 'nope'" in capsys.readouterr().err
    assert main(["messages", "--db", str(tmp_path / "missing.db"), "list"]) == 4
    assert "no journal at" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists(), "the CLI must not create an empty journal"


def test_store_path_from_config(
    journal: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = journal
    cfg = path.parent / "modembridge.toml"
    cfg.write_text(f'[store]\npath = "{path.name}"\n\n[[modem]]\nid = "gsm0"\nport = "/dev/null"\n')
    assert main(["messages", "--config", str(cfg), "show", ids["inbound"]]) == 0
    assert "hello there" in capsys.readouterr().out


def test_forget_pin_clears_only_the_pin_facts_and_commits(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "journal.db"
    store = Store(path)
    store.facts.set("gsm0", "pin_rejected", "abc def", NOW)
    store.facts.set("gsm0", "iccid", "8901260000000000001", NOW)
    store.facts.set("gsm1", "pin_rejected", "123", NOW)
    store.commit_now()
    store.close()
    assert main(["forget-pin", "--db", str(path), "gsm0"]) == 0
    assert "gsm0: forgot pin_rejected" in capsys.readouterr().out
    store = Store(path)  # a fresh connection: committed
    try:
        assert store.facts.get("gsm0", "pin_rejected") is None
        assert store.facts.get("gsm0", "iccid") == "8901260000000000001"  # SIM identity kept
        assert store.facts.get("gsm1", "pin_rejected") == "123"  # other modems untouched
    finally:
        store.close()
    assert main(["forget-pin", "--db", str(path), "gsm0"]) == 0
    assert "no rejected PIN remembered" in capsys.readouterr().out
