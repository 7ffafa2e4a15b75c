"""The TOML config loader: every error names the file and the key; env overrides; the example loads."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest

from modembridge.at.quirks import PROFILES
from modembridge.config import (
    Config,
    ConfigError,
    ModemConfig,
    RetryPolicy,
    docs,
    example_config,
    is_loopback,
    load_config,
    modem_profiles,
    parse_listen,
)
from modembridge.config.schema import setting_of

MINIMAL = '[[modem]]\nid = "gsm0"\nport = "/dev/gsm0"\n'


def write(tmp_path: Path, text: str, name: str = "modembridge.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL), env={})
    assert cfg.modems == (ModemConfig(id="gsm0", port="/dev/gsm0"),)
    defaults = Config(modems=cfg.modems)
    assert (cfg.http, cfg.router, cfg.dlr, cfg.inbound, cfg.outbound, cfg.log_level) == (
        defaults.http,
        defaults.router,
        defaults.dlr,
        defaults.inbound,
        defaults.outbound,
        "INFO",
    )
    assert cfg.store.path == str(tmp_path.resolve() / "modembridge.db")  # relative to the file's folder
    assert cfg.source == str(tmp_path / "modembridge.toml")


def test_example_config_loads_and_shows_the_defaults(tmp_path: Path) -> None:
    text = example_config()
    cfg = load_config(write(tmp_path, text), env={})
    defaults = Config(modems=(ModemConfig(id="gsm0", port="/dev/gsm0"),))
    assert cfg.modems == defaults.modems
    assert (cfg.dlr, cfg.inbound, cfg.outbound) == (defaults.dlr, defaults.inbound, defaults.outbound)
    assert cfg.router.retry == defaults.router.retry and cfg.store.synchronous == "FULL"
    assert (cfg.http.api_token, cfg.http.kannel.username) == ("change-me", "rapidsms")
    for section in (
        "[store]",
        "[http]",
        "[http.kannel]",
        "[router]",
        "[router.retry]",
        "[dlr]",
        "[dlr.retry]",
        "[inbound]",
        "[outbound]",
        "[outbound.retry]",
        "[[modem]]",
    ):
        assert section in text


def test_full_config(tmp_path: Path) -> None:
    text = """
