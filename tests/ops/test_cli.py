"""The command line's shell: one module per command in a registry, imported only when its command runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modembridge.cli import COMMANDS, load, main

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_its_module_and_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = load(name)
    assert module.__name__ == f"modembridge.cli.{name.replace('-', '_')}"
    assert callable(module.configure) and callable(module.run)
    with pytest.raises(SystemExit) as done:
        main([name, "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: modembridge {name} ")


def test_usage_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for name, (_, help_) in COMMANDS.items():
        assert f"  {name:<10}  {help_}" in out
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_a_command_imports_only_its_own_module(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from modembridge.cli import main\n"
        "before = sorted(m for m in sys.modules if m.startswith('modembridge.'))\n"
        "code = main(['forget-pin', '--db', sys.argv[1], 'gsm0'])\n"
        "after = sorted(m for m in sys.modules if m.startswith('modembridge.cli.'))\n"
        "print(json.dumps([before, code, after, 'aiohttp' in sys.modules]))\n"
    )
    done = _python(code, str(tmp_path / "missing.db"))
    assert done.returncode == 0, done.stderr
    before, code_, after, aiohttp = json.loads(done.stdout)
    assert before == ["modembridge.cli"]  # the registry alone: no command, no config, no store
    assert code_ == 4 and "no journal at" in done.stderr
    assert after == ["modembridge.cli.common", "modembridge.cli.forget_pin", "modembridge.cli.journal"]
    assert not aiohttp


def test_run_reports_a_bad_config_before_loading_the_daemon(tmp_path: Path) -> None:
    config = tmp_path / "modembridge.toml"
    config.write_text('[[modem]]\nid = "gsm0"\nport = "/dev/gsm0"\nbaud = 11520\n')
    code = (
        "import sys\n"
        "from modembridge.cli import main\n"
        "code = main(['run', '--config', sys.argv[1]])\n"
        "print(code, 'modembridge.app' in sys.modules, 'aiohttp' in sys.modules)\n"
    )
    done = _python(code, str(config))
    assert done.stdout.split() == ["2", "False", "False"], done.stderr
    assert done.stderr.startswith(f"modembridge: {config}: modem[0].baud: 11520 is not a standard baud rate")


def test_udev_rule_failure_is_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["udev-rule", "ttyUSB9", "--sysfs-root", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("modembridge udev-rule: ttyUSB9: no tty named 'ttyUSB9'")
    assert captured.err.count("\n") == 1
