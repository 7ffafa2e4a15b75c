"""Documentation generated from the schema: the commented example file and the reference in
docs/configuration.md (its generated regions sit between ``<!-- BEGIN GENERATED name -->`` and
``<!-- END GENERATED name -->`` markers; the prose around them is written by hand).

``python -m modembridge.config --write`` regenerates docs/configuration.md in the checkout; without
``--write`` it exits 1 when the file is out of date (tests/test_config.py checks the same).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import textwrap
import typing
from collections.abc import Iterator, Sequence
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any

from .loader import env_keys, env_name
from .schema import Config, file_fields, is_table_array, section_of, setting_of, text, toml_name

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
REGIONS = ("example", "environment", "sections")
_MARKERS = re.compile(r"(<!-- BEGIN GENERATED (\w+)[^\n]*-->\n)(.*?)(<!-- END GENERATED \2 -->)", re.DOTALL)
_COMMENT_AT = 34  # the example file's comments start in this column

_HEADER = """\
# modembridge configuration (TOML), generated from the schema (modembridge/config/schema.py); every key is
# explained in docs/configuration.md. Every key is optional unless marked required; the values shown are the
# defaults, except where a comment gives the default. Secrets can come from the environment instead:
# MODEMBRIDGE_HTTP_API_TOKEN, MODEMBRIDGE_HTTP_KANNEL_PASSWORD, MODEMBRIDGE_ROUTER_URL,
# MODEMBRIDGE_ROUTER_HMAC_SECRET (generally MODEMBRIDGE_<SECTION>_<KEY>, and MODEMBRIDGE_MODEM_<ID>_<KEY> for
# a modem's keys).
"""


@dataclass(frozen=True)
class Place:
    """Where a section sits in the file: its dotted key ("" = top level), class and the defaults there."""

    key: str
    cls: type
    defaults: dict[str, object]  # field name -> default (MISSING: required)
    array: bool = False  # an array of tables ([[modem]])


def places(cls: type = Config, key: str = "", defaults: dict[str, object] | None = None,
           array: bool = False) -> Iterator[Place]:
    """Every section in file order: a section, then its sub-sections, arrays of tables last."""
    here = _field_defaults(cls) if defaults is None else defaults
    yield Place(key, cls, here, array)
    hints = typing.get_type_hints(cls)
    subs: list[Place] = []
    for f in file_fields(cls):
        sub_key = f"{key}.{toml_name(f)}" if key else toml_name(f)
        hint = hints[f.name]
        if is_table_array(hint):
            item = typing.get_args(hint)[0]
            subs.append(Place(sub_key, item, _field_defaults(item), array=True))
        elif _is_section(hint):
            made = f.default_factory() if f.default_factory is not MISSING else None
            values = {g.name: getattr(made, g.name) for g in dataclasses.fields(hint)} if made else None
            subs.append(Place(sub_key, hint, values or _field_defaults(hint)))
    for sub in sorted(subs, key=lambda p: p.array):
        yield from places(sub.cls, sub.key, sub.defaults, sub.array)


def _is_section(hint: object) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _field_defaults(cls: type) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if f.default is not MISSING:
            out[f.name] = f.default
        elif f.default_factory is not MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = MISSING
    return out


def scalars(cls: type) -> list[dataclasses.Field[Any]]:
    """The fields of a section that are keys with a value (not sub-sections, not arrays of tables)."""
    hints = typing.get_type_hints(cls)
    return [f for f in file_fields(cls)
            if not _is_section(hints[f.name]) and not is_table_array(hints[f.name])]


def literal(value: object) -> str:
    """A value as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return str(value)


def _header(place: Place) -> str:
    return f"[[{place.key}]]" if place.array else f"[{place.key}]"


def _plain(markdown: str) -> str:
    return markdown.replace("`", "")


# -- the example file ----------------------------------------------------------------------------------


