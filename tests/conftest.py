"""Shared helpers: tests read like specifications (`codes(check(src)) == {...}`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from validator.model.findings import Finding
from validator.pipeline.engine import Report, check_paths

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXAMPLES = SHARED / "dsl" / "examples"
SARIF_SCHEMA = SHARED / "data" / "sarif-schema-2.1.0.json"
JUNIT_SCHEMA = SHARED / "data" / "junit-10.xsd"

needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/dsl/examples is not beside the project")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def check_files(*paths: Path) -> Report:
    return check_paths([str(p) for p in paths])


def findings(src: str, tmp_path: Path, name: str = "spec.uapi") -> tuple[Finding, ...]:
    """Check one spec given as text."""
    return check_files(write(tmp_path, name, src)).findings


def codes(found: tuple[Finding, ...] | Report) -> set[str]:
    items = found.findings if isinstance(found, Report) else found
    return {f.code for f in items if f.suppressed is None}


def at(found: tuple[Finding, ...], code: str) -> list[tuple[int, int]]:
    """(line, column) of each finding with the code."""
    return [(f.span.line, f.span.column) for f in found if f.code == code]


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: a fresh process, `python -m validator`."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NO_COLOR", None) if env is None or "NO_COLOR" not in env else None
    return subprocess.run(
        [sys.executable, "-m", "validator", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=120,
    )


# A minimal well-formed header most tests start from.
PRELUDE = """api "test/arch" version "2.0"

lock vm_lock   : vm
lock vcpu_lock : vcpu

interface one_reg : vcpu {
  get  KVM_GET_ONE_REG
  set  KVM_SET_ONE_REG
  list KVM_GET_REG_LIST
  lock vcpu_lock
}

interface vm_attr : vm {
  get  KVM_GET_DEVICE_ATTR
  set  KVM_SET_DEVICE_ATTR
  has  KVM_HAS_DEVICE_ATTR
}
"""
