"""The configuration schema: every setting's key, type, default, check and documentation in one place.

Each section is a frozen dataclass declared with :func:`section` (its title and prose); each field with
:func:`setting` (its default, its value check, its one-line documentation for the reference and its comment
for the example file). The loader (loader.py) validates a TOML file against these classes; docs.py writes
the example file and the reference tables of docs/configuration.md from them. The classes are also the typed
result every other module reads.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass
from typing import Any, Literal, TypeVar, dataclass_transform, overload

from . import checks

T = TypeVar("T")
Text = str | Callable[[], str]  # a callable for text derived from elsewhere when it is rendered
Check = Callable[[object], object]
SectionCheck = Callable[[Any], tuple[str, str] | None]  # -> (key relative to the section, reason)

_SAME = object()  # Setting.example: show the default
_METADATA = "modembridge.config"
_SECTION = "__config_section__"


@dataclass(frozen=True)
class Setting:
    """What the schema says about one field besides its type and default (kept in the field's metadata)."""

    doc: Text = ""  # the reference's "meaning" column (Markdown); required for every scalar key
    check: Check | None = None  # run on the typed value: returns it (normalised) or raises ValueError(reason)
    note: Text = ""  # the example file's comment
    example: object = _SAME  # the example file's value, when it is not the default
    toml: str = ""  # the TOML key, when it differs from the field name
    upper: bool = False  # a string is upper-cased before it is checked against the type's choices
    env: bool = True  # may be set from the environment
    in_file: bool = True  # False: not a setting at all (filled by the loader)
    missing: str = "required key is missing"  # the reason when a required key is absent

    @property
    def has_example(self) -> bool:
        return self.example is not _SAME


@dataclass(frozen=True)
class Section:
    """A section's documentation: the heading's title, prose for the reference, and a cross-field check."""

    title: str = ""
    doc: Text = ""
    check: SectionCheck | None = None


@overload
def setting(*, default: T, doc: Text = "", check: Check | None = None, note: Text = "",
            example: object = _SAME, upper: bool = False, env: bool = True, in_file: bool = True) -> T: ...
@overload
def setting(*, default_factory: Callable[[], T], doc: Text = "", toml: str = "") -> T: ...
@overload
def setting(*, doc: Text = "", check: Check | None = None, note: Text = "", example: object = _SAME,
            toml: str = "", env: bool = True, missing: str = "required key is missing") -> Any: ...
def setting(*, default: Any = MISSING, default_factory: Any = MISSING, **meta: Any) -> Any:
    """A field of a section: `default` (or `default_factory`; neither = required) and its :class:`Setting`."""
    return dataclasses.field(default=default, default_factory=default_factory,
                             metadata={_METADATA: Setting(**meta)})


@dataclass_transform(field_specifiers=(setting,), frozen_default=True)
def section(
    title: str = "", *, doc: Text = "", check: SectionCheck | None = None
) -> Callable[[type[T]], type[T]]:
    """Class decorator: a frozen dataclass documented as a config section."""

    def wrap(cls: type[T]) -> type[T]:
        made = dataclasses.dataclass(frozen=True)(cls)
        setattr(made, _SECTION, Section(title, doc, check))
        return made

    return wrap


def is_table_array(hint: object) -> bool:
    """``tuple[<section>, ...]``: an array of tables (``[[modem]]``); ``tuple[str, ...]`` is a value."""
    args = typing.get_args(hint)
    return typing.get_origin(hint) is tuple and bool(args) and dataclasses.is_dataclass(args[0])


def seconds(default: float, doc: Text, note: Text = "") -> float:
    """A duration in seconds, greater than 0 (timeouts, intervals, expiries)."""
    return setting(default=default, check=checks.positive, doc=doc, note=note)


def setting_of(f: dataclasses.Field[Any]) -> Setting:
    meta = f.metadata.get(_METADATA)
    return meta if isinstance(meta, Setting) else Setting()


def section_of(cls: type) -> Section:
    meta = getattr(cls, _SECTION, None)
    return meta if isinstance(meta, Section) else Section()


def toml_name(f: dataclasses.Field[Any]) -> str:
    return setting_of(f).toml or f.name


def file_fields(cls: type) -> Iterator[dataclasses.Field[Any]]:
    """The fields of a section that are keys of the file, in declaration order."""
    return (f for f in dataclasses.fields(cls) if setting_of(f).in_file)


def text(value: Text) -> str:
    return value() if callable(value) else value


def _choices(names: tuple[str, ...]) -> str:
    quoted = [f"`{n}`" for n in names]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else "".join(quoted)


def _profile_doc() -> str:
    names = ", ".join(f"`{p}`" for p in checks.modem_profiles() if p != checks.AUTO_PROFILE)
    return f"vendor quirks: `{checks.AUTO_PROFILE}` (detect from `+CGMI`/`+CGMM`), {names}"


def _profile_note() -> str:
    return " | ".join(checks.modem_profiles())


def _cap_at_least_initial(policy: RetryPolicy) -> tuple[str, str] | None:
    if policy.cap < policy.initial:
        return "cap", f"must be at least initial ({policy.initial:g})"
    return None


def _modems_unique(config: Config) -> tuple[str, str] | None:
    if not config.modems:
        return "modem", "at least one [[modem]] is required"
    seen: set[str] = set()
    for i, m in enumerate(config.modems):
        if m.id in seen:
            return f"modem[{i}].id", f"duplicate modem id {m.id!r}"
        seen.add(m.id)
    return None


# -- the sections --------------------------------------------------------------------------------------


@section(
    "retry policies",
    doc="Exponential backoff with full jitter: after the n-th failure the next try waits a random time "
    "between 0 and `min(cap, initial × factor^(n-1))` seconds.",
    check=_cap_at_least_initial,
)
class RetryPolicy:
    """Exponential backoff with full jitter and a cap; max_attempts 0 = forever."""

    initial: float = setting(default=2.0, check=checks.positive, doc="seconds, greater than 0")
    factor: float = setting(default=2.0, check=checks.at_least_one, doc="at least 1")
    cap: float = setting(default=300.0, check=checks.positive, doc="longest wait; at least `initial`")
    max_attempts: int = setting(
        default=0,
        check=checks.non_negative,
        doc="0 = retry forever; otherwise the entry becomes `dead` (inbound, callbacks) or `failed` "
        "(outbound) after this many failures",
        note="0 = forever",
    )


@section("the journal")
class StoreConfig:
    path: str = setting(
        default="modembridge.db",
        check=checks.non_empty,
        doc="the SQLite journal file; a relative path is relative to the config file's folder. Keep it on "
        "a local disk (not NFS, not tmpfs)",
        note="the journal (SQLite); relative to this file's folder",
    )
    synchronous: Literal["FULL", "NORMAL"] = setting(
        default="FULL",
        upper=True,
        doc="`FULL`: a committed message survives a power cut; `NORMAL`: it survives a crash of the process "
        "but a power cut may lose the last moments. See [durability.md](durability.md)",
        note="FULL: a committed message survives a power cut; NORMAL: only a crash",
    )


@section("Kannel-compatible `/cgi-bin/sendsms`")
class KannelConfig:
    username: str = setting(
        default="", doc="the `username` RapidSMS sends (`sendsms_params`)", example="rapidsms"
    )
    password: str = setting(
        default="",
        doc="its `password`; unless both username and password are set, `/cgi-bin/sendsms` is off (a "
        "missing secret never opens it)",
        note="unless both are set, sendsms is off",
        example="change-me",
    )


@section("the server for outbound sends, status and metrics")
class HttpConfig:
    listen: str = setting(
        default="127.0.0.1:13013",
        check=checks.listen,
        doc="`host:port`, IPv6 as `[addr]:port`; the host is required (`:8080` and `8080` are refused: write "
        "`127.0.0.1:8080` or `0.0.0.0:8080`), port 0 takes any free port. A non-loopback address is allowed "
        "but logged as a warning at start: put a TLS proxy in front",
        note="a non-loopback address is allowed but logged as a warning",
    )
    api_token: str = setting(
        default="",
        doc="bearer token for the native API (`/api/v1/...`); empty disables the native API",
        note="bearer token for the native API (/api/v1); empty = API disabled",
        example="change-me",
    )
    kannel: KannelConfig = setting(default_factory=KannelConfig)
    max_body_bytes: int = setting(
        default=64 * 1024, check=checks.positive, doc="largest request body accepted"
    )
    max_parts: int = setting(
        default=10,
        check=checks.max_parts,
        doc="longest text accepted, in SMS parts (1-255)",
        note="longest text accepted, in SMS parts",
    )
    status_token: str = setting(
        default="",
        doc="token for `/status` and `/metrics`; empty leaves them open",
        note="token for /status and /metrics; empty = open",
    )


@section(
    "where inbound SMS are delivered",
    doc="Inbound messages go to the router in order per sender: a message the router keeps refusing (5xx "
    "while other messages get through) holds back later messages of the same sender for its first 5 failures "
    "only, so one poisoned message cannot block a sender forever. When the router is down for everyone (3 "
    "failures in a row), the delivery loop stops hammering it: it sends one probe at a time, spaced by the "
    "retry policy, and those failures do not count against any message's place in line. When the router "
    "answers again, delivery resumes at full concurrency, in order.",
)
class RouterConfig:
    url: str = setting(
        default="",
        check=checks.url,
        doc="the RapidSMS backend URL, e.g. `http://127.0.0.1:8000/backend/kannel-bridge/` (http or https). "
        "Empty: inbound messages stay in the journal as `received`",
        note="the RapidSMS backend URL; empty = keep inbound SMS in the journal",
        example="http://127.0.0.1:8000/backend/kannel-bridge/",
    )
    format: Literal["kannel", "generic", "json"] = setting(
        default="kannel",
        doc="`kannel` (GET `?id=<sender>&text=<text>`), `generic` (RapidSMS http backend: form fields), "
        "`json` (POST a JSON document)",
        note="kannel | generic | json",
    )
    url_template: str = setting(
        default="",
        doc="optional Kannel get-url style template (`%p` sender, `%a` text, `%t` time, `%i` modem ...); "
        "overrides `url` for GET",
        note="Kannel get-url style template (%p %a %t %i ...), overrides url",
    )
    identity_field: str = setting(
        default="identity",
        doc='sender field name for `format = "generic"`',
        note='field names for format = "generic"',
    )
    text_field: str = setting(default="text", doc='text field name for `format = "generic"`')
    call_url: str = setting(
        default="",
        check=checks.url,
        doc='where missed calls go: a JSON POST `{"event": "missed_call", "from": ..., "modem_id": ..., '
        '"at": ...}`, signed and retried like the router\'s requests (`hmac_secret`, `retry`). Empty: '
        "missed calls are only journalled",
        note="POST missed calls here (optional)",
    )
    timeout: float = seconds(
        10.0,
        "seconds per request (RapidSMS has no timeout of its own)",
        "seconds per request",
    )
    hmac_secret: str = setting(
        default="",
        doc='when set, every request carries `X-Timestamp` and `X-Signature` (HMAC-SHA256 of timestamp + "." '
        "+ body)",
        note="set: requests carry X-Timestamp and X-Signature (HMAC-SHA256)",
    )
    concurrency: int = setting(
        default=4,
        check=checks.at_least_one,
        doc="requests in flight to the router (at least 1); messages of one sender are still delivered in "
        "order",
        note="requests in flight",
    )
    retry: RetryPolicy = setting(default_factory=RetryPolicy)


@section(
    "delivery-report callbacks (Kannel `dlr-url`)",
    doc="A send's `dlr-url` is called back only when it lies under the router's scheme, host and port (the "
    "RapidSMS site) or under one of `allowed_urls`; any other is refused when the send is accepted (400), "
    "and a callback never follows a redirect. See [security.md](security.md).",
)
class DlrConfig:
    timeout: float = setting(default=10.0, check=checks.positive, doc="seconds per callback request")
    report_window: float = seconds(
        3 * 86400.0,
        "a status report matches the most recent part sent on its modem with its message reference "
        "(TP-MR, 0-255, reused after 256 parts) and its recipient within this many seconds; an older or "
        "unmatched report is kept raw in the journal and counted, never applied to a wrong part",
        "how far back a status report may match a sent part",
    )
    allowed_urls: tuple[str, ...] = setting(
        default=(),
        check=checks.url_prefixes,
        env=False,
        doc="more URL prefixes a `dlr-url` may lie under (http or https, without credentials), e.g. "
        '`["https://hooks.example.org/sms/dlr"]`; a path prefix matches at a `/` boundary',
        note="more URL prefixes dlr-urls may use (the router's own origin is always allowed)",
    )
    multipart: Literal["message", "part"] = setting(
        default="message",
        doc="what a concatenated message's `dlr-url` hears: `message` (like Kannel) one callback per report "
        "type and recipient: 8 when every part was accepted by the SMSC, 16 at the first part refused, 4 at "
        "the first part buffered, 1 when every part is delivered, 2 at the first part failed; `part`: one "
        "callback per part and report",
        note="message | part: dlr-url callbacks of a concatenated message",
    )
    retry: RetryPolicy = setting(default_factory=lambda: RetryPolicy(max_attempts=20))


@section("one table per modem (at least one)")
class ModemConfig:
    id: str = setting(
        check=checks.modem_id,
        env=False,  # MODEMBRIDGE_MODEM_<ID>_<KEY> names the modem by it
        doc="unique name, 1-32 letters, digits, `_`, `-`, `.`; Kannel's `smsc` parameter pins a send to it",
        note="required: unique, letters/digits/_-.",
        example="gsm0",
    )
    port: str = setting(
        check=checks.non_empty,
        doc="the serial device; use a stable udev name (`/dev/gsm0`), not `/dev/ttyUSB2`",
        note="required: a stable udev name, not /dev/ttyUSBn",
        example="/dev/gsm0",
    )
    baud: int = setting(
        default=115200,
        check=checks.baud,
        doc=f"a standard rate ({checks.BAUD_RATES[0]} ... {checks.BAUD_RATES[-1]})",
    )
    pin: str = setting(
        default="",
        check=checks.pin,
        doc="SIM PIN (4-8 digits) if the SIM asks for one; better from `MODEMBRIDGE_MODEM_<ID>_PIN`",
        note="SIM PIN if the SIM asks for one",
    )
    profile: str = setting(default=checks.AUTO_PROFILE, check=checks.profile, doc=_profile_doc,
                           note=_profile_note)
    storage: str = setting(
        default="SM",
        check=checks.storage,
        doc="preferred message memory (two letters: `SM`, `ME`, `MT` ...)",
        note="preferred message storage",
    )
    indication: Literal["stored", "direct"] = setting(
        default="direct",
        doc="how new SMS reach the bridge: `direct` (the default: the PDU arrives inside `+CMT` and is "
        "acknowledged with `AT+CNMA` only once journalled: one serial round trip less per message, the "
        "lowest latency; it needs `AT+CSMS=1`, else it falls back to `stored`) or `stored` (the modem stores "
        "it and says `+CMTI`; read with `AT+CMGR`, journalled, then deleted). `direct` loses nothing where "
        "the modem takes `+CSMS=1`: a `+CMT` never acknowledged (a crash, a stall) is refused to the "
        "network, which delivers it again, or stored by the modem and found by the sweep; one the bridge has "
        "not acknowledged within 5 s is refused and new messages are stored until it catches up; an "
        "acknowledgement only ever answers the `+CMT` it was journalled for",
        note="direct (+CMT, AT+CNMA; stored without +CSMS=1) | stored (+CMTI, read, delete)",
    )
    command_timeout: float = seconds(
        5.0,
        'seconds of silence after an AT command that mean "no answer" (an answer still streaming lines, '
        "e.g. a long `AT+CMGL` at 9600 baud, may take up to 4 times as long); also how long `AT+CMGS` waits "
        "for its `> ` prompt",
        'silence after a command that means "no answer"',
    )
    send_timeout: float = seconds(
        60.0,
        "seconds to wait for `AT+CMGS` (slow on a congested network)",
        "AT+CMGS may take this long on a congested network",
    )
    ping_interval: float = seconds(
        5.0,
        "a bare `AT` when the modem has answered nothing for this long, so a hung modem is noticed "
        "within `ping_interval` + 2 s even when idle",
        "a bare AT when the modem said nothing for this long",
    )
    health_interval: float = seconds(
        30.0,
        "seconds between signal/registration polls",
        "signal / registration poll",
    )
    sweep_interval: float = seconds(
        60.0,
        "seconds between `AT+CMGL` sweeps catching messages whose notification was lost",
        "CMGL sweep for messages a lost URC stranded",
    )
    ussd_encoding: Literal["auto", "text", "packed", "ucs2"] = setting(
        default="auto",
        doc="how `AT+CUSD` strings go both ways: `text` (characters), `packed` (GSM 7-bit packed, as hex: "
        "Huawei sticks), `ucs2` (UTF-16 as hex); `auto` takes the profile's (packed for huawei, else text)",
        note="auto | text | packed | ucs2",
    )
    ussd_timeout: float = seconds(
        30.0,
        "seconds to wait for the network's answer to a USSD request (then 504 and the session is ended)",
        "wait this long for a USSD answer",
    )
    sim_control: str = setting(
        default="",
        check=checks.loopback_url,
        doc="the control API of the `modembridge sim` behind this port (`http://127.0.0.1:8799`, loopback "
        "only): the console's tester sends SMS *into* the simulated network through it (`modembridge demo` "
        "sets it); empty for a real modem",
        note="a simulated modem's control URL (the console's tester)",
    )
    own_number: str = setting(
        default="",
        check=checks.smsc,
        doc="the SIM's own number (`+254700000001`), for `modembridge selftest`; empty: what `AT+CNUM` "
        "says (many SIMs do not hold it)",
        note="the SIM's number (empty: AT+CNUM)",
    )
    calls: Literal["reject", "ignore"] = setting(
        default="reject",
        doc="an incoming voice call: `reject` hangs it up (`ATH`, or the profile's `AT+CHUP`) within 2 s of "
        "its first RING, or as soon as the send or read in progress ends; `ignore` lets it ring. Either "
        "way the caller (`AT+CLIP=1`) is recorded as a missed call and sent to `[router] call_url`",
        note="reject | ignore: incoming voice calls",
    )
    balance_ussd: str = setting(
        default="",
        check=checks.ussd_code,
        doc="the USSD code that answers the SIM's prepaid balance (`*100#`, `*144#` ...: the carrier's); "
        "empty = no balance checks",
        note="USSD code for the balance (empty = off)",
    )
    balance_interval: float = setting(
        default=0.0,
        check=checks.non_negative,
        doc="seconds between balance checks (0 = off); the first runs once the modem is ready. Carriers "
        "answer USSD within seconds but some rate-limit it: hourly (`3600`) is plenty",
        note="seconds between balance checks (0 = off)",
    )
    balance_pattern: str = setting(
        default=r"(?P<amount>\d+(?:[.,]\d+)?)",
        check=checks.amount_pattern,
        doc="a regular expression with a named group `amount` that finds the balance in the answer; the "
        "default takes the first number (`12.50`, `12,50`, `120`). E.g. `Balance:\\s*(?P<amount>[\\d.]+)`",
        note="regex with a named group `amount`",
    )
    balance_low: float = setting(
        default=0.0,
        check=checks.non_negative,
        doc="below this balance a warning is logged and the modem's status says `low` (0 = never): a "
        "prepaid SIM out of credit fails every send",
        note="warn below this balance (0 = never)",
    )
    max_parts_per_minute: float = setting(
        default=0.0,
        check=checks.non_negative,
        doc="send pacing: at most this many parts a minute, spaced evenly (`30` = one every 2 s); 0 = as "
        "fast as the modem goes. Carriers commonly flag a SIM above 10-30 a minute; prepaid SIMs are often "
        "blocked above 60",
        note="spacing between parts (0 = unlimited)",
    )
    send_jitter: float = setting(
        default=0.0,
        check=checks.non_negative,
        doc="seconds: a random pause of 0 to this many seconds more between parts (a machine-regular rhythm "
        "is what carrier spam filters look for)",
        note="random extra pause between parts, seconds",
    )
    max_parts_per_day: int = setting(
        default=0,
        check=checks.non_negative,
        doc="at most this many parts a calendar day (the host's local time); 0 = unlimited. Common carrier "
        "limits for a consumer SIM: 100-500 a day (bulk bundles: more). Parts over the cap wait `queued` "
        "(or go through another modem that may carry them), they never fail because of it",
        note="parts per local calendar day (0 = unlimited)",
    )
    max_recipients_per_month: int = setting(
        default=0,
        check=checks.non_negative,
        doc="at most this many distinct recipients a calendar month (local time); 0 = unlimited. Sending "
        "to many different numbers is the other thing carriers block SIMs for (often a few hundred to a "
        "thousand a month); known recipients of the month are still served at the cap",
        note="distinct recipients per calendar month (0 = unlimited)",
    )
    smsc: str = setting(
        default="",
        check=checks.smsc,
        doc="service-centre number override (`+254722500029`); empty uses the SIM's own",
        note="override the SIM's service centre number",
    )


@section()
class InboundConfig:
    reassembly_timeout: float = seconds(
        600.0,
        "seconds after the first part of a concatenated message after which it is delivered with the "
        "parts that arrived (marked incomplete)",
        "deliver a concatenated message with parts missing after this long",
    )
    resend_window: float = seconds(
        10.0,
        "a part of a concatenated message with the same sender, reference, sequence number and content as "
        "one journalled before is a resend (dropped) when the service-centre time stamps (TP-SCTS) of the "
        "two are at most this many seconds apart (an SMSC retry repeats the stamp; a handset's own retry "
        "gets one a few seconds later); further apart it is a new message",
        "same part, stamps this close: a resend, else a new message",
    )
    part_spread: float = seconds(
        30.0,
        "the service-centre time stamps of one message's parts lie within this many seconds of each other: "
        "a part further than that from every part of a message being assembled starts a new message, even "
        "when its reference matches (senders that reuse one reference)",
        "parts of one message have stamps this close together",
    )


@section()
class OutboundConfig:
    expiry: float = seconds(
        86400.0,
        "a message not sent within this many seconds of its acceptance fails (`expired`) instead of "
        "arriving late; a recipient who already has some parts of a concatenated message still gets the rest",
        "a message not sent within this many seconds fails",
    )
    unknown_policy: Literal["resend", "fail"] = setting(
        default="fail",
        doc="a part whose `AT+CMGS` was written but never confirmed (crash, hung modem): `fail` keeps it "
        "`unknown` (final, visible; an operator may retry it), `resend` sends it again (the recipient may "
        "get it twice)",
        note="a part whose AT+CMGS was unconfirmed at a crash: fail | resend",
    )
    retry: RetryPolicy = setting(default_factory=lambda: RetryPolicy(initial=5.0, cap=600.0))


@section(
    "fleet mode: several hosts share one durable queue on Redis Streams",
    doc="Without `redis_url` (the default) nothing changes: sends are journalled in the local SQLite file "
    "and no Redis is needed. With it, every host accepts sends into the shared queue (answered only once "
    "Redis has them on disk), and each host's idle modems pull from it; inbound messages and delivery "
    "reports stay local. The design, the guarantees and the Redis settings it requires are in "
    "[fleet.md](fleet.md).",
)
class FleetConfig:
    redis_url: str = setting(
        default="",
        check=checks.redis_url,
        doc="the fleet's Redis (`redis://127.0.0.1:6379/0`); empty: no fleet, the local journal only. The "
        "server must persist every write before it answers (`appendonly yes`, `appendfsync always`): the "
        "daemon refuses to start on one that does not",
        note="the fleet's Redis; empty: fleet mode off",
        example="redis://127.0.0.1:6379/0",
    )
    group: str = setting(
        default="modembridge",
        check=checks.fleet_name,
        doc="the fleet's name: hosts with the same `group` on one Redis share a queue (the prefix of every "
        "key)",
        note="the fleet's name (Redis key prefix)",
    )
    host_id: str = setting(
        default="",
        check=checks.fleet_name,
        doc="this host's name in the fleet, unique in it; empty: the machine's host name",
        note="this host's unique name; empty: the host name",
    )
    lease_seconds: float = seconds(
        30.0,
        "a host holds each message it took with a lease it renews every third of this; a host silent for "
        "this long (dead, cut off from Redis) loses its messages to the others, and its heartbeat shows it "
        "gone",
        "how long a silent host keeps the messages it took",
    )


@section("Top level", check=_modems_unique)
class Config:
    modems: tuple[ModemConfig, ...] = setting(toml="modem", missing="at least one [[modem]] is required")
    store: StoreConfig = setting(default_factory=StoreConfig)
    http: HttpConfig = setting(default_factory=HttpConfig)
    router: RouterConfig = setting(default_factory=RouterConfig)
    dlr: DlrConfig = setting(default_factory=DlrConfig)
    inbound: InboundConfig = setting(default_factory=InboundConfig)
    outbound: OutboundConfig = setting(default_factory=OutboundConfig)
    fleet: FleetConfig = setting(default_factory=FleetConfig)
    log_level: str = setting(
        default="INFO",
        check=checks.log_level,
        doc=f"{_choices(checks.LOG_LEVELS)} (any case)",
        note=" | ".join(checks.LOG_LEVELS),
    )
    log_numbers: Literal["full", "masked"] = setting(
        default="masked",
        doc="phone numbers in the log (personal data): `masked` keeps a leading `+` and the last 3 digits "
        "(`+*********123`), `full` shows them whole",
        note="masked | full: phone numbers in the log",
    )
    source: str = setting(default="<defaults>", in_file=False)  # the file it was loaded from, for errors
