"""Where the tool's data lives: grammar/, templates/ and the bundled spec/.

In a source checkout they sit at the top level of the repository; an installed wheel carries
them as `validator/_data/<name>`. This module is the only one that knows either place.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # validator/, above frontend/
_SOURCE_ROOT = _PACKAGE.parent


@cache
def data_dir(name: str) -> Path:
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    return _SOURCE_ROOT / name


def grammar_file() -> Path:
    return data_dir("grammar") / "uapi.lark"


def templates_dir() -> Path:
    return data_dir("templates")


def bundled_spec_dir() -> Path:
    """Every bundled spec: the KVM specs and the rules' examples (what `test` runs)."""
    return data_dir("spec")


def bundled_kvm_spec_dir() -> Path:
    """The specs of real KVM UAPI (what `check` runs by default)."""
    return data_dir("spec") / "kvm"


def rule_examples_dir() -> Path:
    return data_dir("spec") / "rules"
