"""Golden files: a few renderings, byte for byte. A change of output shows in the diff of the
golden file, for review; regenerate on purpose with `UAPI_UPDATE_GOLDEN=1 pytest tests/test_golden.py`."""

from __future__ import annotations

import os

import pytest

from tests.conftest import ROOT, run_cli

GOLDEN = ROOT / "tests" / "golden"
S202 = "spec/rules/S202-serialized-restore/fail.uapi"
B606 = "spec/rules/B606-lifecycle-tightened"
# golden file -> the command that renders it, run at the repository's top (relative paths).
CASES: dict[str, tuple[str, ...]] = {
    "check-kvm.txt": ("check", "spec/kvm", "--color", "never"),
    "check-kvm.json": ("check", "spec/kvm", "--format", "json"),
    "check-kvm.sarif": ("check", "spec/kvm", "--format", "sarif"),
    "check-kvm.junit.xml": ("check", "spec/kvm", "--format", "junit"),
    "check-kvm.github": ("check", "spec/kvm", "--format", "github"),
    "review-s202.md": ("review", S202, "--format", "markdown"),
    "review-s202.html": ("review", S202, "--format", "html"),
    "review-s202.eml": ("review", S202, "--format", "email"),
    "diff-b606.json": ("diff", f"{B606}/base.uapi", f"{B606}/fail.uapi", "--format", "json"),
    "simulate-kvm.txt": ("simulate", "spec/kvm"),
    "explain-s202.txt": ("explain", "S202"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendering_matches_its_golden_file(name: str) -> None:
    result = run_cli(*CASES[name], cwd=ROOT)
    assert result.returncode in (0, 1), result.stderr
    # SARIF names the checkout's own folder (%SRCROOT%): the one byte that moves with it.
    rendered = result.stdout.replace(ROOT.resolve().as_uri() + "/", "file:///CHECKOUT/")
    golden = GOLDEN / name
    if os.environ.get("UAPI_UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8", newline="")
    with golden.open(encoding="utf-8", newline="") as expected:
        assert rendered == expected.read()


def test_every_golden_file_has_its_case() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(CASES)