def example_config() -> str:
    """A commented example config file showing every key (with its default, or an example value)."""
    lines = _HEADER.splitlines()
    for place in places():
        if not scalars(place.cls):
            continue
        if place.key:
            title = _plain(section_of(place.cls).title)
            lines += ["", _commented(_header(place), title)]
        else:
            lines.append("")
        for f in scalars(place.cls):
            meta = setting_of(f)
            default = place.defaults[f.name]
            note = text(meta.note)
            value = meta.example if meta.has_example else default
            if meta.has_example and default is not MISSING:
                note = f"{note} (default {literal(default)})" if note else f"default {literal(default)}"
            lines.append(_commented(f"{toml_name(f)} = {literal(value)}", note))
    return "\n".join(lines) + "\n"


def _commented(line: str, note: str) -> str:
    if not note:
        return line
    if len(line) >= _COMMENT_AT:  # a long value: the comment goes above it
        return f"# {note}\n{line}"
    return f"{line:<{_COMMENT_AT}} # {note}"


# -- the reference --------------------------------------------------------------------------------------


def sections_reference() -> str:
    """Every section: a heading, its prose and a table of its keys (one default column per place where a
    section class is used in several, as the retry policies are)."""
    groups: dict[type, list[Place]] = {}
    for place in places():
        groups.setdefault(place.cls, []).append(place)
    out: list[str] = []
    for cls, where in groups.items():
        sec = section_of(cls)
        keys = scalars(cls)
        if not keys:
            continue
        first = where[0]
        level = "#" * (2 + first.key.count("."))
        names = ", ".join(f"`{_header(p)}`" for p in where) if first.key else ""
        title = " — ".join(t for t in (names, sec.title) if t)
        out += [f"{level} {title}", ""]
        if text(sec.doc):
            out += [textwrap.fill(text(sec.doc), 110, break_long_words=False, break_on_hyphens=False), ""]
        labels = ["default"] if len(where) == 1 else [f"{p.key.rsplit('.', 1)[0]} default" for p in where]
        out.append("| key | " + " | ".join(labels) + " | meaning |")
        out.append("|---|" + "---|" * len(labels) + "---|")
        for f in keys:
            doc = text(setting_of(f).doc)
            if not doc:
                raise ValueError(f"config schema: {cls.__name__}.{f.name} has no doc")
            defaults = [_shown_default(p.defaults[f.name]) for p in where]
            out.append(f"| `{toml_name(f)}` | " + " | ".join(defaults) + f" | {doc} |")
        out.append("")
    return "\n".join(out)


def _shown_default(value: object) -> str:
    return "required" if value is MISSING else f"`{literal(value)}`"


def environment_reference() -> str:
    """The table of the variables that override keys (a modem's keys follow a pattern, given by hand)."""
    rows = ["| variable | key |", "|---|---|"]
    keys = sorted((dotted for dotted, _ in env_keys(Config)), key=lambda k: "." in k)  # top level first
    rows += [f"| `{env_name(dotted)}` | `{dotted}` |" for dotted in keys]
    return "\n".join(rows) + "\n"


def generated() -> dict[str, str]:
    return {
        "example": f"```toml\n{example_config()}```\n",
        "environment": environment_reference(),
        "sections": sections_reference(),
    }


def render(document: str) -> str:
    """`document` with every generated region replaced by what the schema says now."""
    fresh = generated()
    found = {m.group(2) for m in _MARKERS.finditer(document)}
    if found != set(REGIONS):
        raise ValueError(f"generated regions: want {', '.join(REGIONS)}, found {', '.join(sorted(found))}")
    return _MARKERS.sub(lambda m: f"{m.group(1)}{fresh[m.group(2)]}{m.group(4)}", document)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modembridge.config", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the generated regions in place")
    parser.add_argument("path", nargs="?", type=Path, default=DOC, help="default: %(default)s")
    args = parser.parse_args(argv)
    current = args.path.read_text(encoding="utf-8")
    fresh = render(current)
    if fresh == current:
        return 0
    if args.write:
        args.path.write_text(fresh, encoding="utf-8")
        print(f"{args.path}: regenerated")
        return 0
    print(f"{args.path}: out of date; run python -m modembridge.config --write", file=sys.stderr)
    return 1
