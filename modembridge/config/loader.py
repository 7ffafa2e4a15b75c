"""The loader: a TOML file and MODEMBRIDGE_* environment overrides -> a validated :class:`Config`.

Everything it knows about the settings comes from the schema (schema.py): their types, defaults, checks and
TOML names. Every error names the file, the key (a dotted path; ``modem[1].baud`` is the second
``[[modem]]``) and the reason, and, for a value from the environment, the variable.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path

from .schema import Config, ModemConfig, file_fields, is_table_array, section_of, setting_of, toml_name

ENV_PREFIX = "MODEMBRIDGE_"


class ConfigError(ValueError):
    """A configuration problem; the message names the file, the key and the reason."""


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a TOML config file, then apply MODEMBRIDGE_* environment overrides.

    Relative store paths resolve against the file's folder. Raises ConfigError.
    """
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{file}: cannot read the config file: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: not UTF-8 text: {e.reason}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}") from None
    return config_from_dict(raw, source=str(file), base_dir=file.resolve().parent,
                            env=os.environ if env is None else env)


def config_from_dict(raw: Mapping[str, object], *, source: str = "<dict>", base_dir: Path | None = None,
                     env: Mapping[str, str] | None = None) -> Config:
    """Validate an already parsed TOML document (see load_config)."""
    loader = _Loader(source, dict(raw), env or {})
    cfg = loader.build()
    if base_dir is not None and cfg.store.path != ":memory:" and not Path(cfg.store.path).is_absolute():
        store = dataclasses.replace(cfg.store, path=str(base_dir / cfg.store.path))
        cfg = dataclasses.replace(cfg, store=store)
    return cfg


