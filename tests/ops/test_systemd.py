"""The shipped systemd unit: `systemd-analyze verify` (when present) and a structural check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modembridge.http.serving import FD_RESERVE, MAX_CONNECTIONS

from .supervisor_harness import SHIPPED, _read

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "modembridge.service"
SHIPPED_EXEC = "/opt/modembridge/.venv/bin/modembridge"


def _unit() -> dict[str, dict[str, list[str]]]:
    """section -> key -> values (systemd keys may repeat, which configparser cannot hold)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            out.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        assert sep and section, f"not a key=value line: {raw!r}"
        out[section].setdefault(key, []).append(value)
    return out


def test_structure() -> None:
    unit = _unit()
    assert list(unit) == ["Unit", "Service", "Install"]
    svc = {k: v[-1] for k, v in unit["Service"].items()}
    assert svc["Type"] == "notify" and svc["NotifyAccess"] == "main"
    assert int(svc["WatchdogSec"]) >= 60  # far above a disk stall of seconds: see modembridge.app
    assert svc["ExecStart"] == f"{SHIPPED_EXEC} run --config /etc/modembridge/modembridge.toml"
    assert svc["Restart"] == "always" and svc["KillSignal"] == "SIGTERM"
    assert "dialout" in (svc.get("Group", ""), svc.get("SupplementaryGroups", ""))
    assert svc["EnvironmentFile"].lstrip("-").startswith("/etc/modembridge/")
    assert svc["ProtectSystem"] == "strict" and svc["NoNewPrivileges"] == "yes" and svc["PrivateTmp"] == "yes"
    assert "/var/lib/modembridge" in svc["ReadWritePaths"]
    allowed = unit["Service"]["DeviceAllow"]
    assert {"char-ttyUSB rw", "char-ttyACM rw"} <= set(allowed)
    assert svc["DevicePolicy"] == "closed" and svc.get("PrivateDevices", "no") == "no"
    stopwait = _read(SHIPPED / "modembridge.conf")["program:modembridge"]["stopwaitsecs"]
    assert svc["TimeoutStopSec"] == stopwait, "systemd and supervisord give the daemon the same time to stop"
    assert unit["Unit"]["StartLimitIntervalSec"] == ["0"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    # room for the HTTP connection cap (512) and the descriptors the daemon keeps for itself
    assert int(svc["LimitNOFILE"]) >= MAX_CONNECTIONS + FD_RESERVE
    assert int(_read(SHIPPED / "supervisord.conf")["supervisord"]["minfds"]) >= MAX_CONNECTIONS + FD_RESERVE


def _verify(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "modembridge.service"
    path.write_text(text)
    return subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, check=False, timeout=60
    )


def test_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed (apt-get install systemd); the structural test stands in")
    # verify checks that ExecStart's program exists: point it at this checkout's venv
    text = UNIT.read_text().replace(SHIPPED_EXEC, str(Path(sys.executable).parent / "modembridge"))
    done = _verify(tmp_path, text)
    assert done.returncode == 0 and (done.stdout + done.stderr).strip() == "", done.stdout + done.stderr
    # and the tool does catch a mistake (so a clean answer means something)
    bad = _verify(tmp_path, text.replace("[Service]\n", "[Service]\nTimeoutStopSecs=75\n"))
    assert "Unknown key" in bad.stdout + bad.stderr
