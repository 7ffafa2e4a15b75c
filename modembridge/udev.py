"""A udev rule giving the modem at a tty a stable /dev/gsm/<name>; `modembridge udev-rule PORT` prints it.

Reads sysfs only (no udev database, no pyudev): /sys/class/tty/<tty> -> its `device` -> up the
tree to the USB interface (bInterfaceNumber) and the USB device (idVendor, idProduct, serial ...).
All ATTRS{} keys of one udev rule must match on the same parent device, so the interface number is
matched through ENV{ID_USB_INTERFACE_NUM} (set by the usb_id builtin in 60-serial.rules) and the
vendor/product/serial through ATTRS{} of the USB device.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A udev rule value is a double-quoted string; keep values to a safe character set.
_UNSAFE = re.compile(r'["\\\n\r]')

# vendor:product of USB-to-serial bridges (no modem inside: a SIM800/SIM900 board sits behind them).
# Source: ModemManager src/77-mm-usb-serial-adapters-greylist.rules.
SERIAL_BRIDGES = {
    "10c4:ea60": "Silicon Labs CP210x USB-serial bridge",
    "1a86:7523": "QinHeng CH340 USB-serial bridge",
    "067b:2303": "Prolific PL2303 USB-serial bridge",
    "0403:6001": "FTDI FT232 USB-serial bridge",
    "0403:6015": "FTDI FT231X USB-serial bridge",
}


class UdevRuleError(Exception):
    """PORT cannot be given a rule (not found, not USB, a pty ...); the message says why."""


@dataclass(frozen=True)
class UsbSerialPort:
    """What sysfs tells about a USB serial tty."""

    tty: str  # kernel name, e.g. ttyUSB2
    vendor_id: str  # 4 hex digits, e.g. 2c7c
    product_id: str
    usb_path: str  # kernel name of the USB device = physical port path, e.g. 1-1.3
    interface_number: str | None  # two hex digits, e.g. "02"; None if not found
    serial: str | None = None
    manufacturer: str | None = None
    product: str | None = None
    interface_class: str | None = None  # "ff/01/02" (class/subclass/protocol)
    driver: str | None = None  # option, qcserial, cdc_acm, cp210x, ch341 ...

    @property
    def usb_id(self) -> str:
        return f"{self.vendor_id}:{self.product_id}"

    def describe(self) -> str:
        words = " ".join(w for w in (self.manufacturer, self.product) if w) or "USB device"
        parts = [f"{words} ({self.usb_id})"]
        if self.serial:
            parts.append(f"serial {self.serial}")
        parts.append(f"at USB port {self.usb_path}")
        if self.interface_number is not None:
            parts.append(f"interface {self.interface_number}")
        if self.driver:
            parts.append(f"driver {self.driver}")
        return ", ".join(parts)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def tty_name(port: str) -> str:
    """The kernel tty name for PORT (`/dev/ttyUSB2`, `ttyUSB2`, `/dev/gsm/x` -> its target)."""
    if os.path.lexists(port):
        real = os.path.realpath(port)
        if real.startswith("/dev/pts/") or real == "/dev/ptmx":
            raise UdevRuleError(
                f"{port} is a pseudo-terminal ({real}), e.g. the simulated modem or socat: it has no USB"
                " device behind it and needs no udev rule; use its path in the config as it is"
            )
        return os.path.basename(real)
    if port.startswith("/dev/pts/"):
        raise UdevRuleError(f"{port} is a pseudo-terminal and does not exist (any more); no rule needed")
    return os.path.basename(port.rstrip("/"))


def find_usb_serial(port: str, sysfs_root: str | Path = "/sys") -> UsbSerialPort:
    """Walk sysfs from the tty to its USB interface and device; raise UdevRuleError with advice if not USB."""
    root = Path(sysfs_root)
    name = tty_name(port)
    class_dir = root / "class" / "tty" / name
    if not os.path.lexists(class_dir):
        raise UdevRuleError(
            f"{port}: no tty named {name!r} in {root}/class/tty (is the modem plugged in and switched to"
            " modem mode? `lsusb` and `dmesg | tail` tell; a storage-mode stick needs usb_modeswitch)"
        )
    device_link = class_dir / "device"
    if not os.path.lexists(device_link):
        raise UdevRuleError(
            f"{port} ({name}) is a virtual terminal (console or pty), not a USB serial device: no udev rule"
            " needed or possible"
        )
    device = Path(os.path.realpath(device_link))
    driver_link = device / "driver"
    driver = os.path.basename(os.path.realpath(driver_link)) if os.path.lexists(driver_link) else None
    stop = Path(os.path.realpath(root / "devices"))
    interface: Path | None = None
    usb_device: Path | None = None
    node = device
    while node != stop and node != node.parent and stop in node.parents:
        if interface is None and (node / "bInterfaceNumber").is_file():
            interface = node
        if (node / "idVendor").is_file() and (node / "idProduct").is_file():
            usb_device = node
            break
        node = node.parent
    if usb_device is None:
        subsystem_link = device / "subsystem"
        bus = os.path.basename(os.path.realpath(subsystem_link)) if os.path.lexists(subsystem_link) else "?"
        raise UdevRuleError(
            f"{port} ({name}) is not a USB serial device (it sits on the {bus!r} bus, e.g. a built-in or"
            " board UART): its name is already stable, use it directly in the config"
        )
    vendor = _read(usb_device / "idVendor") or ""
    product_id = _read(usb_device / "idProduct") or ""
    if_class = None
    if interface is not None:
        cls = [_read(interface / f) for f in ("bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol")]
        if all(cls):
            if_class = "/".join(c for c in cls if c)
    return UsbSerialPort(
        tty=name,
        vendor_id=vendor.lower(),
        product_id=product_id.lower(),
        usb_path=usb_device.name,
        interface_number=_read(interface / "bInterfaceNumber") if interface is not None else None,
        serial=_read(usb_device / "serial"),
        manufacturer=_read(usb_device / "manufacturer"),
        product=_read(usb_device / "product"),
        interface_class=if_class,
        driver=driver,
    )


def _hint(info: UsbSerialPort) -> str | None:
    """A word about which interface carries the AT commands and URCs, where we know it."""
    if info.usb_id in SERIAL_BRIDGES:
        return f"{SERIAL_BRIDGES[info.usb_id]}: the modem (e.g. SIM800) is behind it; single port." + (
            "" if info.serial else " It has no serial number: the rule matches the physical USB port."
        )
    if info.vendor_id == "12d1" and info.interface_class in ("ff/01/02", "ff/02/02"):
        return "Huawei PCUI port (AT commands and URCs): the right one"
    if info.vendor_id == "12d1" and info.interface_class in ("ff/01/01", "ff/02/01"):
        return (
            "Huawei modem (PPP) port: URCs usually go to the PCUI port instead (class ff/01/02 or ff/02/02)"
        )
    if info.usb_id in ("2c7c:0125", "2c7c:0296", "2c7c:0306", "2c7c:0191", "2c7c:0195", "1e0e:9001"):
        if info.interface_number == "02":
            return "AT primary port (URCs by default): the right one"
        return "not the AT primary port: that is interface 02 on this modem"
    return None


def _value(text: str) -> str:
    if _UNSAFE.search(text):
        raise UdevRuleError(f"cannot put {text!r} in a udev rule value (quote, backslash or newline)")
    return text


def render_rule(info: UsbSerialPort, name: str) -> str:
    """A rule (with a comment naming the device) creating /dev/gsm/<name> for this port."""
    if not NAME_RE.match(name):
        raise UdevRuleError(f"bad name {name!r}: use letters, digits, '_', '.', '-' (max 64)")
    matches = [
        'SUBSYSTEM=="tty"',
        f'ATTRS{{idVendor}}=="{_value(info.vendor_id)}"',
        f'ATTRS{{idProduct}}=="{_value(info.product_id)}"',
    ]
    if info.serial:
        matches.append(f'ATTRS{{serial}}=="{_value(info.serial)}"')
    else:
        # No serial number: tell identical devices apart by the physical USB port (KERNELS of the same
        # parent as idVendor/idProduct). Moving the stick to another port changes the match.
        matches.append(f'KERNELS=="{_value(info.usb_path)}"')
    if info.interface_number is not None:
        matches.append(f'ENV{{ID_USB_INTERFACE_NUM}}=="{_value(info.interface_number)}"')
    actions = [f'SYMLINK+="gsm/{name}"', 'GROUP="dialout"', 'MODE="0660"', 'ENV{ID_MM_DEVICE_IGNORE}="1"']
    lines = [f"# {info.describe()}", f"# generated by `modembridge udev-rule` from {info.tty}"]
    hint = _hint(info)
    if hint:
        lines.append(f"# {hint}")
    if not info.serial:
        lines.append(
            "# no USB serial number: matched by physical USB port (KERNELS); keep it in the same socket"
        )
    lines.append(", ".join(matches + actions))
    return "\n".join(lines) + "\n"


def default_name(info: UsbSerialPort) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", (info.product or "modem").lower()).strip("-") or "modem"
    suffix = f"-if{info.interface_number}" if info.interface_number is not None else ""
    return f"{base[:40]}{suffix}"
