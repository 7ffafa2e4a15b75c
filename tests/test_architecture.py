"""The layering of docs/architecture.md holds: every import of a modembridge module is one its layer may make.

The table is read from the document itself ("What may import what"), so the document and the code
cannot drift apart: a new module, or an import a layer may not make, fails here until both agree.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "modembridge"
DOC = ROOT / "docs" / "architecture.md"


def allowed_imports() -> dict[str, set[str]]:
    """layer -> the layers it may import, from the table in docs/architecture.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## What may import what", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        layers = re.findall(r"`([\w.]+)`", cells[0])
        may = set(re.findall(r"`([\w.]+)`", cells[1]))
        for layer in layers:
            table[layer] = may
    assert table, "docs/architecture.md has no 'What may import what' table"
    return table


def layer_of(module: str) -> str:
    """modembridge.at.modem -> at; modembridge.observe -> observe; modembridge -> modembridge."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every modembridge module `path` imports (top level, in functions, relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "modembridge"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name.split(".")[0] == "modembridge":
                found.add(name)
    return found


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_layer_is_documented() -> None:
    table = allowed_imports()
    missing = sorted({layer_of(module_name(p)) for p in all_modules()} - set(table))
    assert not missing, f"layers without a row in docs/architecture.md: {missing}"


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_follow_the_layering(path: Path) -> None:
    table = allowed_imports()
    layer = layer_of(module_name(path))
    may = table.get(layer, set())

    def allowed(module: str) -> bool:
        short = module.removeprefix("modembridge.")  # a row may name a layer or one module of it
        return layer_of(module) in (layer, *may) or any(short == m or short.startswith(m + ".") for m in may)

    wrong = sorted(m for m in imports_of(path) if not allowed(m))
    assert not wrong, f"{layer} may not import {wrong} (docs/architecture.md)"


def test_the_rules_that_matter_most_are_in_the_table() -> None:
    """The boundaries issue 13 named: the journal runs no codec, the web side knows no AT, the codec and the
    contracts import nothing of ours."""
    table = allowed_imports()
    assert "sms" not in table["store"]
    assert "at" not in table["http"] and "store" not in table["http"] and "bridge" not in table["http"]
    assert table["sms"] == set() and table["model"] == set()
    assert "http" not in table["at"] and "store" not in table["at"]
