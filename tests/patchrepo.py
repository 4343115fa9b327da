"""A small kernel-like git repository for the check-patch tests: the trimmed UAPI tree of
tests/data/kernel-uapi and the bundled arm64 specs, committed with fixed names and dates, so
that its commits (and the `base-commit:` of the patch fixtures) are the same everywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

UAPI = ROOT / "tests" / "data" / "kernel-uapi"
PATCHES = ROOT / "tests" / "data" / "patches"
FIXED = {
    "GIT_AUTHOR_NAME": "A Developer",
    "GIT_AUTHOR_EMAIL": "dev@example.org",
    "GIT_COMMITTER_NAME": "A Developer",
    "GIT_COMMITTER_EMAIL": "dev@example.org",
    "GIT_AUTHOR_DATE": "2026-11-30T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-11-30T12:00:00+00:00",
}


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, **FIXED, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, input=stdin, check=True)
    return done.stdout


def make_repository(into: Path) -> Path:
    """The repository at its base commit."""
    into.mkdir(parents=True, exist_ok=True)
    git(into, "init", "-q", "-b", "master")
    for path in UAPI.rglob("*.h"):
        target = into / path.relative_to(UAPI)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for name in ("common.uapi", "firmware.uapi"):
        target = into / "spec" / "kvm" / "arm64" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "spec" / "kvm" / "arm64" / name, target)
    (into / "README").write_text("A kernel tree, trimmed to its KVM UAPI headers and specs.\n")
    git(into, "add", ".")
    git(into, "commit", "-q", "-m", "base: the UAPI headers of Linux 6.12 and the arm64 specs")
    return into
