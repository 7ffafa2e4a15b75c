"""udev: the shipped rules parse; `modembridge udev-rule` reads a sysfs tree laid out as the kernel does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modembridge import udev
from modembridge.cli import main

from .udevlint import check_file, check_rule, pairs, rule_lines

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "udev" / "99-modembridge.rules"
PCI = "devices/pci0000:00/0000:00:14.0/usb1"


def _write(path: Path, **attrs: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for key, value in attrs.items():
        (path / key).write_text(value + "\n")


def _link(link: Path, target: str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


def add_usb_device(sysfs: Path, usb_path: str, vid: str, pid: str, **attrs: str) -> Path:
    dev = sysfs / PCI / usb_path
    _write(dev, idVendor=vid, idProduct=pid, **attrs)
    return dev


def add_option_port(sysfs: Path, usb_path: str, ifnum: int, tty: str, cls: str = "ff/ff/ff") -> None:
    """A usb-serial (option, cp210x ...) tty as the kernel lays it out: .../1-2:1.N/ttyUSBx/tty/ttyUSBx."""
    c, s, p = cls.split("/")
    iface = sysfs / PCI / usb_path / f"{usb_path}:1.{ifnum}"
    _write(
        iface, bInterfaceNumber=f"{ifnum:02x}", bInterfaceClass=c, bInterfaceSubClass=s, bInterfaceProtocol=p
    )
    port = iface / tty
    port.mkdir()
    _link(port / "driver", "../../../../../../../bus/usb-serial/drivers/option1")
    classdev = port / "tty" / tty
    classdev.mkdir(parents=True)
    _link(classdev / "device", f"../../../{tty}")
    _link(sysfs / "class" / "tty" / tty, "../../" + str(classdev.relative_to(sysfs)))


def add_acm_port(sysfs: Path, usb_path: str, ifnum: int, tty: str) -> None:
    """A cdc_acm tty: .../1-3/1-3:1.0/tty/ttyACM0 with device -> the interface."""
    iface = sysfs / PCI / usb_path / f"{usb_path}:1.{ifnum}"
    _write(
        iface,
        bInterfaceNumber=f"{ifnum:02x}",
        bInterfaceClass="02",
        bInterfaceSubClass="02",
        bInterfaceProtocol="01",
    )
    classdev = iface / "tty" / tty
    classdev.mkdir(parents=True)
    _link(classdev / "device", "../../../" + iface.name)
    _link(sysfs / "class" / "tty" / tty, "../../" + str(classdev.relative_to(sysfs)))


@pytest.fixture
def sysfs(tmp_path: Path) -> Path:
    root = tmp_path / "sys"
    # Quectel EC25 on port 1-2: four option ttys
    add_usb_device(
        root, "1-2", "2c7c", "0125", serial="0123456789ABCDEF", manufacturer="Quectel", product="EG25-G"
    )
    for n in range(4):
        add_option_port(root, "1-2", n, f"ttyUSB{n}")
    # CH340 bridge (no serial number) on port 1-1.4
    add_usb_device(root, "1-1/1-1.4", "1a86", "7523", product="USB Serial")
    add_option_port(root, "1-1/1-1.4", 0, "ttyUSB4")
    # Huawei E173 on port 1-3 (PCUI = ff/02/02 on interface 2)
    add_usb_device(root, "1-3", "12d1", "1436", manufacturer="HUAWEI Technology", product="HUAWEI Mobile")
    add_option_port(root, "1-3", 0, "ttyUSB5", cls="ff/02/01")
    add_option_port(root, "1-3", 2, "ttyUSB7", cls="ff/02/02")
    # a CDC-ACM modem
    add_usb_device(root, "1-4", "1e0e", "9001", serial="SIMCOM1", product="SimTech")
    add_acm_port(root, "1-4", 2, "ttyACM0")
    # a board UART and a virtual console
    _write(root / "devices/platform/serial8250/tty/ttyS0")
    _link(root / "devices/platform/serial8250/tty/ttyS0/device", "../../../serial8250")
    _link(root / "devices/platform/serial8250/subsystem", "../../../bus/platform")
    _link(root / "class/tty/ttyS0", "../../devices/platform/serial8250/tty/ttyS0")
    _write(root / "devices/virtual/tty/tty1")
    _link(root / "class/tty/tty1", "../../devices/virtual/tty/tty1")
    return root


def test_shipped_rules_are_well_formed() -> None:
    text = RULES.read_text()
    assert check_file(text) == []
    examples = rule_lines(text)
    assert len(examples) >= 6, "the commented examples are checked too"
    for _, line in examples:
        keys = dict(pairs(line))
        assert keys["SUBSYSTEM=="] == "tty"
        assert keys["ENV{ID_MM_DEVICE_IGNORE}="] == "1"
        assert keys["GROUP="] == "dialout" and keys["MODE="] == "0660"
        assert keys["SYMLINK+="].startswith("gsm/")
    ids = {
        (dict(pairs(line))["ATTRS{idVendor}=="], dict(pairs(line))["ATTRS{idProduct}=="])
        for _, line in examples
    }
    assert {
        ("2c7c", "0125"),
        ("1e0e", "9001"),
        ("12d1", "1436"),
        ("12d1", "1001"),
        ("10c4", "ea60"),
        ("1a86", "7523"),
    } <= ids


@pytest.mark.parametrize(
    "bad",
    [
        'SUBSYSTEM="tty", SYMLINK+="gsm/x"',  # assignment to a match-only key
        'SUBSYSTEM=="tty" SYMLINK+="gsm/x"',  # missing comma
        'ATTRS=="x"',  # ATTRS without {attr}
        'SUBSYSTEM=="tty", GROUP=="dialout"',  # GROUP cannot be matched
        "SUBSYSTEM=='tty'",  # single quotes
        'SUBSYSTEM=="tty",',  # trailing comma
    ],
)
def test_checker_rejects(bad: str) -> None:
    assert check_rule(bad) != []


def test_generated_rule_for_multiport_modem(sysfs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["udev-rule", "/dev/ttyUSB2", "--name", "ec25", "--sysfs-root", str(sysfs)]) == 0
    out = capsys.readouterr().out
    assert check_file(out) == []
    comments = [line for line in out.splitlines() if line.startswith("#")]
    assert any("Quectel EG25-G (2c7c:0125)" in c and "interface 02" in c for c in comments)
    assert any("AT primary port" in c for c in comments)
    [(_, rule)] = rule_lines(out, include_commented_examples=False)
    assert dict(pairs(rule)) == {
        "SUBSYSTEM==": "tty",
        "ATTRS{idVendor}==": "2c7c",
        "ATTRS{idProduct}==": "0125",
        "ATTRS{serial}==": "0123456789ABCDEF",
        "ENV{ID_USB_INTERFACE_NUM}==": "02",
        "SYMLINK+=": "gsm/ec25",
        "GROUP=": "dialout",
        "MODE=": "0660",
        "ENV{ID_MM_DEVICE_IGNORE}=": "1",
    }


def test_wrong_interface_of_known_modem_is_flagged(sysfs: Path) -> None:
    info = udev.find_usb_serial("ttyUSB3", sysfs)
    assert info.interface_number == "03"
    assert "not the AT primary port" in udev.render_rule(info, "x")


def test_no_serial_number_matches_usb_port(sysfs: Path) -> None:
    info = udev.find_usb_serial("/dev/ttyUSB4", sysfs)
    assert (info.usb_id, info.serial, info.usb_path) == ("1a86:7523", None, "1-1.4")
    rule = udev.render_rule(info, udev.default_name(info))
    [(_, line)] = rule_lines(rule, include_commented_examples=False)
    got = dict(pairs(line))
    assert got["KERNELS=="] == "1-1.4" and "ATTRS{serial}==" not in got
    assert got["SYMLINK+="] == "gsm/usb-serial-if00"
    assert "CH340" in rule and check_file(rule) == []


def test_huawei_pcui_and_modem_ports(sysfs: Path) -> None:
    pcui = udev.find_usb_serial("ttyUSB7", sysfs)
    assert (pcui.interface_number, pcui.interface_class) == ("02", "ff/02/02")
    assert "PCUI port" in udev.render_rule(pcui, "e173")
    assert "URCs usually go to the PCUI port" in udev.render_rule(udev.find_usb_serial("ttyUSB5", sysfs), "e")


def test_cdc_acm_port(sysfs: Path) -> None:
    info = udev.find_usb_serial("ttyACM0", sysfs)
    assert (info.usb_id, info.interface_number, info.serial) == ("1e0e:9001", "02", "SIMCOM1")


@pytest.mark.parametrize(
    ("port", "words"),
    [
        ("ttyS0", "not a USB serial device"),
        ("tty1", "virtual terminal"),
        ("ttyUSB99", "no tty named 'ttyUSB99'"),
    ],
)
def test_clear_errors(sysfs: Path, port: str, words: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["udev-rule", port, "--sysfs-root", str(sysfs)]) == 1
    captured = capsys.readouterr()
    assert words in captured.err and captured.out == ""


def test_pty_is_refused_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    master, slave = os.openpty()
    try:
        assert main(["udev-rule", os.ttyname(slave)]) == 1
    finally:
        os.close(master)
        os.close(slave)
    assert "pseudo-terminal" in capsys.readouterr().err


def test_real_sysfs_uart_is_not_usb(capsys: pytest.CaptureFixture[str]) -> None:
    if not os.path.lexists("/sys/class/tty/ttyS0/device"):
        pytest.skip("this host has no ttyS0 in sysfs")
    assert main(["udev-rule", "ttyS0"]) == 1
    assert "not a USB serial device" in capsys.readouterr().err


def test_bad_name_rejected(sysfs: Path) -> None:
    info = udev.find_usb_serial("ttyUSB2", sysfs)
    with pytest.raises(udev.UdevRuleError):
        udev.render_rule(info, "../etc")


def test_udevadm_verify(tmp_path: Path, sysfs: Path) -> None:
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("udevadm not installed")
    probe = subprocess.run([udevadm, "verify", "--help"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("this udevadm has no `verify` (added in systemd 254); the checker above stands in")
    generated = tmp_path / "98-generated.rules"
    generated.write_text(udev.render_rule(udev.find_usb_serial("ttyUSB2", sysfs), "ec25"))
    style = ["--no-style"] if "--no-style" in probe.stdout else []
    for path in (RULES, generated):
        done = subprocess.run(
            [udevadm, "verify", *style, str(path)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_udevadm_test_parses_rules(tmp_path: Path, sysfs: Path) -> None:
    """The real udev rule parser (systemd's `udevadm test`) reads our rules, examples uncommented, inside a
    private mount namespace with a fresh tmpfs on /run (nothing of the host is touched): no complaints."""
    udevadm, unshare = shutil.which("udevadm"), shutil.which("unshare")
    if udevadm is None or unshare is None or os.geteuid() != 0:
        pytest.skip("needs udevadm, unshare and root (a private mount namespace)")
    if not os.path.lexists("/sys/class/tty/ttyS0"):
        pytest.skip("no /sys/class/tty/ttyS0 to run a test event on")
    if subprocess.run([unshare, "-m", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot make a private mount namespace here")
    examples = "\n".join(line for _, line in rule_lines(RULES.read_text()))
    generated = udev.render_rule(udev.find_usb_serial("ttyUSB4", sysfs), "ch340")
    (tmp_path / "99-modembridge.rules").write_text(examples + "\n" + generated)
    (tmp_path / "98-broken.rules").write_text('SUBSYSTEM="tty", SYMLINK+="gsm/x"\n')  # the parser must object
    script = (
        "mount -n -t tmpfs none /run && mkdir -p /run/udev/rules.d && "
        f"cp {tmp_path}/*.rules /run/udev/rules.d/ && {udevadm} test /sys/class/tty/ttyS0"
    )
    done = subprocess.run(
        [unshare, "-m", "sh", "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    output = done.stdout + done.stderr
    assert "Reading rules file: /run/udev/rules.d/99-modembridge.rules" in output, output[-2000:]
    assert "98-broken.rules:1 Invalid operator" in output, "the parser reports errors like this"
    ours = [line for line in output.splitlines() if "99-modembridge.rules:" in line]
    assert ours == [], ours


def test_cli_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modembridge", "udev-rule", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0 and "/dev/gsm/NAME" in done.stdout
