"""bench/run --quick end to end: every part runs and the table has its rows (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

EXPECTED_ROWS = [
    "Inbound 1-part, URC -> router, median (default indication)",
    "Inbound 3-part, last URC -> router, median",
    "Sendsms accepted /s while the modem sends: 200 GETs, 8 keep-alive clients (median of rounds)",
    "CPU per sent message: utime + stime over that run / messages",
    "RSS after that load (VmRSS)",
    "Sends accepted durably /s, GET /cgi-bin/sendsms, modem not sending (wrk -c16)",
    "End-to-end sends/s, --send-delay 0",
    "115200 baud, short 1-part messages: achieved / wire limit (11520 B/s / (out + in) per AT+CMGS)",
    "RSS / HWM with >= 10,000 sends queued",
    "Start-up: spawn -> ready",
    "AT commands per sent message",
    "Sends/s with 1 modem(s), --send-delay 1",
    "Sends/s with 2 modem(s), --send-delay 1",
]


@pytest.mark.timeout(300)
def test_quick_run_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = subprocess.run([str(ROOT / "bench" / "run"), "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=280, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout
    assert ("| figure | target | modembridge | Kannel 1.4.5 (AT2 + smsbox) | python-gsmmodem-new wrapper "
            "| gammu-smsd (files) |") in table
    assert "| figure | modembridge | Kannel 1.4.5 (AT2 + smsbox) | mb vs kannel |" in table  # the ratios
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    for label in EXPECTED_ROWS:
        assert label in rows, f"missing row {label!r}"
    # modembridge produced numbers (not n/a) where it is always measurable
    for label in ("Inbound 1-part, URC -> router, median (default indication)",
                  "End-to-end sends/s, --send-delay 0", "Start-up: spawn -> ready"):
        assert rows[label].split("|")[3].strip() != "n/a", rows[label]
    results = json.loads((out / "latest.json").read_text())
    assert results["quick"] is True
    assert {"machine", "modembridge", "kannel", "gsmmodem", "gammu", "floor"} <= results.keys()
    assert "error" not in results["modembridge"], results["modembridge"].get("traceback")
    assert results["modembridge"]["inbound"]["messages"] > 0
    assert "error" not in results["floor"], results["floor"].get("traceback")
    floor_accepts = results["floor"]["accept_sending"]
    assert floor_accepts["ok"] == floor_accepts["requests"] > 0  # the floor gateway accepted them all
    assert floor_accepts["cpu_method"] == "whole run"  # ... and sent them all within the drain timeout
    e2e = results["modembridge"]["outbound_e2e"]
    assert e2e["sent"] == e2e["accepted"]
    assert (out / "latest.md").read_text().count("\n| ") >= len(EXPECTED_ROWS)
    assert sys.executable  # the suite ran under the project's interpreter via bench/run
