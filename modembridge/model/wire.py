"""The JSON form of the typed contracts, both ways, in one place.

``to_wire`` turns a frozen dataclass (and what it holds: enums, datetimes, tuples, mappings) into JSON
values, field by field in declaration order (a field's ``metadata={"wire": name}`` renames it); times
are ISO 8601 UTC with a ``Z``. ``from_wire`` reads such JSON back into the dataclass, driven by its type
hints, so a client (the CLI) gets the same types the daemon built. Unknown keys are ignored (a newer
daemon may say more); a missing key without a default is a :class:`WireError`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar, cast

T = TypeVar("T")
JSON = None | bool | int | float | str | list[Any] | dict[str, Any]


class WireError(ValueError):
    """JSON that does not have the shape of the type asked for; the message names the path."""


def iso(t: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 UTC ('...Z')."""
    if t is None:
        return None
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def wire_name(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("wire", f.name))


def to_wire(value: object) -> JSON:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {wire_name(f): to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return to_wire(value.value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [to_wire(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"cannot put {type(value).__name__} on the wire")


def from_wire(cls: type[T], data: object) -> T:
    """`data` (decoded JSON) as an instance of `cls`, a dataclass or any type the dataclasses use."""
    return cast(T, _read(cls, data, "$"))


def _read(hint: Any, data: object, path: str) -> object:
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return data
    if origin in (typing.Union, types.UnionType):
        alternatives = typing.get_args(hint)
        if data is None and type(None) in alternatives:
            return None
        errors = []
        for alt in alternatives:
            if alt is type(None):
                continue
            try:
                return _read(alt, data, path)
            except WireError as e:
                errors.append(str(e))
        raise WireError("; ".join(errors) or f"{path}: unexpected {data!r}")
    if origin is typing.Literal:
        if data not in typing.get_args(hint):
            raise WireError(f"{path}: {data!r} is not one of {typing.get_args(hint)}")
        return data
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _read_dataclass(hint, data, path)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(data)
        except ValueError:
            raise WireError(f"{path}: {data!r} is not a {hint.__name__}") from None
    if hint is datetime:
        if not isinstance(data, str):
            raise WireError(f"{path}: expected an ISO 8601 time, got {data!r}")
        try:
            t = datetime.fromisoformat(data.replace("Z", "+00:00"))
        except ValueError:
            raise WireError(f"{path}: {data!r} is not an ISO 8601 time") from None
        return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(data, list):
            raise WireError(f"{path}: expected a list, got {data!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_read(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise WireError(f"{path}: expected {len(args)} items, got {len(data)}")
        return tuple(_read(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
    if origin in (Mapping, dict) or hint in (Mapping, dict):
        args = typing.get_args(hint)
        if not isinstance(data, dict):
            raise WireError(f"{path}: expected an object, got {data!r}")
        item = args[1] if len(args) == 2 else Any
        return {str(k): _read(item, v, f"{path}.{k}") for k, v in data.items()}
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise WireError(f"{path}: expected a number, got {data!r}")
        return float(data)
    if hint in (bool, int, str):
        if not isinstance(data, hint) or (hint is int and isinstance(data, bool)):
            raise WireError(f"{path}: expected {hint.__name__}, got {data!r}")
        return data
    raise TypeError(f"from_wire cannot read {hint!r} (at {path})")


def _read_dataclass(cls: type, data: object, path: str) -> object:
    if not isinstance(data, dict):
        raise WireError(f"{path}: expected an object, got {data!r}")
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        name = wire_name(f)
        if name in data:
            kwargs[f.name] = _read(hints[f.name], data[name], f"{path}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise WireError(f"{path}: missing {name!r}")
    return cls(**kwargs)
