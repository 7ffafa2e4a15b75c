"""The AT engine, byte for byte, on a manual clock."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modembridge.sim.clock import ManualScheduler
from modembridge.sim.engine import ModemEngine, SimConfig
from modembridge.sim.profiles import SIM800
from modembridge.sim.storage import Storage
from modembridge.sms import StatusReport, decode_pdu, encode_submit

from .engine_helpers import Rig


def submit(r: Rig, dest: str = "+254711111111", text: str = "hi there", **kw: object) -> bytes:
    p = encode_submit(dest, text, **kw)[0]  # type: ignore[arg-type]
    assert r.io(f"AT+CMGS={p.tpdu_length}") == b"\r\n> "
    return r.io(p.hex.encode() + b"\x1a")


# ---------------------------------------------------------------------- V.250 basics
def test_echo_on_at_power_up_then_off() -> None:
    r = Rig()
    assert r.io("AT") == b"AT\r\r\nOK\r\n"
    assert r.io("ATE0") == b"ATE0\r\r\nOK\r\n"  # the line that turns echo off is still echoed
    assert r.io("AT") == b"\r\nOK\r\n"


def test_echo_byte_by_byte_and_backspace_and_lowercase() -> None:
    r = Rig()
    out = b"".join(r.io(bytes([b])) for b in b"at+cx\x08sq\r")
    assert out == b"at+cx\x08sq\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


def test_garbage_before_at_is_ignored_and_lf_tolerated() -> None:
    r = Rig().quiet()
    assert r.io(b"\x00\xffzzAT\r\n") == b"\r\nOK\r\n"
    assert r.io(b"hello\r") == b""  # no AT: not a command line


def test_atz_turns_echo_back_on_and_resets_cmgf() -> None:
    r = Rig().quiet()
    r.io("AT+CMGF=1")
    assert r.io("ATZ") == b"\r\nOK\r\n"
    assert r.io("AT+CMGF?") == b"AT+CMGF?\r\r\n+CMGF: 0\r\n\r\nOK\r\n"


def test_identity() -> None:
    r = Rig().quiet()
    assert r.io("ATI") == b"\r\nSIMULATED SIM-GSM-1\r\nRevision: 1.0.0\r\n\r\nOK\r\n"
    assert r.io("AT+CGMI") == b"\r\nSIMULATED\r\n\r\nOK\r\n"
    assert r.io("AT+CGSN") == b"\r\n356789012345678\r\n\r\nOK\r\n"
    assert r.io("AT+CIMI") == b"\r\n001010123456789\r\n\r\nOK\r\n"
    assert r.io("AT+CCID") == b"\r\n+CCID: 8901260000000000001\r\n\r\nOK\r\n"


def test_several_commands_on_one_line_stop_at_first_error() -> None:
    r = Rig().quiet()
    assert r.io("AT+CMGF=0;+CSQ;+CNMI=2,1,0,2,0") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert r.io("AT+CNMI?") == b"\r\n+CNMI: 2,1,0,2,0\r\n\r\nOK\r\n"
    assert r.io("AT+CSQ;+BOGUS;+CGMI") == b"\r\n+CSQ: 20,99\r\n\r\nERROR\r\n"


@pytest.mark.parametrize(("cmee", "result"),
                         [(0, b"ERROR"), (1, b"+CME ERROR: 100"), (2, b"+CME ERROR: unknown")])
def test_unknown_command_per_cmee(cmee: int, result: bytes) -> None:
    r = Rig().quiet()
    r.io(f"AT+CMEE={cmee}")
    assert r.io("AT+NOPE") == b"\r\n" + result + b"\r\n"


def test_cms_error_verbose_with_cmee_2() -> None:
    r = Rig().quiet()
    assert r.io("AT+CMGR=99") == b"\r\n+CMS ERROR: 321\r\n"
    r.io("AT+CMEE=2")
    assert r.io("AT+CMGR=99") == b"\r\n+CMS ERROR: invalid memory index\r\n"


# ---------------------------------------------------------------------- SIM PIN / PUK
def test_pin_then_puk() -> None:
    r = Rig(pin="1234").quiet()
    r.io("AT+CMEE=1")
    assert r.io("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    assert r.io("AT+CMGL=4") == b"\r\n+CMS ERROR: 311\r\n"
    assert r.io("AT+CIMI") == b"\r\n+CME ERROR: 11\r\n"
    assert r.io("AT+CPINR") == b"\r\n+CPINR: SIM PIN,3,3\r\n+CPINR: SIM PUK,10,10\r\n\r\nOK\r\n"
    assert r.io('AT+CPIN="0000"') == b"\r\n+CME ERROR: 16\r\n"
    assert r.io('AT+CPIN="0000"') == b"\r\n+CME ERROR: 16\r\n"
    assert r.io('AT+CPINR="SIM PIN"') == b"\r\n+CPINR: SIM PIN,1,3\r\n\r\nOK\r\n"
    assert r.io('AT+CPIN="0000"') == b"\r\n+CME ERROR: 12\r\n"
    assert r.io("AT+CPIN?") == b"\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"
    assert r.io('AT+CPIN="1234"') == b"\r\n+CME ERROR: 12\r\n"  # PIN alone no longer helps
    assert r.io('AT+CPIN="12345678","4321"') == b"\r\nOK\r\n"
    assert r.io("AT+CPIN?") == b"\r\n+CPIN: READY\r\n\r\nOK\r\n"
    r.e.restart()
    r.clock.advance(1)
    r.take()
    r.io("ATE0")
    assert r.io('AT+CPIN="4321"') == b"\r\nOK\r\n"  # the new PIN stuck


def test_pin_unlock_registers_and_emits_creg() -> None:
    r = Rig(pin="1234").quiet()
    r.io("AT+CREG=1")
    assert r.io("AT+CREG?") == b"\r\n+CREG: 1,0\r\n\r\nOK\r\n"
    assert r.io('AT+CPIN="1234"') == b"\r\nOK\r\n\r\n+CREG: 1\r\n"  # the URC follows the final result
    assert r.io("AT+CREG?") == b"\r\n+CREG: 1,1\r\n\r\nOK\r\n"


# ---------------------------------------------------------------------- network status
def test_creg_urc_on_change_and_n2_location() -> None:
    r = Rig().quiet()
    r.io("AT+CREG=2")
    assert r.io("AT+CREG?") == b'\r\n+CREG: 2,1,"00A1","1B2C"\r\n\r\nOK\r\n'
    r.e.set_registration(2)
    assert r.take() == b"\r\n+CREG: 2\r\n"
    r.e.set_registration(1)
    assert r.take() == b'\r\n+CREG: 1,"00A1","1B2C"\r\n'
    assert r.io("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert r.io("AT+COPS?") == b'\r\n+COPS: 0,0,"SIMNET",0\r\n\r\nOK\r\n'


def test_storage_commands() -> None:
    r = Rig().quiet()
    assert r.io("AT+CPMS=?") == b'\r\n+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")\r\n\r\nOK\r\n'
    assert r.io('AT+CPMS="ME","ME","ME"') == b"\r\n+CPMS: 0,100,0,100,0,100\r\n\r\nOK\r\n"
    assert r.io("AT+CPMS?") == b'\r\n+CPMS: "ME",0,100,"ME",0,100,"ME",0,100\r\n\r\nOK\r\n'
    assert r.io('AT+CPMS="XX"') == b"\r\n+CMS ERROR: 302\r\n"
    assert r.io("AT+CSCA?") == b'\r\n+CSCA: "+15550000000",145\r\n\r\nOK\r\n'
    assert r.io("AT+CSMS=1") == b"\r\n+CSMS: 1,1,1\r\n\r\nOK\r\n"
    assert r.io("AT+CNMI=?") == b"\r\n+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)\r\n\r\nOK\r\n"
    assert r.io("AT+CNMI=2,1,0,3,0") == b"\r\nERROR\r\n"


# ---------------------------------------------------------------------- sending
def test_cmgs_prompt_send_and_mr_increment() -> None:
    r = Rig().quiet()
    assert submit(r) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert submit(r, text="second") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    subs = r.e.network.submitted
    assert [(s["destination"], s["text"], s["mr"]) for s in subs] == [
        ("+254711111111", "hi there", 0), ("+254711111111", "second", 1)]


def test_cmgs_echoes_pdu_when_echo_on_and_answers_after_send_delay() -> None:
    r = Rig(send_delay=2.0)
    p = encode_submit("+1555", "x")[0]
    assert r.io(f"AT+CMGS={p.tpdu_length}") == f"AT+CMGS={p.tpdu_length}\r\r\n> ".encode()
    assert r.io(p.hex.encode() + b"\x1a", advance=1.0) == p.hex.encode()  # echo only, network still busy
    assert r.io("AT", advance=0.5) == b""  # input while busy waits
    assert r.io(b"", advance=1.0) == b"\r\n+CMGS: 0\r\n\r\nOK\r\nAT\r\r\nOK\r\n"


def test_mr_wraps_mod_256() -> None:
    r = Rig().quiet()
    r.storage.mr = 255
    assert submit(r) == b"\r\n+CMGS: 255\r\n\r\nOK\r\n"
    assert submit(r) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


def test_escape_cancels() -> None:
    r = Rig().quiet()
    assert r.io("AT+CMGS=20") == b"\r\n> "
    assert r.io(b"0011\x1b") == b"\r\nOK\r\n"
    assert r.e.network.submitted == []


@pytest.mark.parametrize("body", [b"0011000B91", b"ZZ", b"001"])
def test_bad_pdu_or_length_is_cms_304(body: bytes) -> None:
    r = Rig().quiet()
    p = encode_submit("+1555", "x")[0]
    r.io(f"AT+CMGS={p.tpdu_length}")
    assert r.io(body + b"\x1a") == b"\r\n+CMS ERROR: 304\r\n"
    assert r.e.network.submitted == []
    r.io(f"AT+CMGS={p.tpdu_length + 1}")
    assert r.io(p.hex.encode() + b"\x1a") == b"\r\n+CMS ERROR: 304\r\n"


def test_send_faults_and_no_network() -> None:
    r = Rig().quiet()
    r.e.send_faults.extend(["ERROR", "+CMS ERROR: 500"])
    assert submit(r) == b"\r\nERROR\r\n"
    assert submit(r) == b"\r\n+CMS ERROR: 500\r\n"
    r.e.set_registration(0)
    assert submit(r) == b"\r\n+CMS ERROR: 331\r\n"
    r.e.set_registration(1)
    assert submit(r) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"


def test_text_mode_send() -> None:
    r = Rig().quiet()
    r.io("AT+CMGF=1")
    assert r.io('AT+CMGS="+15551234"') == b"\r\n> "
    assert r.io(b"line one\r") == b"\r\n> "
    assert r.io(b"line two\x1a") == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    assert r.e.network.submitted[0]["text"] == "line one\nline two"
    assert r.e.network.submitted[0]["destination"] == "+15551234"


def test_cmgw_then_cmss() -> None:
    r = Rig().quiet()
    p = encode_submit("+1555", "stored")[0]
    assert r.io(f"AT+CMGW={p.tpdu_length}") == b"\r\n> "
    assert r.io(p.hex.encode() + b"\x1a") == b"\r\n+CMGW: 1\r\n\r\nOK\r\n"
    assert r.io("AT+CMSS=1") == b"\r\n+CMSS: 0\r\n\r\nOK\r\n"
    assert r.e.network.submitted[0]["text"] == "stored"
    assert r.io("AT+CMGL=3") == f"\r\n+CMGL: 1,3,,{p.tpdu_length}\r\n{p.hex}\r\n\r\nOK\r\n".encode()


# ---------------------------------------------------------------------- receiving
def test_cmti_then_cmgr_cmgl_cmgd() -> None:
    r = Rig().quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    (pdu,) = r.e.network.inject_text("+254700000001", "hello")
    length = len(bytes.fromhex(pdu)) - 1 - bytes.fromhex(pdu)[0]
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n'
    assert r.io("AT+CMGL=0") == f"\r\n+CMGL: 1,0,,{length}\r\n{pdu}\r\n\r\nOK\r\n".encode()
    assert r.io("AT+CMGL=0") == b"\r\nOK\r\n"  # listing marked it read
    assert r.io("AT+CMGR=1") == f"\r\n+CMGR: 1,,{length}\r\n{pdu}\r\n\r\nOK\r\n".encode()
    assert r.io("AT+CMGD=1") == b"\r\nOK\r\n"
    assert r.io("AT+CMGR=1") == b"\r\n+CMS ERROR: 321\r\n"
    assert r.io("AT+CMGD=0") == b"\r\n+CMS ERROR: 321\r\n"  # index base 1


def test_cmgd_flags() -> None:
    r = Rig().quiet()
    for i in range(3):
        r.e.network.inject_text("+1555", f"m{i}")
    r.io("AT+CMGR=1")
    assert r.io("AT+CMGD=1,1") == b"\r\nOK\r\n"  # read ones only
    assert sorted(r.storage.mems["SM"]) == [2, 3]
    r.io("AT+CMGD=0,4")
    assert r.storage.mems["SM"] == {}


def test_mt2_direct_delivery_needs_cnma() -> None:
    r = Rig(part_gap=0.5).quiet()
    r.io("AT+CNMI=2,2,0,0,0")
    pdus = r.e.network.inject_text("+1555", "y" * 200)
    assert len(pdus) == 2
    first = r.take()
    assert re.fullmatch(rb"\r\n\+CMT: ,\d+\r\n" + pdus[0].encode() + rb"\r\n", first)
    r.clock.advance(2)
    assert r.take() == b""  # the network waits for the ack
    assert r.io("AT+CNMA", advance=0.1) == b"\r\nOK\r\n"
    r.clock.advance(0.5)
    assert pdus[1].encode() in r.take()
    assert r.io("AT+CNMA") == b"\r\nOK\r\n"
    assert r.io("AT+CNMA") == b"\r\n+CMS ERROR: 340\r\n"
    assert r.storage.mems["SM"] == {}


def test_missing_cnma_stores_and_announces() -> None:
    r = Rig(cnma_timeout=3.0).quiet()
    r.io("AT+CNMI=2,2,0,0,0")
    r.e.network.inject_text("+1555", "unacked")
    assert r.take().startswith(b"\r\n+CMT: ,")
    r.clock.advance(3.0)
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n'
    assert len(r.storage.mems["SM"]) == 1


def test_missing_cnma_with_csms1_turns_routing_off() -> None:
    r = Rig(cnma_timeout=3.0).quiet()
    r.io("AT+CSMS=1;+CNMI=2,2,0,1,0")
    r.e.network.inject_text("+1555", "unacked")
    r.take()
    r.clock.advance(3.0)
    assert r.take() == b""  # stored silently (27.005 3.4.4)
    assert r.io("AT+CNMI?") == b"\r\n+CNMI: 2,0,0,0,0\r\n\r\nOK\r\n"
    assert len(r.storage.mems["SM"]) == 1


def test_parts_arrive_with_gap() -> None:
    r = Rig(part_gap=1.0).quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    r.e.network.inject_text("+1555", "z" * 400)  # 3 parts
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n'
    r.clock.advance(0.9)
    assert r.take() == b""
    r.clock.advance(0.1)
    assert r.take() == b'\r\n+CMTI: "SM",2\r\n'
    r.clock.advance(1.0)
    assert r.take() == b'\r\n+CMTI: "SM",3\r\n'


def test_a_delayed_injection_arrives_after_its_delay_then_its_parts_at_their_gap() -> None:
    r = Rig(part_gap=1.0).quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    r.e.network.inject_text("+1555", "z" * 200, delay=0.5)  # 2 parts
    assert r.take() == b""
    r.clock.advance(0.5)
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n'
    r.clock.advance(1.0)
    assert r.take() == b'\r\n+CMTI: "SM",2\r\n'


def test_sim_full_queues_in_network_until_space() -> None:
    r = Rig(capacity={"SM": 2, "ME": 5, "SR": 5}).quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    for i in range(3):
        r.e.network.inject_text("+1555", f"m{i}")
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n\r\n+CMTI: "SM",2\r\n'
    assert r.io("AT+CPMS?") == b'\r\n+CPMS: "SM",2,2,"SM",2,2,"SM",2,2\r\n\r\nOK\r\n'
    assert len(r.e.network.queue) == 1
    assert r.io("AT+CMGD=1", advance=0.01) == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'
    assert len(r.e.network.queue) == 0


def test_sim_full_fault_flag() -> None:
    r = Rig().quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    r.storage.full = True
    r.e.network.inject_text("+1555", "waiting")
    assert r.take() == b""
    assert r.io("AT+CMGW=10") == b"\r\n+CMS ERROR: 322\r\n"
    r.storage.full = False
    r.e.network.pump()
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n'


# ---------------------------------------------------------------------- status reports
def test_status_report_ds1_direct_and_unreachable() -> None:
    r = Rig(report_delay=2.0).quiet()
    r.io("AT+CNMI=2,1,0,1,0")
    r.e.network.set_unreachable("+254799999999")
    assert submit(r, dest="+254799999999", status_report=True) == b"\r\n+CMGS: 0\r\n\r\nOK\r\n"
    r.clock.advance(2.0)
    m = re.fullmatch(rb"\r\n\+CDS: (\d+)\r\n([0-9A-F]+)\r\n", r.take())
    assert m
    rep = decode_pdu(m.group(2).decode())
    assert isinstance(rep, StatusReport)
    assert (rep.mr, rep.recipient, rep.status) == (0, "+254799999999", 0x41)
    assert r.io("AT+CNMA") == b"\r\nOK\r\n"


def test_status_report_ds2_stored_in_sr() -> None:
    r = Rig(report_delay=1.0).quiet()
    r.io("AT+CNMI=2,1,0,2,0")
    submit(r, status_report=True)
    r.clock.advance(1.0)
    assert r.take() == b'\r\n+CDSI: "SR",1\r\n'
    r.io('AT+CPMS="SR"')
    out = r.io("AT+CMGR=1")
    rep = decode_pdu(out.split(b"\r\n")[2].decode())
    assert isinstance(rep, StatusReport) and rep.status == 0 and rep.mr == 0


def test_no_report_without_srr() -> None:
    r = Rig(report_delay=1.0).quiet()
    r.io("AT+CNMI=2,1,0,2,0")
    submit(r)
    r.clock.advance(5)
    assert r.take() == b""


def test_quectel_reports_always_cdsi() -> None:
    r = Rig("quectel", report_delay=1.0).quiet()
    r.io("AT+CNMI=2,1,0,1,0")
    submit(r, status_report=True)
    r.clock.advance(1.0)
    assert r.take() == b'\r\n+CDSI: "SR",1\r\n'


# ---------------------------------------------------------------------- faults and profiles
def test_hang_drops_input_until_cleared() -> None:
    r = Rig().quiet()
    r.e.set_hung(True)
    assert r.io("AT") == b""
    r.e.network.inject_text("+1555", "while hung")  # still lands on the SIM, silently
    assert r.take() == b""
    r.e.set_hung(False)
    assert r.io("AT") == b"\r\nOK\r\n"
    assert len(r.storage.mems["SM"]) == 1


def test_wedged_firmware_answers_only_at_ate_and_cfun_until_reset() -> None:
    r = Rig().quiet()
    r.e.wedged = True
    assert r.io("AT") == b"\r\nOK\r\n"
    assert r.io("ATE0") == b"\r\nOK\r\n"
    assert r.io("AT+CPMS?") == b""  # swallowed
    assert r.io("AT+CMGF=0") == b""
    assert r.io("AT+CFUN=1,1") == b"\r\nOK\r\n"
    r.clock.advance(5)
    assert b"OK" in r.io("AT+CPMS?")  # the reset cleared it
    assert r.e.wedged is False


def test_restart_forgets_settings_and_says_rdy() -> None:
    r = Rig().quiet()
    r.io("AT+CMGF=1;+CNMI=2,1,0,2,0")
    r.e.restart()
    assert r.io("AT") == b""  # resetting
    r.clock.advance(1)
    assert r.take() == b"\r\nRDY\r\n"
    assert r.io("AT+CNMI?;+CMGF?") == b"AT+CNMI?;+CMGF?\r\r\n+CNMI: 0,0,0,0,0\r\n+CMGF: 0\r\n\r\nOK\r\n"


def test_cfun_reset() -> None:
    r = Rig("quectel").quiet()
    assert r.io("AT+CFUN=1,1") == b"\r\nOK\r\n"
    r.clock.advance(1)
    assert r.take() == (b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n"
                        b"\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n")


def test_garbage_is_seeded() -> None:
    a, b = Rig(seed=7), Rig(seed=7)
    assert a.e.emit_garbage(32) == b.e.emit_garbage(32)
    assert len(a.take()) == 32


def test_sim800_ignores_input_before_rdy() -> None:
    clock, out = ManualScheduler(), bytearray()
    e = ModemEngine(SimConfig(profile=SIM800, seed=1), Storage(), clock, out.extend)
    e.power_on()
    e.feed(b"AT\r")
    clock.advance(0.1)
    assert bytes(out) == b""
    clock.advance(1)
    assert bytes(out) == b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n"
    out.clear()
    e.feed(b"AT\r")
    assert bytes(out) == b"AT\r\r\nOK\r\n"


def test_huawei_unknown_command_and_noise_is_deterministic() -> None:
    def transcript(seed: int) -> bytes:
        r = Rig("huawei", seed=seed).quiet()
        out = b"".join(r.io("AT+CSQ") for _ in range(20))
        assert r.io("AT+BOGUS").endswith(b"\r\nCOMMAND NOT SUPPORT\r\n")
        return out

    a = transcript(5)
    assert a == transcript(5)
    assert re.search(rb"\^(RSSI|MODE|BOOT|SRVST|SIMST|DSFLOWRPT)", a)
    assert a.count(b"+CSQ: 20,99") == 20


def test_huawei_curc0_silences_noise_and_index_base_0() -> None:
    r = Rig("huawei").quiet()
    r.io("AT^CURC=0")
    out = b"".join(r.io("AT+CSQ") for _ in range(30))
    assert out == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n" * 30
    r.io("AT+CNMI=2,1,0,0,0")
    r.e.network.inject_text("+1555", "x")
    assert r.take() == b'\r\n+CMTI: "SM",0\r\n'


def test_urc_held_while_prompt_open() -> None:
    r = Rig().quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    assert r.io("AT+CMGS=10") == b"\r\n> "
    r.e.network.inject_text("+1555", "during prompt")
    assert r.take() == b""
    assert r.io(b"\x1b") == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_urc_interleaves_with_slow_send() -> None:
    r = Rig(send_delay=1.0).quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    p = encode_submit("+1555", "x")[0]
    r.io(f"AT+CMGS={p.tpdu_length}")
    r.io(p.hex.encode() + b"\x1a", advance=0.5)
    r.e.network.inject_text("+1555", "meanwhile")
    r.clock.advance(0.5)
    assert r.take() == b'\r\n+CMTI: "SM",1\r\n\r\n+CMGS: 0\r\n\r\nOK\r\n'


# ---------------------------------------------------------------------- text mode and persistence
def test_text_mode_listing() -> None:
    r = Rig().quiet()
    r.e.network.inject_text("+254700000001", "hello text")
    r.io("AT+CMGF=1")
    assert r.io('AT+CMGL="ALL"') == (
        b'\r\n+CMGL: 1,"REC UNREAD","+254700000001",,"26/11/28,09:30:00+00"\r\nhello text\r\n\r\nOK\r\n')
    assert r.io("AT+CMGR=1") == (
        b'\r\n+CMGR: "REC READ","+254700000001",,"26/11/28,09:30:00+00"\r\nhello text\r\n\r\nOK\r\n')


def test_state_file_persists_storage_and_mr(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    r = Rig(state=state).quiet()
    r.e.network.inject_text("+1555", "kept")
    submit(r)
    data = json.loads(state.read_text())
    assert data["mr"] == 1 and len(data["memories"]["SM"]) == 1
    r2 = Rig(state=state).quiet()
    assert r2.io("AT+CPMS?").startswith(b'\r\n+CPMS: "SM",1,30')
    assert submit(r2) == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    assert not (tmp_path / "sim.json.tmp").exists()


def test_cnma_mode_csms1_autoacks_with_csms0() -> None:
    r = Rig(cnma_mode="csms1").quiet()
    r.io("AT+CNMI=2,2,0,0,0")
    r.e.network.inject_text("+1555", "one")
    r.e.network.inject_text("+1555", "two")
    assert r.take().count(b"+CMT: ,") == 2  # no ack needed between them
    assert r.io("AT+CNMA") == b"\r\n+CMS ERROR: 340\r\n"
    r.io("AT+CSMS=1")
    r.e.network.inject_text("+1555", "three")
    r.e.network.inject_text("+1555", "four")
    assert r.take().count(b"+CMT: ,") == 1
    assert r.io("AT+CNMA", advance=0.01).count(b"+CMT: ,") == 1


def test_huawei_memory_full_urc() -> None:
    r = Rig("huawei", capacity={"SM": 1, "ME": 1, "SR": 1}, noise=False).quiet()
    r.io("AT+CNMI=2,1,0,0,0")
    r.e.network.inject_text("+1555", "fits")
    r.e.network.inject_text("+1555", "does not")
    assert r.take() == b'\r\n+CMTI: "SM",0\r\n\r\n^SMMEMFULL:"SM"\r\n'


def test_huawei_spontaneous_noise_on_the_clock() -> None:
    r = Rig("huawei", seed=9).quiet()
    r.clock.advance(60)
    noise = r.take()
    assert re.fullmatch(rb"(\r\n\^[A-Z]+:[^\r]*\r\n)+", noise) and noise.count(b"\r\n^") >= 5
    r.io("AT^CURC=0")
    r.clock.advance(60)
    assert r.take() == b""


def test_register_delay_searching_then_home() -> None:
    r = Rig(register_delay=10.0)  # the rig boots with 5 s on the clock
    r.quiet()
    r.io("AT+CREG=1")
    assert r.io("AT+CREG?") == b"\r\n+CREG: 1,2\r\n\r\nOK\r\n"
    r.e.network.inject_text("+1555", "waits for registration")
    r.io("AT+CNMI=2,1,0,0,0")
    assert submit(r) == b"\r\n+CMS ERROR: 331\r\n"
    r.clock.advance(5.0)
    assert r.take() == b'\r\n+CREG: 1\r\n\r\n+CMTI: "SM",1\r\n'
    assert r.io("ATZ") == b"\r\nOK\r\n"  # ATZ keeps SIM and registration
    assert r.io("AT+CREG?") == b"AT+CREG?\r\r\n+CREG: 0,1\r\n\r\nOK\r\n"
