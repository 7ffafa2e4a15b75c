"""The simulated modem's AT state machine: bytes in (``feed``), bytes out (``sink``), timers via a Scheduler.

No I/O here. The pty transport (transport.py) feeds it and drains its output; unit tests drive it with
plain bytes and a ManualScheduler. Command handlers live in commands.py; network-side behaviour (inbound
queue, +CNMA, status reports) in network.py. This module is the line discipline, state and output.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from modembridge.sim.atline import AtSyntaxError, Command, parse_line
from modembridge.sim.clock import Handle, Scheduler
from modembridge.sim.profiles import GENERIC, Profile
from modembridge.sim.results import CmeError, CmsError, cme_result, cms_result
from modembridge.sim.storage import Storage

CR, LF, BS, CTRL_Z, ESC = 0x0D, 0x0A, 0x08, 0x1A, 0x1B
MAX_LINE = 4096


WEDGE_ANSWERS = frozenset({"E", "+CFUN"})  # what a wedged modem still answers (and a bare AT)


@dataclass
class SimConfig:
    """Behaviour knobs of one simulated modem (all times in seconds)."""

    profile: Profile = GENERIC
    pin: str | None = None  # None: SIM not PIN-locked
    puk: str = "12345678"
    send_delay: float = 0.0  # network time of one +CMGS before "+CMGS: <mr>"
    report_delay: float = 0.5  # submit -> SMS-STATUS-REPORT
    part_gap: float = 0.05  # between the parts of an injected multi-part message
    cnma_timeout: float = 10.0  # +CMT/+CDS without +CNMA within this -> stored and announced instead
    # "always": every +CMT/+CDS needs +CNMA (strict; the default). "csms1": only with +CSMS=1, as 27.005
    # says; with +CSMS=0 the ME acknowledges by itself and +CNMA is answered +CMS ERROR: 340.
    cnma_mode: Literal["always", "csms1"] = "always"
    restart_delay: float = 0.05  # silence between a reset and its banner
    boot_delay: float | None = None  # None: the profile's
    noise: bool = True  # profile noise (Huawei ^RSSI ...) on/off
    seed: int | None = None
    smsc: str = "+15550000000"
    operator: str = "SIMNET"
    imei: str = "356789012345678"
    imsi: str = "001010123456789"
    iccid: str = "8901260000000000001"
    rssi: int = 20
    registration: int = 1  # +CREG stat: 0 not, 1 home, 2 searching, 3 denied, 5 roaming
    ring_interval: float = 3.0  # between the RINGs of an incoming call
    own_number: str = "+15550100001"  # the SIM's number (AT+CNUM; "" = not on the SIM); SMS to it come back
    loopback_delay: float = 0.2  # a message sent to own_number arrives back this much later
    ussd_mode: Literal["text", "packed", "ucs2"] | None = None  # None: the profile's (Huawei packed)
    register_delay: float = 0.0  # after boot / PIN: "searching" (stat 2) this long before registering
    timestamp_clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC).replace(microsecond=0))


@dataclass
class Prompt:
    """An open '> ' prompt: which command, and its parameters."""

    command: Literal["CMGS", "CMGW"]
    length: int | None  # PDU mode <length>
    address: str | None = None  # text mode destination
    stat: int = 2  # CMGW <stat>


@dataclass
class TrafficEntry:
    t: float
    direction: Literal["rx", "tx"]
    data: bytes

    def to_json(self) -> dict[str, Any]:
        return {"t": round(self.t, 6), "dir": self.direction, "data": self.data.decode("latin-1")}


Listener = Callable[[str], None]


class ModemEngine:
    """One simulated modem. ``feed(bytes)`` with what the host writes; output goes to ``sink``."""

    def __init__(self, config: SimConfig, storage: Storage, scheduler: Scheduler,
                 sink: Callable[[bytes], None] | None = None) -> None:
        from modembridge.sim.calls import Calls
        from modembridge.sim.commands import CommandSet
        from modembridge.sim.network import Network
        from modembridge.sim.ussd import UssdNetwork

        self.config = config
        self.profile = config.profile
        self.storage = storage
        self.scheduler = scheduler
        self.sink = sink or (lambda _b: None)
        self.rng = random.Random(config.seed)
        self.traffic: deque[TrafficEntry] = deque(maxlen=50_000)
        self.listeners: list[Listener] = []
        self.commands = CommandSet(self)
        self.network = Network(self)
        self.ussd = UssdNetwork(self)
        self.calls = Calls(self, self.config.ring_interval)
        # SIM (survives restarts, not power: tries are kept in memory)
        self.pin = config.pin
        self.pin_tries = 3
        self.puk_tries = 10
        self.registration = config.registration
        self.rssi = config.rssi
        self.smsc = config.smsc
        self.powered = False
        # faults
        self.hung = False
        # fault: wedged firmware: answers AT, ATE and AT+CFUN but nothing else until a reset (AT+CFUN=1,1)
        self.wedged = False
        self.send_faults: deque[str] = deque()
        self._timers: set[Handle] = set()
        self._noise_timer: Handle | None = None
        self.reset_settings()
        self._reset_power()
        self.mode: Literal["off", "booting", "command", "prompt", "busy"] = "off"
        self._executing = False
        self._held: list[bytes] = []

    # ------------------------------------------------------------------ settings and power
    def reset_settings(self) -> None:
        """Volatile settings back to power-up values (ATZ, restart, power cycle)."""
        self.echo = True
        self.cmee = 0
        self.cmgf = 0
        self.cscs = "GSM"
        self.csms = 0
        self.csdh = 0
        self.csmp_fo = 17
        self.cnmi = [0, 0, 0, 0, 0]
        self.cpms = ["SM", "SM", "SM"]
        self.creg_n = 0
        self.curc = True

    def _reset_power(self) -> None:
        """Radio and SIM state of a fresh boot (ATZ keeps these)."""
        self.fun = 1
        self.pin_state = "SIM PIN" if self.pin is not None else "READY"
        self.attached = False

    def power_on(self) -> None:
        """Cold start: settings reset, banner after the profile's boot delay."""
        self.powered = True
        self._boot(self.profile.boot_lines,
                   self.profile.boot_delay if self.config.boot_delay is None else self.config.boot_delay)

    def power_off(self) -> None:
        self.powered = False
        self.mode = "off"
        for h in list(self._timers):
            h.cancel()
        self._timers.clear()
        self._noise_timer = None
        self.network.on_power_off()

    def restart(self) -> None:
        """Spontaneous or commanded reset: settings forgotten, restart banner (e.g. RDY)."""
        self.wedged = False
        self.power_off()
        self.powered = True
        self._boot(self.profile.restart_lines, self.config.restart_delay)

    def _boot(self, lines: tuple[str, ...], delay: float) -> None:
        self.reset_settings()
        self._reset_power()
        self.mode = "booting"
        self._linebuf = bytearray()
        self._pending_input = bytearray()
        self._held = []
        self.prompt: Prompt | None = None
        self._prompt_buf = bytearray()

        def done() -> None:
            for line in lines:
                self._out(b"\r\n" + line.encode() + b"\r\n")
            self.mode = "command"
            if self.pin_state == "READY":
                self.start_attach()
            self._schedule_noise()
            self.notify("ready")
            self.network.pump()
            self._drain_pending()

        if delay > 0:
            self.later(delay, done)
        else:
            done()

    # ------------------------------------------------------------------ timers, events, output
    def later(self, delay: float, cb: Callable[[], None]) -> Handle:
        box: list[Handle] = []

        def run() -> None:
            self._timers.discard(box[0])
            cb()

        h = self.scheduler.call_later(delay, run)
        box.append(h)
        self._timers.add(h)
        return h

    def cancel(self, h: Handle | None) -> None:
        if h is not None:
            h.cancel()
            self._timers.discard(h)

    def notify(self, event: str) -> None:
        for cb in list(self.listeners):
            cb(event)

    def _out(self, data: bytes) -> None:
        if not data:
            return
        self.traffic.append(TrafficEntry(self.scheduler.time(), "tx", data))
        self.sink(data)

    def urc(self, *lines: str) -> None:
        """Unsolicited result: held while a prompt is open, dropped while hung or off."""
        if not self.powered or self.hung or self.mode in ("off", "booting"):
            return
        data = b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines)
        if self.mode == "prompt" or self._executing:
            self._held.append(data)
        else:
            self._out(data)

    def respond(self, info: list[str], final: str) -> None:
        """Information lines then the final result, V.250 verbose framing, maybe with vendor noise inside."""
        out = b""
        noise_at = -1
        p_noise = self.profile.noise_in_response
        if self.profile.noise_lines and self.noise_active() and self.rng.random() < p_noise:
            noise_at = self.rng.randrange(2)
        if noise_at == 0:
            out += self._noise_line()
        if info:
            out += b"\r\n" + "\r\n".join(info).encode() + b"\r\n"
        if noise_at == 1:
            out += self._noise_line()
        out += b"\r\n" + final.encode() + b"\r\n"
        self._out(out)

    def noise_active(self) -> bool:
        return self.config.noise and self.curc

    def _noise_line(self) -> bytes:
        return b"\r\n" + self.rng.choice(self.profile.noise_lines).encode() + b"\r\n"

    def _schedule_noise(self) -> None:
        interval = self.profile.noise_interval
        if not (self.profile.noise_lines and interval > 0 and self.config.noise):
            return

        def fire() -> None:
            self._noise_timer = None
            if self.noise_active() and self.mode == "command" and not self.hung:
                self._out(self._noise_line())
            self._schedule_noise()

        self._noise_timer = self.later(self.rng.expovariate(1.0 / interval), fire)

    def emit_garbage(self, n: int) -> bytes:
        data = bytes(self.rng.randrange(256) for _ in range(n))
        self._out(data)
        return data

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Bytes written by the host (DTE)."""
        if not data:
            return
        self.traffic.append(TrafficEntry(self.scheduler.time(), "rx", data))
        if not self.powered or self.hung or self.mode == "off":
            return
        if self.mode == "booting":  # a modem that is (re)booting hears nothing
            return
        if self.mode == "busy":
            self._pending_input += data
            return
        self._consume(data)

    def _drain_pending(self) -> None:
        if self._pending_input and self.mode in ("command", "prompt"):
            data = bytes(self._pending_input)
            self._pending_input.clear()
            self._consume(data)

    def _consume(self, data: bytes) -> None:
        echo = bytearray()
        i = 0
        while i < len(data):
            if self.mode == "busy":
                self._pending_input += data[i:]
                break
            b = data[i]
            i += 1
            if self.mode == "prompt":
                if b in (CTRL_Z, ESC) or (b == CR and self.cmgf == 1):
                    self._flush_echo(echo)
                    self._prompt_byte(b)
                else:
                    self._prompt_buf.append(b)
                    if self.echo:
                        echo.append(b)
                continue
            # command state
            if self.echo:
                echo.append(b)
            if b == CR:
                self._flush_echo(echo)
                line = bytes(self._linebuf)
                self._linebuf.clear()
                self._command_line(line)
            elif b == BS:
                if self._linebuf:
                    self._linebuf.pop()
            elif b == LF:
                continue
            else:
                self._linebuf.append(b)
                if len(self._linebuf) > MAX_LINE:
                    self._linebuf.clear()
        self._flush_echo(echo)

    def _flush_echo(self, echo: bytearray) -> None:
        if echo:
            self._out(bytes(echo))
            echo.clear()

    def _command_line(self, raw: bytes) -> None:
        # A command line starts at "AT" (case-insensitive); bytes before it are line noise.
        text = raw.decode("latin-1")
        at = text.upper().find("AT")
        if at < 0:
            return
        body = text[at + 2 :]
        try:
            cmds = parse_line(body)
        except AtSyntaxError:
            self.respond([], "ERROR")
            return
        self.execute(cmds)

    def execute(self, cmds: list[Command]) -> None:
        """Run a line's commands; URCs raised meanwhile follow the final result."""
        self._executing = True
        try:
            self._execute(cmds)
        finally:
            self._executing = False
            if self.mode != "prompt":
                held, self._held = self._held, []
                for data in held:
                    self._out(data)

    def _execute(self, cmds: list[Command]) -> None:
        info: list[str] = []
        for idx, cmd in enumerate(cmds):
            if self.wedged and cmd.name not in WEDGE_ANSWERS:
                return  # the firmware swallows it: no answer at all
            try:
                result = self.commands.run(cmd, info)
            except CmeError as e:
                self.respond(info, cme_result(e.code, self.cmee))
                return
            except CmsError as e:
                self.respond(info, cms_result(e.code, self.cmee))
                return
            except AtSyntaxError:
                self.respond(info, cme_result(50, self.cmee))
                return
            if result is None:  # deferred: the handler answers later (prompt, send delay, reset)
                if info:
                    self._out(b"\r\n" + "\r\n".join(info).encode() + b"\r\n")
                del cmds[idx + 1 :]
                return
            if result != "OK":
                self.respond(info, result)
                return
        self.respond(info, "OK")

    # ------------------------------------------------------------------ prompt ("> ") exchange
    def open_prompt(self, prompt: Prompt) -> None:
        self.prompt = prompt
        self._prompt_buf = bytearray()
        self.mode = "prompt"
        self._out(b"\r\n> ")

    def _prompt_byte(self, b: int) -> None:
        assert self.prompt is not None
        if b == CR:  # text mode: a new line of the message
            self._prompt_buf += b"\n"
            self._out(b"\r\n> ")
            return
        prompt, body = self.prompt, bytes(self._prompt_buf)
        self.prompt = None
        self._prompt_buf = bytearray()
        self.mode = "command"
        held, self._held = self._held, []
        if b == ESC:
            self.respond([], "OK")
        else:
            self.commands.prompt_done(prompt, body)
        for data in held:
            self._out(data)

    def begin_busy(self) -> None:
        self.mode = "busy"

    def end_busy(self, info: list[str], final: str) -> None:
        if not self.powered:
            return
        self.mode = "command"
        self.respond(info, final)
        self._drain_pending()

    # ------------------------------------------------------------------ helpers for handlers
    def registered(self) -> bool:
        return self.effective_creg() in (1, 5)

    def set_registration(self, stat: int) -> None:
        old = self.registration
        self.registration = stat
        if self.effective_creg() != self._creg_from(old):
            self.creg_urc()
        self.network.pump()

    def _creg_from(self, stat: int) -> int:
        if self.pin_state != "READY" or self.fun != 1:
            return 0
        return stat if self.attached else 2

    def start_attach(self) -> None:
        """SIM usable and radio on: searching for ``register_delay`` seconds, then registered."""
        delay = self.config.register_delay
        if delay <= 0:
            self.attached = True
            return
        self.attached = False

        def attached() -> None:
            self.attached = True
            if self.registration != 2:
                self.creg_urc()
            self.network.pump()

        self.later(delay, attached)

    def effective_creg(self) -> int:
        return self._creg_from(self.registration)

    def creg_urc(self) -> None:
        stat = self.effective_creg()
        if self.creg_n == 1:
            self.urc(f"+CREG: {stat}")
        elif self.creg_n == 2:
            self.urc(f'+CREG: {stat},"00A1","1B2C"' if stat in (1, 5) else f"+CREG: {stat}")

    def set_hung(self, hung: bool) -> None:
        self.hung = hung
        if not hung:
            self.network.pump()
