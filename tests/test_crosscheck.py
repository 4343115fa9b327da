"""Grounding in the kernel: C header macros, crosscheck, import, and the register list."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, run_cli, write
from validator.kernel.cheader import Header, Unreadable, evaluate, read_headers
from validator.kernel.crosscheck import header_registers

HEADER = ROOT / "spec" / "kvm" / "arm64" / "kvm-uapi.h"  # reproduces the kernel's macros; cites them


def macros(tmp_path, text: str) -> Header:
    return read_headers([str(write(tmp_path, "h.h", text))])


def test_the_kernels_register_macros_evaluate_to_the_real_ids() -> None:
    registers = header_registers(read_headers([str(HEADER)])).by_name
    # The values the kernel's own macros produce (token pasting, __VA_ARGS__, ULL, shifts).
    assert registers["KVM_REG_ARM_PSCI_VERSION"][0] == 0x6030_0000_0014_0000
    assert registers["KVM_REG_ARM_VENDOR_HYP_BMAP"][0] == 0x6030_0000_0016_0002
    assert registers["KVM_REG_ARM_TIMER_CTL"][0] == 0x6030_0000_0013_DF19
    assert registers["KVM_REG_ARM_TIMER_CNT"][0] == 0x6030_0000_0013_DF1A  # CVAL's encoding, kept as ABI
    assert registers["KVM_REG_ARM64_SVE_VLS"][0] == 0x6060_0000_0015_FFFF


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("#define A (1ULL << 63)\n", "A", 1 << 63),
        ("#define A ((__u64)0x10 | 0x1u)\n", "A", 0x11),
        ("#define B 3\n#define A (B + 2) * 2 - ~0 % 7\n", "A", 10 - (((1 << 64) - 1) % 7)),
        ("#define F(x, y) ((x) << (y))\n#define A F(1, 4)\n", "A", 16),
        ("#define V(...) (G(__VA_ARGS__) | 1)\n#define G(a, b) ((a) << (b))\n#define A V(1, 8)\n", "A", 257),
        ("#define X_ONE_SHIFT 4\n#define P(v, n) ((v) << X_ ## n ## _SHIFT)\n#define A P(1, ONE)\n", "A", 16),
        ("#define A (1 << \\\n 2) /* comment */ // more\n", "A", 4),
        ("#define A A\n", "A", None),  # self-reference stays a name: unreadable, not a hang
        ("#define A offsetof(struct kvm_regs, pc)\n", "A", None),
        ("#define A (1 / 0)\n", "A", None),
        ("#define A (1 << 1000)\n", "A", None),
    ],
)
def test_macro_evaluation(tmp_path, text, name, value) -> None:
    assert macros(tmp_path, text).value(name) == value


def test_no_expression_is_executed(tmp_path) -> None:
    header = macros(tmp_path, "#define A __import__('os').system('false')\n")
    with pytest.raises(Unreadable):
        evaluate(header, header.macros["A"].body)


def test_crosscheck_finds_a_deliberately_wrong_id(tmp_path) -> None:
    spec = (ROOT / "spec/kvm/arm64/firmware.uapi").read_text().replace("0x6030_0000_0014_0002", "0x6030_0000_0014_0009")
    write(tmp_path, "common.uapi", (ROOT / "spec/kvm/arm64/common.uapi").read_text())
    path = write(tmp_path, "firmware.uapi", spec)
    result = run_cli("crosscheck", str(path), "--header", str(HEADER), "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    [wrong] = [f for f in document["findings"] if f["code"] == "E111"]
    assert wrong["subject"] == "register/KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2"
    assert "the header's KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2 is 0x6030000000140002" in wrong["message"]
    assert wrong["related"][0]["path"] == str(HEADER)
    assert document["notes"] == [f"{HEADER}: 1 macro(s) could not be evaluated and were skipped"]


def test_bundled_spec_cross_checks_without_errors() -> None:
    result = run_cli("crosscheck", str(ROOT / "spec/kvm/arm64"), "--header", str(HEADER), "--format", "json")
    codes = {f["code"] for f in json.loads(result.stdout)["findings"] if "suppressed" not in f}
    assert "E111" not in codes and "E112" not in codes  # the timer's E112s are suppressed with their reason
    # What the header lacks (the ID registers) and what the spec lacks (the physical timer) are told.
    subjects = {f["subject"] for f in json.loads(result.stdout)["findings"] if f["code"] in ("H901", "H902")}
    assert "register/ID_AA64PFR0_EL1" in subjects and "header/KVM_REG_ARM_PTIMER_CTL" in subjects


def test_crosscheck_usage_errors(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", "lock l : vm\n")
    assert run_cli("crosscheck", str(path), "--header", str(tmp_path / "none.h")).returncode == 2
    assert run_cli("crosscheck", str(path)).returncode == 2  # --header is required


def test_header_directive_may_not_leave_the_spec_root(tmp_path) -> None:
    write(tmp_path, "secret.h", "#define KVM_REG_SECRET 0x6030000000140000\n")
    path = write(tmp_path, "spec/s.uapi", "# header: ../secret.h\nlock l : vm\n")
    result = run_cli("check", str(tmp_path / "spec"), "--format", "json")
    assert [(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]] == [("E109", 1)]
    assert "SECRET" not in result.stdout and path.is_file()


def test_import_writes_a_spec_that_parses_and_lists_its_todos(tmp_path) -> None:
    out = tmp_path / "fw.uapi"
    result = run_cli("import", "--header", str(HEADER), "--prefix", "KVM_REG_ARM_FW", "-o", str(out))
    assert result.returncode == 2 and "no register id macro" in result.stderr  # KVM_REG_ARM_FW itself is no id
    result = run_cli("import", "--header", str(HEADER), "--prefix", "KVM_REG_ARM_SMCCC", "-o", str(out))
    assert result.returncode == 0
    text = out.read_text()
    assert "register KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 {" in text and "  id       0x6030000000140001" in text
    check = json.loads(run_cli("check", str(out), "--format", "json").stdout)
    assert sorted({f["code"] for f in check["findings"]}) == ["D803"]
    assert [f["message"] for f in check["findings"]] == ["to do: the kernel version under review"] + [
        "to do: scope, via, migrate, writable, since"
    ] * 3


def test_export_reglist_round_trips_the_ids_of_the_spec(tmp_path) -> None:
    listed = tmp_path / "reglist.txt"
    assert run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "-o", str(listed)).returncode == 0
    lines = [line for line in listed.read_text().splitlines() if not line.startswith("#")]
    ids = [int(line.split()[0], 16) for line in lines]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 18  # firmware 7, core 3, timer 3, ID registers 5
    assert "0x6030000000140000  # KVM_REG_ARM_PSCI_VERSION" in lines
    assert not any("VM_COUNTER_OFFSET" in line or "PMU_V3_FILTER" in line for line in lines)  # not listed
    check = run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--check", str(listed))
    assert check.returncode == 0 and "matches" in check.stdout


def test_export_reglist_check_reports_drift(tmp_path) -> None:
    listed = tmp_path / "reglist.txt"
    run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "-o", str(listed))
    lines = listed.read_text().splitlines()
    gone = next(line for line in lines if "KVM_REG_ARM_STD_BMAP" in line)
    edited = [line for line in lines if line != gone] + ["0x6030000000149999  # KVM_REG_OLD_REMOVED"]
    listed.write_text("\n".join(edited) + "\n")
    result = run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--check", str(listed))
    assert result.returncode == 1
    assert (
        "  vanished  0x6030000000149999  KVM_REG_OLD_REMOVED: a saved VM that has it no longer restores"
        in result.stdout
    )
    assert "  appeared  0x6030000000160000  KVM_REG_ARM_STD_BMAP" in result.stdout


def test_export_reglist_as_c(tmp_path) -> None:
    text = run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--format", "c").stdout
    assert (
        "static __u64 uapi_reglist[] = {" in text and "\t0x6030000000140000ULL,\t/* KVM_REG_ARM_PSCI_VERSION */" in text
    )
    checked = write(tmp_path, "list.c", text)
    assert run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--check", str(checked)).returncode == 0