class _Loader:
    def __init__(self, source: str, raw: dict[str, object], env: Mapping[str, str]) -> None:
        self.source = source
        self.raw = raw
        self.env = env
        self.from_env: dict[str, str] = {}  # dotted key -> environment variable that set it

    def fail(self, key: str, reason: str) -> typing.NoReturn:
        origin = f" (from environment variable {self.from_env[key]})" if key in self.from_env else ""
        raise ConfigError(f"{self.source}: {key}{origin}: {reason}")

    def build(self) -> Config:
        self.apply_env()
        cfg = self.convert(Config, self.raw, "")
        assert isinstance(cfg, Config)
        return dataclasses.replace(cfg, source=self.source)

    # -- environment -------------------------------------------------------------------------------------

    def apply_env(self) -> None:
        """MODEMBRIDGE_<SECTION>_<KEY> (dots to underscores, upper case) overrides scalar keys;
        MODEMBRIDGE_MODEM_<ID>_<KEY> those of the modem with that id."""
        targets: dict[str, tuple[tuple[str | int, ...], type | object]] = {}
        for dotted, hint in env_keys(Config):
            targets[env_name(dotted)] = (tuple(dotted.split(".")), hint)
        modems = self.raw.get("modem")
        if isinstance(modems, list):
            for i, m in enumerate(modems):
                if isinstance(m, dict) and isinstance(m.get("id"), str):
                    for dotted, hint in env_keys(ModemConfig):
                        targets[env_name(dotted, modem=m["id"])] = (("modem", i, dotted), hint)
        fields = dataclasses.fields(Config)
        sections = {f.name.upper() for f in fields} | {toml_name(f).upper() for f in fields}
        for name in sorted(self.env):
            if not name.startswith(ENV_PREFIX):
                continue
            value = self.env[name]
            if name not in targets:
                if name[len(ENV_PREFIX):].split("_", 1)[0] in sections and "_" in name[len(ENV_PREFIX):]:
                    raise ConfigError(f"{self.source}: environment variable {name}: no such setting")
                continue
            keys, hint = targets[name]
            node: typing.Any = self.raw
            for k in keys[:-1]:
                if isinstance(k, int):
                    node = node[k]  # a modem table: checked above
                elif isinstance(node.get(k, {}), dict | list):
                    node = node.setdefault(k, {})
                else:
                    break  # wrong type in the file: reported by convert()
            else:
                node[keys[-1]] = self.parse_env(name, value, hint, _dotted(keys))
                self.from_env[_dotted(keys)] = name

    def parse_env(self, name: str, value: str, hint: object, key: str) -> object:
        origin = typing.get_origin(hint)
        try:
            if hint is bool:
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError("expected true or false")
            if hint is int:
                return int(value.strip())
            if hint is float:
                return float(value.strip())
        except ValueError as e:
            what = {bool: "true or false", int: "an integer", float: "a number"}.get(hint, str(e))  # type: ignore
            raise ConfigError(f"{self.source}: {key} (from environment variable {name}): expected {what},"
                              f" got {value!r}") from None
        if hint is str or origin is typing.Literal:
            return value
        raise ConfigError(f"{self.source}: {key} (from environment variable {name}): cannot be set from the"
                          " environment")

    # -- conversion --------------------------------------------------------------------------------------

    def convert(self, hint: object, value: object, key: str) -> object:
        origin = typing.get_origin(hint)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.convert_dataclass(hint, value, key)
        if origin is tuple:
            item = typing.get_args(hint)[0]
            if not isinstance(value, list):
                want = f"an array of tables ([[{key}]])" if is_table_array(hint) else "an array"
                self.fail(key, f"expected {want}, got {_kind(value)}")
            return tuple(self.convert(item, v, f"{key}[{i}]") for i, v in enumerate(value))
        if origin is typing.Literal:
            choices = typing.get_args(hint)
            if value not in choices:
                self.fail(key, f"must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
            return value
        if hint is bool:
            if not isinstance(value, bool):
                self.fail(key, f"expected true or false, got {_kind(value)}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(key, f"expected an integer, got {_kind(value)}")
            return value
        if hint is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(key, f"expected a number, got {_kind(value)}")
            return float(value)
        if hint is str:
            if not isinstance(value, str):
                self.fail(key, f"expected a string, got {_kind(value)}")
            return value
        raise TypeError(f"config loader cannot handle {hint!r} at {key}")  # a programming error

    def convert_dataclass(self, cls: type, value: object, key: str) -> object:
        if not isinstance(value, dict):
            self.fail(key or "<top level>", f"expected a table, got {_kind(value)}")
        hints = typing.get_type_hints(cls)
        fields = {toml_name(f): f for f in file_fields(cls)}
        for k in value:
            if k not in fields:
                import difflib  # here: only a config with a typo needs it

                close = difflib.get_close_matches(str(k), list(fields), n=1)
                hint_ = f" (did you mean {close[0]!r}?)" if close else ""
                self.fail(_join(key, k), f"unknown key{hint_}")
        kwargs: dict[str, object] = {}
        missing: list[tuple[str, str]] = []
        for name, f in fields.items():
            sub = _join(key, name)
            meta = setting_of(f)
            if name in value:
                raw = value[name]
                if meta.upper and isinstance(raw, str):
                    raw = raw.upper()
                converted = self.convert(hints[f.name], raw, sub)
                check = meta.check
                if check is not None:
                    try:
                        converted = check(converted)
                    except ValueError as e:
                        self.fail(sub, str(e))
                kwargs[f.name] = converted
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                missing.append((name, meta.missing))
        for name, reason in missing:  # after the keys present, so their errors come first
            self.fail(_join(key, name), reason)
        obj = cls(**kwargs)
        check = section_of(cls).check
        problem = check(obj) if check is not None else None
        if problem is not None:
            self.fail(_join(key, problem[0]), problem[1])
        return obj


def env_keys(cls: type, prefix: str = "") -> Iterator[tuple[str, object]]:
    """(dotted key, type) of every key of `cls` the environment may set: the scalars, sub-sections
    included, arrays of tables (``[[modem]]``, set by MODEMBRIDGE_MODEM_<ID>_<KEY>) not."""
    hints = typing.get_type_hints(cls)
    for f in file_fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            yield from env_keys(hint, _join(prefix, toml_name(f)))
        elif typing.get_origin(hint) is not tuple and setting_of(f).env:
            yield _join(prefix, toml_name(f)), hint


def env_name(dotted: str, modem: str | None = None) -> str:
    """The variable that overrides a key: MODEMBRIDGE_<SECTION>_<KEY>, or MODEMBRIDGE_MODEM_<ID>_<KEY> for a
    key of the modem with that id (every character of the id other than a letter, digit or _ becomes _)."""
    if modem is not None:
        dotted = "modem." + re.sub(r"\W", "_", modem) + "." + dotted
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def _join(prefix: str, name: object) -> str:
    return f"{prefix}.{name}" if prefix else str(name)


def _dotted(keys: tuple[str | int, ...]) -> str:
    out = ""
    for k in keys:
        out = f"{out}[{k}]" if isinstance(k, int) else _join(out, k)
    return out


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
             dict: "a table"}
    shown = isinstance(value, int | float | str) and not isinstance(value, bool)
    return names.get(type(value), type(value).__name__) + (f" ({value!r})" if shown else "")


