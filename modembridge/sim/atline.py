"""Split one AT command line (V.250) into its commands: pure functions, no state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["exec", "set", "read", "test"]


class AtSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Command:
    name: str  # upper-cased: "E", "Z", "&F", "S0", "+CMGF", "^CURC"
    kind: Kind
    raw: str  # everything after the name ("=0", "?", "=?", "1", ...), original case
    args: tuple[str | None, ...] = ()  # for set: comma-split, quotes removed, empty -> None

    def arg(self, i: int) -> str | None:
        return self.args[i] if i < len(self.args) else None

    def int_arg(self, i: int, default: int | None = None) -> int | None:
        """Argument i as an int (default when absent); raises AtSyntaxError when not a number."""
        v = self.arg(i)
        if v is None or v == "":
            return default
        try:
            return int(v)
        except ValueError:
            raise AtSyntaxError(f"{self.name}: argument {i + 1} is not a number: {v!r}") from None


def split_args(text: str) -> tuple[str | None, ...]:
    """'2,"SM",,1' -> ('2', 'SM', None, '1'); quoted strings keep commas and case."""
    out: list[str | None] = []
    cur: list[str] = []
    quoted = False
    was_quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
            was_quoted = True
        elif ch == "," and not quoted:
            s = "".join(cur).strip()
            out.append(s if s or was_quoted else None)
            cur, was_quoted = [], False
        else:
            cur.append(ch)
    if quoted:
        raise AtSyntaxError("unterminated quoted string")
    s = "".join(cur).strip()
    out.append(s if s or was_quoted else None)
    return tuple(out)


def _upper_unquoted(text: str) -> str:
    parts = text.split('"')
    return '"'.join(p.upper() if i % 2 == 0 else p for i, p in enumerate(parts))


def parse_line(line: str) -> list[Command]:
    """Parse the text of a command line after the 'AT' prefix, e.g. 'E0V1+CMGF=0;+CNMI=2,1,0,0,0'."""
    text = line.strip()
    cmds: list[Command] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in " ;":
            i += 1
            continue
        if ch in "+^$%*#":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_-"):
                j += 1
            name = text[i:j].upper()
            if len(name) < 2:
                raise AtSyntaxError(f"empty extended command at {i}")
            # the rest up to an unquoted ';'
            k = j
            quoted = False
            while k < n and (quoted or text[k] != ";"):
                if text[k] == '"':
                    quoted = not quoted
                k += 1
            rest = text[j:k]
            cmds.append(_extended(name, rest))
            i = k
            continue
        if ch.upper() == "D":  # dial consumes the rest of the line
            cmds.append(Command("D", "exec", text[i + 1 :]))
            break
        if ch == "&":
            if i + 1 >= n:
                raise AtSyntaxError("'&' without a command letter")
            name = "&" + text[i + 1].upper()
            j = i + 2
        elif ch.upper() == "S" and i + 1 < n and text[i + 1].isdigit():
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            name = "S" + text[i + 1 : j]
            if j < n and text[j] == "?":
                cmds.append(Command(name, "read", "?"))
                i = j + 1
                continue
            if j < n and text[j] == "=":
                k = j + 1
                while k < n and text[k].isdigit():
                    k += 1
                cmds.append(Command(name, "set", text[j:k], (text[j + 1 : k],)))
                i = k
                continue
            cmds.append(Command(name, "exec", ""))
            i = j
            continue
        elif ch.isalpha():
            name = ch.upper()
            j = i + 1
        else:
            raise AtSyntaxError(f"unexpected {ch!r} at {i}")
        k = j
        while k < n and text[k].isdigit():
            k += 1
        num = text[j:k]
        cmds.append(Command(name, "exec", num, (num,) if num else ()))
        i = k
    return cmds


def _extended(name: str, rest: str) -> Command:
    r = rest.strip()
    if r == "?":
        return Command(name, "read", rest)
    if r == "=?":
        return Command(name, "test", rest)
    if r.startswith("="):
        return Command(name, "set", rest, split_args(r[1:]))
    if r == "":
        return Command(name, "exec", rest)
    raise AtSyntaxError(f"{name}: unexpected {r!r}")


def normalise(line: str) -> str:
    """Upper-case outside quotes (for logs and comparisons)."""
    return _upper_unquoted(line)