log_level = "debug"
[store]
path = "/var/lib/modembridge/journal.db"
synchronous = "normal"
[http]
listen = "[::1]:8080"
api_token = "t"
[http.kannel]
username = "u"
password = "p"
[router]
url = "https://site.example/backend/kannel/"
format = "json"
timeout = 5
[router.retry]
initial = 1
cap = 60.0
max_attempts = 10
[outbound]
unknown_policy = "resend"
[[modem]]
id = "gsm0"
port = "/dev/gsm0"
pin = "1234"
storage = "me"
[[modem]]
id = "gsm1"
port = "/dev/gsm1"
baud = 9600
profile = "huawei"
smsc = "+254722500029"
"""
    cfg = load_config(write(tmp_path, text), env={})
    assert cfg.log_level == "DEBUG" and cfg.store.synchronous == "NORMAL"
    assert cfg.store.path == "/var/lib/modembridge/journal.db"
    assert (cfg.http.listen, cfg.http.kannel.password, cfg.router.format, cfg.router.timeout) == (
        "[::1]:8080",
        "p",
        "json",
        5.0,
    )
    assert cfg.router.retry == RetryPolicy(initial=1.0, factor=2.0, cap=60.0, max_attempts=10)
    assert isinstance(cfg.router.timeout, float) and cfg.outbound.unknown_policy == "resend"
    assert [m.id for m in cfg.modems] == ["gsm0", "gsm1"]
    assert (cfg.modems[0].pin, cfg.modems[0].storage, cfg.modems[1].baud, cfg.modems[1].profile) == (
        "1234",
        "ME",
        9600,
        "huawei",
    )


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("", "modem", "at least one [[modem]]"),
        ("modem = []", "modem", "at least one [[modem]]"),
        ('[[modem]]\nid = "a"', "modem[0].port", "required"),
        ('[[modem]]\nport = "/dev/x"', "modem[0].id", "required"),
        (MINIMAL + '[[modem]]\nid = "gsm0"\nport = "/dev/b"', "modem[1].id", "duplicate"),
        (MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\nbaud = 11520', "modem[1].baud", "baud"),
        (MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\nbaud = "fast"', "modem[1].baud", "integer"),
        (MINIMAL + '[[modem]]\nid = "b c"\nport = "/dev/b"', "modem[1].id", "letters"),
        (MINIMAL + '[[modem]]\nid = "b"\nport = ""', "modem[1].port", "empty"),
        (MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\npin = "12"', "modem[1].pin", "4 to 8 digits"),
        (MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\nprofile = "nokia"', "modem[1].profile", "one of"),
        (
            MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\nbuad = 9600',
            "modem[1].buad",
            "did you mean 'baud'",
        ),
        (MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\nsmsc = "abc"', "modem[1].smsc", "phone number"),
        (
            MINIMAL + '[[modem]]\nid = "b"\nport = "/dev/b"\nsend_timeout = 0',
            "modem[1].send_timeout",
            "than 0",
        ),
        ('[modem]\nid = "a"\nport = "/dev/a"', "modem", "array of tables"),
        ("colour = 1\n" + MINIMAL, "colour", "unknown key"),
        ("log_level = 'LOUD'\n" + MINIMAL, "log_level", "one of"),
        (MINIMAL + "[store]\npath = ''", "store.path", "empty"),
        (MINIMAL + "[store]\nsynchronous = 'OFF'", "store.synchronous", "one of"),
        ("store = 1\n" + MINIMAL, "store", "expected a table"),
        (MINIMAL + "[http]\nlisten = 'localhost'", "http.listen", "host:port"),
        (MINIMAL + "[http]\nlisten = '127.0.0.1:99999'", "http.listen", "out of range"),
        (MINIMAL + "[http]\nmax_parts = 0", "http.max_parts", "between 1 and 255"),
        (MINIMAL + "[http]\napi_token = 5", "http.api_token", "expected a string"),
        (MINIMAL + "[http.kannel]\nuser = 'x'", "http.kannel.user", "unknown key"),
        (MINIMAL + "[router]\nurl = 'ftp://x'", "router.url", "http://"),
        (MINIMAL + "[router]\nformat = 'xml'", "router.format", "one of"),
        (MINIMAL + "[router]\ntimeout = true", "router.timeout", "expected a number"),
        (MINIMAL + "[router]\nconcurrency = 0", "router.concurrency", "at least 1"),
        (MINIMAL + "[router.retry]\ninitial = -1", "router.retry.initial", "greater than 0"),
        (MINIMAL + "[router.retry]\nfactor = 0.5", "router.retry.factor", "at least 1"),
        (MINIMAL + "[dlr.retry]\ncap = 1.0", "dlr.retry.cap", "at least initial"),
        (MINIMAL + "[outbound.retry]\nmax_attempts = -1", "outbound.retry.max_attempts", "negative"),
        (MINIMAL + "[outbound]\nunknown_policy = 'maybe'", "outbound.unknown_policy", "one of"),
        (MINIMAL + "[inbound]\nreassembly_timeout = 0", "inbound.reassembly_timeout", "greater than 0"),
    ],
)
def test_errors_name_file_key_and_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    message = str(err.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert reason in message, message


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read"):
        load_config(tmp_path / "missing.toml", env={})
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML: .*line 1"):
        load_config(write(tmp_path, "[[modem]\n", "bad.toml"), env={})
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path / "latin1.toml", env={})


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "MODEMBRIDGE_HTTP_API_TOKEN": "from-env",
        "MODEMBRIDGE_HTTP_KANNEL_PASSWORD": "kpw",
        "MODEMBRIDGE_ROUTER_URL": "http://127.0.0.1:9/x/",
        "MODEMBRIDGE_ROUTER_HMAC_SECRET": "hmac",
        "MODEMBRIDGE_ROUTER_RETRY_MAX_ATTEMPTS": "7",
        "MODEMBRIDGE_ROUTER_TIMEOUT": "2.5",
        "MODEMBRIDGE_STORE_PATH": "data/j.db",
        "MODEMBRIDGE_LOG_LEVEL": "warning",
        "MODEMBRIDGE_MODEM_GSM0_PIN": "0000",
        "MODEMBRIDGE_CONFIG": "/etc/modembridge.toml",  # not a setting: ignored
        "HOME": "/root",
    }
    cfg = load_config(write(tmp_path, MINIMAL + '[http]\napi_token = "from-file"\n'), env=env)
    assert (cfg.http.api_token, cfg.http.kannel.password, cfg.router.url, cfg.router.hmac_secret) == (
        "from-env",
        "kpw",
        "http://127.0.0.1:9/x/",
        "hmac",
    )
    assert (cfg.router.retry.max_attempts, cfg.router.timeout, cfg.log_level) == (7, 2.5, "WARNING")
    assert cfg.store.path == str(tmp_path.resolve() / "data" / "j.db")
    assert cfg.modems[0].pin == "0000"


def test_modem_id_with_punctuation_in_env_name(tmp_path: Path) -> None:
    text = '[[modem]]\nid = "usb-1.2"\nport = "/dev/x"\n'
    cfg = load_config(write(tmp_path, text), env={"MODEMBRIDGE_MODEM_USB_1_2_PIN": "4321"})
    assert cfg.modems[0].pin == "4321"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"MODEMBRIDGE_HTTP_MAX_PARTS": "many"},
            "http.max_parts (from environment variable MODEMBRIDGE_HTTP_MAX_PARTS): expected an integer",
        ),
        (
            {"MODEMBRIDGE_HTTP_LISTEN": "nowhere"},
            "http.listen (from environment variable MODEMBRIDGE_HTTP_LISTEN): ",
        ),
        (
            {"MODEMBRIDGE_HTTP_API_TOKN": "x"},
            "environment variable MODEMBRIDGE_HTTP_API_TOKN: no such setting",
        ),
        ({"MODEMBRIDGE_ROUTER_RETRY_FACTOR": "x"}, "router.retry.factor (from environment variable"),
    ],
)
def test_environment_errors_name_the_variable_and_key(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    path = write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)


@pytest.mark.parametrize(
    ("listen", "host", "port", "loopback"),
    [
        ("127.0.0.1:13013", "127.0.0.1", 13013, True),
        ("127.8.9.1:1", "127.8.9.1", 1, True),
        ("localhost:80", "localhost", 80, True),
        ("[::1]:8080", "::1", 8080, True),
        ("0.0.0.0:13013", "0.0.0.0", 13013, False),
        ("192.168.1.5:0", "192.168.1.5", 0, False),
        ("[::]:80", "::", 80, False),
        ("gateway.lan:80", "gateway.lan", 80, False),
    ],
)
def test_listen_addresses(listen: str, host: str, port: int, loopback: bool) -> None:
    assert parse_listen(listen) == (host, port)
    assert is_loopback(listen) is loopback


@pytest.mark.parametrize("listen", ["", "13013", ":80", "host:", "[::1:80", "[zz]:80", "a:b"])
def test_bad_listen_addresses(listen: str) -> None:
    with pytest.raises(ValueError):
        parse_listen(listen)


# -- the schema and the documents generated from it -------------------------------------------------------

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_committed_reference_matches_the_schema() -> None:
    committed = DOC.read_text(encoding="utf-8")
    assert docs.render(committed) == committed, (
        "docs/configuration.md is out of date: run `python -m modembridge.config --write`"
    )
    assert "```toml\n" + example_config() + "```" in committed


def test_render_replaces_only_the_generated_regions() -> None:
    stale = DOC.read_text(encoding="utf-8").replace("| `baud` | `115200` |", "| `baud` | `9600` |")
    fresh = docs.render(stale)
    assert "| `baud` | `115200` |" in fresh and fresh == DOC.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="generated regions"):
        docs.render("# no markers\n")


def test_the_docs_command_checks_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "configuration.md"
    copy.write_text(DOC.read_text(encoding="utf-8").replace("`115200`", "`9600`"), encoding="utf-8")
    assert docs.main([str(copy)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docs.main(["--write", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
    assert docs.main([str(copy)]) == 0


def test_every_key_is_documented_with_its_choices() -> None:
    seen = set()
    for place in docs.places():
        hints = typing.get_type_hints(place.cls)
        for f in docs.scalars(place.cls):
            key = f"{place.key}.{f.name}".lstrip(".")
            seen.add(key)
            meta = setting_of(f)
            doc = meta.doc() if callable(meta.doc) else meta.doc
            assert doc, f"{key} has no doc"
            hint = hints[f.name]
            for choice in typing.get_args(hint) if typing.get_origin(hint) is typing.Literal else ():
                assert f"`{choice}`" in doc, f"{key}: the doc does not explain {choice!r}"
    assert seen >= {"log_level", "http.kannel.password", "dlr.retry.cap", "outbound.retry.cap", "modem.smsc"}


def test_profile_names_come_from_the_quirk_table(tmp_path: Path) -> None:
    assert modem_profiles() == ("auto", *PROFILES)
    lines = DOC.read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith("| `profile`"))
    assert all(f"`{name}`" in row for name in modem_profiles())
    assert f'profile = "auto"                   # {" | ".join(modem_profiles())}' in example_config()
    for name in PROFILES:
        text = MINIMAL + f'profile = "{name}"\n'
        assert load_config(write(tmp_path, text), env={}).modems[0].profile == name
    with pytest.raises(ConfigError, match=f"must be one of {', '.join(modem_profiles())}, not 'nokia'"):
        load_config(write(tmp_path, MINIMAL + 'profile = "nokia"\n'), env={})


def test_importing_the_config_does_not_import_the_driver() -> None:
    """The profile names are read from modembridge.at.quirks only when checked: importing modembridge.at
    runs the driver, which imports modembridge.config (the cycle a module-level import would close)."""
    code = (
        "import sys, modembridge.config as c; assert 'modembridge.at' not in sys.modules, 'driver imported'; "
        "c.config_from_dict({'modem': [{'id': 'a', 'port': '/dev/a', 'profile': 'huawei'}]}); "
        "assert 'modembridge.at.quirks' in sys.modules; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
