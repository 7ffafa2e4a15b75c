"""A strict checker for the subset of udev rule syntax we ship and generate (udev(7) "Rules Files")."""

from __future__ import annotations

import re

# Keys with an optional {attribute} part, from udev(7).
MATCH_KEYS = {
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "NAME",
    "SYMLINK",
    "SUBSYSTEM",
    "DRIVER",
    "ATTR",
    "SYSCTL",
    "KERNELS",
    "SUBSYSTEMS",
    "DRIVERS",
    "ATTRS",
    "TAGS",
    "ENV",
    "CONST",
    "TAG",
    "TEST",
    "PROGRAM",
    "RESULT",
}
ASSIGN_KEYS = {
    "NAME",
    "SYMLINK",
    "OWNER",
    "GROUP",
    "MODE",
    "SECLABEL",
    "ATTR",
    "SYSCTL",
    "ENV",
    "TAG",
    "RUN",
    "LABEL",
    "GOTO",
    "IMPORT",
    "OPTIONS",
}
NEEDS_ATTR = {"ATTR", "SYSCTL", "ATTRS", "ENV", "CONST", "SECLABEL", "IMPORT"}
PAIR = re.compile(
    r"\s*(?P<key>[A-Z]+)(?:\{(?P<attr>[A-Za-z0-9_.:/-]+)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"
    r'"(?P<value>[^"\\]*)"\s*(?P<sep>,|$)'
)


def check_rule(line: str) -> list[str]:
    """Errors for one rule line (empty list = well-formed)."""
    errors: list[str] = []
    pos = 0
    pairs = 0
    while pos < len(line):
        m = PAIR.match(line, pos)
        if m is None:
            return [*errors, f"unparseable at column {pos}: {line[pos : pos + 30]!r}"]
        key, attr, op = m["key"], m["attr"], m["op"]
        pairs += 1
        if op in ("==", "!="):
            if key not in MATCH_KEYS:
                errors.append(f"{key} cannot be matched")
        elif key not in ASSIGN_KEYS:
            errors.append(f"{key} cannot be assigned")
        if key in NEEDS_ATTR and attr is None:
            errors.append(f"{key} needs {{attribute}}")
        if key not in NEEDS_ATTR and key not in ("TEST", "RUN") and attr is not None:
            errors.append(f"{key} takes no {{attribute}}")
        if m["sep"] == "" and m.end() < len(line):
            errors.append("missing comma")
        pos = m.end()
        if m["sep"] == "," and not line[pos:].strip():
            errors.append("trailing comma")
            break
    if pairs == 0:
        errors.append("empty rule")
    return errors


def rule_lines(text: str, include_commented_examples: bool = True) -> list[tuple[int, str]]:
    """The rule lines of a rules file; commented-out examples (`# KEY==...`) too, if asked."""
    out = []
    example = re.compile(r"^#\s?(?=[A-Z]+(\{[^}]*\})?\s*(==|!=|\+?=))")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if include_commented_examples and example.match(line):
                out.append((number, example.sub("", line, count=1)))
            continue
        out.append((number, line))
    return out


def check_file(text: str) -> list[str]:
    errors = []
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.rstrip().endswith("\\"):
            errors.append(f"line {number}: continuation lines are not used in our files")
    for number, line in rule_lines(text):
        errors += [f"line {number}: {e}" for e in check_rule(line)]
    return errors


def pairs(line: str) -> list[tuple[str, str]]:
    """[(key-with-attr + op, value)] e.g. ('ATTRS{idVendor}==', '2c7c')."""
    return [
        (f"{m['key']}{'{' + m['attr'] + '}' if m['attr'] else ''}{m['op']}", m["value"])
        for m in PAIR.finditer(line)
    ]
