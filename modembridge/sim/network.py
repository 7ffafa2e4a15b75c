"""The network side of the simulated modem: inbound queue and routing per +CNMI, +CNMA, submits, reports.

Inbound SMS and status reports wait in a network queue and are delivered one at a time: direct
(+CMT / +CDS, each needing +CNMA within ``cnma_timeout``) or stored (+CMTI / +CDSI). A full memory keeps
the message in the network queue until space frees (as a network retries). Submits get a message
reference counted mod 256 on the SIM, and an SMS-STATUS-REPORT when they asked for one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from modembridge.sim.clock import Handle
from modembridge.sim.results import cms_result
from modembridge.sim.storage import REC_UNREAD, STO_SENT
from modembridge.sim.textmode import format_cds, format_cmt

if TYPE_CHECKING:
    from modembridge.sim.engine import ModemEngine

DEFAULT_FAIL_STATUS = 0x41  # permanent error: incompatible destination / unreachable


@dataclass
class Inbound:
    kind: Literal["deliver", "report"]
    pdu: str  # whole PDU hex incl. SMSC octets
    length: int  # TPDU octets
    delay: float = 0.0  # wait before delivering (gap between the parts of one message)
    waited: bool = False


def tpdu_length(pdu_hex: str) -> int:
    raw = bytes.fromhex(pdu_hex)
    return len(raw) - 1 - raw[0]


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit()) or number


class Network:
    def __init__(self, engine: ModemEngine) -> None:
        self.e = engine
        self.queue: deque[Inbound] = deque()
        self.awaiting: Inbound | None = None
        self._ack_timer: Handle | None = None
        self._gap_timer: Handle | None = None
        self._full_announced = False
        self.submitted: list[dict[str, Any]] = []
        self.unreachable: dict[str, int] = {}  # digits -> TP-Status for its reports
        self.holding_reports = False  # status reports wait in `held` until released (late, any order)
        self.held: list[Inbound] = []

    # ------------------------------------------------------------------ inbound
    def inject_pdu(self, pdu_hex: str, *, kind: Literal["deliver", "report"] = "deliver",
                   delay: float = 0.0) -> None:
        pdu_hex = "".join(pdu_hex.split()).upper()
        self.queue.append(Inbound(kind, pdu_hex, tpdu_length(pdu_hex), delay))
        self.e.notify("queued")
        self.pump()

    def inject_text(self, sender: str, text: str | None = None, *, data: bytes | None = None,
                    encoding: Literal["gsm7", "ucs2", "8bit"] | None = None, flash: bool = False,
                    concat_ref: int | None = None, ref_bits: int = 8, timestamp: datetime | None = None,
                    smsc: str | None = None, gap: float | None = None, pid: int = 0, dcs: int | None = None,
                    ports: tuple[int, int] | None = None, parts: Sequence[int] | None = None,
                    delay: float = 0.0) -> list[str]:
        """Encode with the codec's encode_deliver and queue the parts; returns the PDUs (hex) queued.

        `timestamp`: the TP-SCTS (default: the simulator's clock); `pid`/`dcs`: TP-PID and a TP-DCS
        override (silent, replace-type, message waiting); `ports`: (destination, source) port addressing;
        `parts`: which parts the network delivers, in that order, 1-based (repeat one for a resend, leave
        one out to lose it); default all, in order. `delay`: seconds before the first part is delivered.
        """
        from modembridge.sms import Ports, encode_deliver, ports_ie

        if concat_ref is None:
            concat_ref = self.e.rng.randrange(256 if ref_bits == 8 else 65536)
        ts = timestamp or self.e.config.timestamp_clock()
        ies = [ports_ie(Ports(*ports))] if ports is not None else []
        encoded = encode_deliver(sender, text, data=data, timestamp=ts,
                                 smsc=smsc if smsc is not None else self.e.smsc, concat_ref=concat_ref,
                                 ref_bits=ref_bits, flash=flash, encoding=encoding, pid=pid, dcs=dcs, ies=ies)
        order = list(parts) if parts is not None else list(range(1, len(encoded) + 1))
        if any(not 1 <= n <= len(encoded) for n in order):
            raise ValueError(f"parts {order} outside 1..{len(encoded)}")
        gap = self.e.config.part_gap if gap is None else gap
        for i, n in enumerate(order):
            p = encoded[n - 1]
            self.queue.append(Inbound("deliver", p.hex, p.tpdu_length, gap if i else delay))
        self.e.notify("queued")
        self.pump()
        return [encoded[n - 1].hex for n in order]

    def pump(self) -> None:
        """Deliver what the network holds, as far as the modem's state allows."""
        e = self.e
        if not e.powered or e.mode in ("off", "booting") or self.awaiting or self._gap_timer:
            return
        if not e.registered():
            return
        while self.queue:
            item = self.queue[0]
            if item.delay > 0 and not item.waited:
                item.waited = True
                self._gap_timer = e.later(item.delay, self._gap_done)
                return
            outcome = self._deliver(item)
            if outcome == "blocked":
                if not self._full_announced and e.profile.memory_full_urc:
                    self._full_announced = True
                    e.urc(e.profile.memory_full_urc)
                return
            self._full_announced = False
            self.queue.popleft()
            e.notify("delivered")
            if outcome == "await":
                return

    def _gap_done(self) -> None:
        self._gap_timer = None
        self.pump()

    def _deliver(self, item: Inbound) -> Literal["done", "blocked", "await"]:
        e = self.e
        _mode, mt, _bm, ds, _bfr = e.cnmi
        if item.kind == "deliver":
            if mt in (2, 3) and not e.hung:
                if e.cmgf == 0:
                    e.urc(f"+CMT: ,{item.length}\r\n{item.pdu}")
                else:
                    e.urc("\r\n".join(format_cmt(item.pdu, e.cscs)))
                return self._await(item)
            return "done" if self._store(item, announce=mt != 0) else "blocked"
        if ds == 0:
            return "done"  # not routed to the TE: the report is discarded
        if ds == 1 and not e.profile.reports_always_stored and not e.hung:
            e.urc(f"+CDS: {item.length}\r\n{item.pdu}" if e.cmgf == 0 else format_cds(item.pdu))
            return self._await(item)
        return "done" if self._store(item, announce=True) else "blocked"

    def _await(self, item: Inbound) -> Literal["done", "await"]:
        if self.e.config.cnma_mode == "csms1" and self.e.csms == 0:
            return "done"  # the ME acknowledged it itself
        self.awaiting = item
        self._ack_timer = self.e.later(self.e.config.cnma_timeout, self._ack_timeout)
        return "await"

    def _store(self, item: Inbound, *, announce: bool) -> bool:
        e = self.e
        mem = "SR" if item.kind == "report" else e.cpms[2]
        idx = e.storage.store(mem, REC_UNREAD, item.pdu, item.length)
        if idx is None:
            return False
        if announce:
            e.urc(f'+CDSI: "{mem}",{idx}' if item.kind == "report" else f'+CMTI: "{mem}",{idx}')
        e.notify("storage")
        return True

    def _ack_timeout(self) -> None:
        """No +CNMA in time. 27.005 §3.4.4: with +CSMS=1 the ME turns routing to the TE off (mt=ds=0) and
        the message ends up in storage without a URC; with +CSMS=0 it is stored and announced."""
        e = self.e
        item, self.awaiting, self._ack_timer = self.awaiting, None, None
        if item is None:
            return
        announce = True
        if e.csms == 1:
            e.cnmi[1] = 0
            e.cnmi[3] = 0
            announce = False
        if not self._store(item, announce=announce):
            self.queue.appendleft(item)
        e.notify("ack-timeout")
        self.pump()

    def ack(self, *, negative: bool = False) -> bool:
        """+CNMA: True if a direct delivery was waiting for it. A negative ack stores the message instead."""
        item = self.awaiting
        if item is None:
            return False
        self.e.cancel(self._ack_timer)
        self._ack_timer = None
        self.awaiting = None
        if negative and not self._store(item, announce=True):
            self.queue.appendleft(item)
        self.e.notify("acked")
        self.e.later(0.0, self.pump)
        return True

    def on_power_off(self) -> None:
        if self.awaiting is not None:
            self.queue.appendleft(self.awaiting)
            self.awaiting = None
        self._ack_timer = None
        self._gap_timer = None
        for item in self.queue:
            item.waited = False

    # ------------------------------------------------------------------ outbound
    def submit_pdu(self, pdu_hex: str, *, stored: tuple[str, int] | None = None) -> None:
        """+CMGS / +CMSS after Ctrl-Z: validate, wait the send delay, answer +CMGS: <mr> or an error."""
        from modembridge.sms import PduError, Submit, decode_pdu

        e = self.e
        try:
            sub = decode_pdu(pdu_hex)
        except PduError:
            e.respond([], cms_result(304, e.cmee))
            return
        if not isinstance(sub, Submit):
            e.respond([], cms_result(304, e.cmee))
            return
        concat = None
        if sub.concat is not None:
            c = sub.concat
            concat = {"ref": c.ref, "total": c.total, "seq": c.seq, "ref_bits": c.ref_bits}
        record: dict[str, Any] = {
            "mode": "pdu", "pdu": pdu_hex, "length": tpdu_length(pdu_hex), "destination": sub.destination,
            "text": sub.text, "data": sub.data.hex() if sub.data is not None else None, "concat": concat,
            "encoding": sub.encoding, "status_report_request": sub.status_report_request,
            "pdu_mr": sub.mr,
        }
        self._send(record, "+CMSS" if stored else "+CMGS", stored)

    def submit_text(self, address: str, text: str) -> None:
        record: dict[str, Any] = {
            "mode": "text", "pdu": None, "length": None, "destination": address, "text": text, "data": None,
            "concat": None, "encoding": None, "status_report_request": bool(self.e.csmp_fo & 0x20),
            "pdu_mr": None,
        }
        self._send(record, "+CMGS", None)

    def _send(self, record: dict[str, Any], tag: str, stored: tuple[str, int] | None) -> None:
        e = self.e

        def complete() -> None:
            if e.send_faults:
                e.end_busy([], e.send_faults.popleft())
                e.notify("send-failed")
                return
            if not e.registered():
                e.end_busy([], cms_result(331, e.cmee))
                return
            mr = e.storage.next_mr()
            now = e.config.timestamp_clock()
            record.update(mr=mr, time=now.isoformat())
            self.submitted.append(record)
            if stored is not None:
                e.storage.set_stat(stored[0], stored[1], STO_SENT)
            own = e.config.own_number
            if own and record["pdu"] and _digits(str(record["destination"])) == _digits(own):
                pdu = str(record["pdu"])
                e.scheduler.call_later(e.config.loopback_delay, lambda: self._loop_back(pdu, now))
            if record["status_report_request"]:  # network-side: survives a modem restart
                e.scheduler.call_later(e.config.report_delay, lambda: self._report(record, now))
            e.end_busy([f"{tag}: {mr}"], "OK")
            e.notify("submitted")

        e.begin_busy()
        if e.config.send_delay > 0:
            e.later(e.config.send_delay, complete)
        else:
            complete()

    def _report(self, record: dict[str, Any], submitted_at: datetime) -> None:
        from modembridge.sms import encode_status_report

        dest = str(record["destination"])
        status = self.unreachable.get(_digits(dest), 0)
        pdu = encode_status_report(mr=int(record["mr"]), recipient=dest, scts=submitted_at,
                                   discharge_time=self.e.config.timestamp_clock(), status=status,
                                   smsc=self.e.smsc)
        record["report_status"] = status
        if self.holding_reports:
            self.held.append(Inbound("report", pdu.hex, pdu.tpdu_length))
            return
        self.queue.append(Inbound("report", pdu.hex, pdu.tpdu_length))
        self.e.notify("queued")
        self.pump()

    def hold_reports(self, on: bool = True) -> None:
        """Keep the status reports of later sends back (a congested SMSC) until release_reports()."""
        self.holding_reports = on

    def release_reports(self, order: Literal["sent", "reverse", "shuffle"] = "sent") -> int:
        """Deliver the held reports now: in the order of their sends, reversed, or shuffled (the
        simulator's seeded rng); returns how many. Holding stops."""
        held, self.held, self.holding_reports = self.held, [], False
        if order == "reverse":
            held.reverse()
        elif order == "shuffle":
            self.e.rng.shuffle(held)
        self.queue.extend(held)
        self.e.notify("queued")
        self.pump()
        return len(held)

    def _loop_back(self, submit_pdu: str, at: datetime) -> None:
        """A part sent to the SIM's own number arrives back as an SMS-DELIVER from it (same user data)."""
        from modembridge.sms import Submit, decode_pdu, encode_deliver

        sub = decode_pdu(submit_pdu)
        assert isinstance(sub, Submit)
        ies = [ie for ie in sub.udh if ie.iei not in (0x24, 0x25)]  # national tables: the text is re-encoded
        [part] = encode_deliver(self.e.config.own_number, None if sub.data is not None else sub.text,
                                data=sub.data, timestamp=at, smsc=self.e.smsc, ies=ies,
                                encoding=sub.encoding if sub.encoding != "8bit" else None)
        self.inject_pdu(part.hex)

    def set_unreachable(self, number: str, status: int | None = DEFAULT_FAIL_STATUS) -> None:
        """Mark a number unreachable (its reports carry ``status``); None makes it reachable again."""
        if status is None:
            self.unreachable.pop(_digits(number), None)
        else:
            self.unreachable[_digits(number)] = status
