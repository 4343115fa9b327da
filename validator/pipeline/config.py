"""Configuration: which rules run and at what severity.

Read from `--config FILE`, else from the nearest `uapi-validator.toml` or `pyproject.toml`
with a `[tool.uapi-validator]` table, searching upward from the first spec path:

    paths    = ["spec/"]              # what `check`, `test` and `review` read when given no path
    select   = ["S", "A301"]          # codes, names or family prefixes (default: all)
    ignore   = ["new-listed-state"]
    [severity]                        # in pyproject.toml: [tool.uapi-validator.severity]
    S202 = "error"
"""

from __future__ import annotations

import fnmatch
from dataclasses import field
from pathlib import Path
from typing import Any

from validator.frontend import textfile
from validator.model.findings import SEVERITIES
from validator.model.frozen import frozen
from validator.rules import BY_CODE, BY_NAME

KEYS = ("paths", "select", "ignore", "severity", "fmt-exclude")


class ConfigError(Exception):
    pass


@frozen
class Config:
    """The project's settings: which rules run, at what severity."""

    select: tuple[str, ...] = ()  # code prefixes; empty: every rule
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)  # code -> severity
    source: str | None = None
    fmt_exclude: tuple[str, ...] = ()  # globs, relative to the configuration file, `fmt` leaves alone
    paths: tuple[str, ...] = ()  # relative to the configuration file: what to check by default

    def default_paths(self) -> list[str]:
        """`paths`, as paths from the configuration file's folder."""
        if not self.source:
            return []
        base = Path(self.source).parent
        return [str(base / p) for p in self.paths]

    def excluded_from_fmt(self, path: str) -> bool:
        if not self.source:
            return False
        base = Path(self.source).resolve().parent
        try:
            relative = Path(path).resolve().relative_to(base).as_posix()
        except ValueError:
            return False
        return any(fnmatch.fnmatch(relative, pattern) for pattern in self.fmt_exclude)


def find_config(start: Path) -> Path | None:
    """The nearest configuration file at or above `start`."""
    found = _nearest(start)
    return None if found is None else found[0]


def config_for(start: Path) -> Config:
    """The nearest configuration at or above `start`, each file read once."""
    found = _nearest(start)
    if found is None:
        return Config()
    path, table = found
    return load_config(path) if table is None else _parse(table, str(path))


def _nearest(start: Path) -> tuple[Path, dict[str, Any] | None] | None:
    """The nearest configuration file, with its table where it is a pyproject.toml (which is
    read to know whether it has one); a uapi-validator.toml is not read here."""
    folder = start if start.is_dir() else start.parent
    for candidate in (folder.resolve(), *folder.resolve().parents):
        own = candidate / "uapi-validator.toml"
        if own.is_file():
            return own, None
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and (table := _pyproject_table(pyproject)) is not None:
            return pyproject, table
    return None


def _pyproject_table(path: Path) -> dict[str, Any] | None:
    """`[tool.uapi-validator]` of a pyproject.toml, None where there is none."""
    return _tool_table(_loads(_read_text(path), path), path)


def _tool_table(document: dict[str, Any], path: Path) -> dict[str, Any] | None:
    tool = document.get("tool")
    if not isinstance(tool, dict) or "uapi-validator" not in tool:
        return None
    table = tool["uapi-validator"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.uapi-validator must be a table, not {type(table).__name__}")
    return table


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    if path.name == "pyproject.toml":
        return _parse(_pyproject_table(path) or {}, str(path))
    return _parse(_loads(_read_text(path), path), str(path))


def _read_text(path: Path) -> str:
    try:
        return textfile.read_text(str(path))
    except textfile.FileProblem as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _loads(text: str, path: Path) -> dict[str, Any]:
    import tomllib  # here: most runs find no configuration to read

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not read: nested too deeply") from None


def _parse(table: dict[str, Any], source: str) -> Config:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"{source}: unknown setting {unknown[0]!r} (known: {', '.join(KEYS)})")
    select = tuple(_selector(s, source, "select") for s in _string_list(table.get("select", []), source, "select"))
    ignore = tuple(_selector(s, source, "ignore") for s in _string_list(table.get("ignore", []), source, "ignore"))
    severities = table.get("severity", {})
    if not isinstance(severities, dict):
        raise ConfigError(f'{source}: severity must be a table of CODE = "error|warning|info"')
    severity = {}
    for key, value in severities.items():
        code = _selector(key, source, "severity")
        if code not in BY_CODE:
            raise ConfigError(f"{source}: severity: {key!r} is not a single rule")
        if value not in SEVERITIES:
            raise ConfigError(f"{source}: severity of {key} must be one of {', '.join(SEVERITIES)}, not {value!r}")
        severity[code] = value
    fmt_exclude = tuple(_string_list(table.get("fmt-exclude", []), source, "fmt-exclude"))
    paths = tuple(_string_list(table.get("paths", []), source, "paths"))
    if any(not p or "\0" in p for p in paths):
        raise ConfigError(f"{source}: paths: an empty path or a NUL byte names no spec")
    return Config(select, ignore, severity, source, fmt_exclude, paths)


def _string_list(value: object, source: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        what = "paths" if key in ("paths", "fmt-exclude") else "rule codes, names or prefixes"
        raise ConfigError(f"{source}: {key} must be a list of {what}")
    return value


def as_selector(text: str) -> str | None:
    """A code, a family prefix (`S`, `S2`) or a rule name, as a code prefix; None if it
    names nothing."""
    if text.lower() in BY_NAME:
        return BY_NAME[text.lower()].code
    prefix = text.upper()
    if prefix and any(code.startswith(prefix) for code in BY_CODE):
        return prefix
    return None


def _selector(text: str, source: str, key: str) -> str:
    selector = as_selector(text)
    if selector is None:
        raise ConfigError(f"{source}: {key}: {text!r} names no rule, family or code prefix")
    return selector
