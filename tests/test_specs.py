"""The project's own specs and the normative examples self-check through `# expect:`."""

from __future__ import annotations

from tests.conftest import EXAMPLES, ROOT, needs_examples, run_cli
from validator.pipeline.engine import check_paths
from validator.pipeline.selftest import FAILED, PASSED, compare


def test_bundled_spec_self_checks() -> None:
    result = run_cli("test", str(ROOT / "spec"))
    assert result.returncode == 0, result.stdout
    assert " 0 failed" in result.stdout.splitlines()[-1]


def test_bundled_spec_has_the_firmware_registers() -> None:
    report = check_paths([str(ROOT / "spec")])
    registers = {name for spec in report.specs for name in spec.registers}
    assert {
        "KVM_REG_ARM_PSCI_VERSION",
        "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1",
        "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2",
        "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3",
        "KVM_REG_ARM_STD_BMAP",
        "KVM_REG_ARM_STD_HYP_BMAP",
        "KVM_REG_ARM_VENDOR_HYP_BMAP",
    } <= registers


@needs_examples
def test_errors_example_matches_exactly() -> None:
    result = run_cli("test", str(EXAMPLES / "errors.uapi"))
    assert result.returncode == 0 and result.stdout.startswith("PASS")


@needs_examples
def test_every_other_example_has_no_e_code() -> None:
    others = [p for p in sorted(EXAMPLES.glob("*.uapi")) if p.name != "errors.uapi"]
    report = check_paths([str(p) for p in others])
    assert not [f for f in report.findings if f.code.startswith("E")]


@needs_examples
def test_examples_match_but_for_the_diff_mode_codes() -> None:
    report = check_paths([str(EXAMPLES)])
    results = compare(report, {})
    for result in results:
        assert result.status in (PASSED, FAILED)
        real = list(result.mismatches)
        # The diff example may differ only by the diff-mode codes it needs.
        if "asymmetric" in result.path:
            real = [m for m in real if m.code not in ("A302",)]
        assert not real, (result.path, real)
