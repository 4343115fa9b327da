"""The repository's pre-commit hooks (.pre-commit-hooks.yaml) run by pre-commit itself, as
the README configures them: pinned to a commit hash, on a good file and on a bad one."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.conftest import EXAMPLES, ROOT, write

PRE_COMMIT = shutil.which("pre-commit")


def _git(folder, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed (pip install '.[test]' installs it)")
def test_the_hooks_pass_a_good_file_and_fail_a_bad_one(tmp_path) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout: pre-commit needs a commit to pin")
    revision = _git(ROOT, "rev-parse", "HEAD")
    if _git(ROOT, "status", "--porcelain", "--", ".pre-commit-hooks.yaml", "pyproject.toml", "validator"):
        pytest.skip("uncommitted changes to the hooks or the package: pre-commit installs the commit")
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    config = f"repos:\n  - repo: {ROOT}\n    rev: {revision}\n    hooks:\n      - id: uapi-validator\n      - id: uapi-validator-fmt\n"
    write(work, ".pre-commit-config.yaml", config)
    good = (EXAMPLES / "hypercall-bitmaps-vm-fd.uapi") if EXAMPLES.is_dir() else None
    if good is None:
        pytest.skip("../shared/dsl/examples is not beside the project")
    # The shipped example whose fmt check failed before; and a bad copy, mis-laid and with an error.
    write(work, "good.uapi", good.read_text().replace("# baseline: hypercall-bitmaps.uapi\n", ""))
    write(work, "bad.uapi", 'api "kvm/arm64"   version "6.1"\nlock l : vm\nregister R {\n  widht 64\n}\n')
    _git(work, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PRE_COMMIT, "run", "--files", *files], cwd=work, capture_output=True, text=True, env=env, timeout=600
        )

    passed = run("good.uapi")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.count("Passed") == 2
    failed = run("bad.uapi")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "E101" in failed.stdout and failed.stdout.count("Failed") >= 1
