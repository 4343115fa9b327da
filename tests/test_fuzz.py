"""Coverage-guided fuzzing of the parser and the header reader, for a bounded time (atheris,
seeded with every bundled spec and header). A crash is a failing test, with libFuzzer's
report and the crashing input in its output."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SECONDS = int(os.environ.get("UAPI_FUZZ_SECONDS", "20"))


@pytest.mark.parametrize("target", ["spec", "header"])
def test_fuzz_target_finds_no_crash(target, tmp_path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = (ROOT / "spec").rglob("*.uapi" if target == "spec" else "*.h")
    for index, seed in enumerate(sorted(seeds)):
        shutil.copy(seed, corpus / f"seed-{index}")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "fuzz_targets.py"),
            target,
            str(corpus),
            f"-max_total_time={SECONDS}",
            "-rss_limit_mb=2048",
            "-timeout=10",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr  # it ran to its time limit
