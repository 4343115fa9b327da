"""Grounding in the kernel: crosscheck, import and the register list, on the real installed
UAPI headers (arm64's from the cross compiler's copies, x86's from /usr/include, riscv's
from linux-libc-dev-riscv64-cross), and on small headers where a test needs one fixed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import gcc_oracle
from tests.conftest import ROOT, run_cli, write
from validator.kernel.cfront import read_c_headers
from validator.kernel.crosscheck import header_registers, register_family
from validator.kernel.reglist import RegisterListError, _elements, read_register_lists

ARM64 = "/usr/aarch64-linux-gnu/include"
X86 = ["/usr/include", "/usr/include/x86_64-linux-gnu"]
RISCV = "/usr/riscv64-linux-gnu/include"
ARM64_ARGS = ["--header", "<linux/kvm.h>", "-I", ARM64]
FORM = ROOT / "tests" / "data" / "cheaders" / "get-reg-list-form.c"
# A kernel tree (.ci/kernel-source extracts Debian's linux-source), for the selftest itself.
TREE = os.environ.get("UAPI_KERNEL_TREE", "")


def _needs(directory: str) -> None:
    if not Path(directory, "linux", "kvm.h").is_file():
        pytest.skip(f"{directory}/linux/kvm.h is not installed (linux-libc-dev and its -cross copies)")


@pytest.mark.parametrize(
    ("value", "family"),
    [
        (0x6030_0000_0014_0000, "arm64/firmware"),
        (0x6030_0000_0016_0002, "arm64/bitmap"),
        (0x6030_0000_0013_DF19, "arm64/timer"),
        (0x6030_0000_0013_C020, "arm64/sysreg"),
        (0x6030_0000_0010_0040, "arm64/core"),
        (0x6060_0000_0015_FFFF, "arm64/sve"),
        (0x8030_0000_0700_0000, "riscv/isa_ext"),
        (0x2030_0002_0000_0011, "x86/msr"),
        (0x6000_0000_0000_0000, None),  # KVM_REG_ARM64: an architecture, not a register
        (0xFF00_0000_0000_0000, None),  # KVM_REG_ARCH_MASK
        (0x0030_0000_0000_0000, None),  # KVM_REG_SIZE_U64
        (0x0000_0000_0FFF_0000, None),  # KVM_REG_ARM_COPROC_MASK
        (0x6030_0000_0000_0001, None),  # no group
        (0x60F0_0000_0014_0000, None),  # a size field past 2048 bits
    ],
)
def test_register_families_never_take_an_architecture_id_or_a_mask(value, family) -> None:
    assert register_family(value) == family


def test_the_real_arm64_headers_give_the_real_ids_by_family() -> None:
    _needs(ARM64)
    registers = header_registers(read_c_headers(["<linux/kvm.h>"], [ARM64], "aarch64"))
    ids = {name: value for name, (value, _) in registers.by_name.items()}
    assert ids["KVM_REG_ARM_PSCI_VERSION"] == 0x6030_0000_0014_0000
    assert ids["KVM_REG_ARM_VENDOR_HYP_BMAP"] == 0x6030_0000_0016_0002
    assert ids["KVM_REG_ARM_TIMER_CTL"] == 0x6030_0000_0013_DF19
    assert ids["KVM_REG_ARM_TIMER_CNT"] == 0x6030_0000_0013_DF1A  # CVAL's encoding, kept as ABI
    assert ids["KVM_REG_ARM64_SVE_VLS"] == 0x6060_0000_0015_FFFF
    assert ids["KVM_REG_ARM_CORE_REG(regs.pc)"] == 0x6030_0000_0010_0040
    assert ids["KVM_REG_ARM_CORE_REG(fp_regs.vregs[31])"] == 0x6040_0000_0010_00D0
    assert "KVM_REG_ARM64" not in ids and "KVM_REG_ARCH_MASK" not in ids and "KVM_REG_SIZE_U64" not in ids
    families = sorted(set(registers.families.values()))
    assert families == ["arm64/bitmap", "arm64/core", "arm64/firmware", "arm64/sve", "arm64/timer"]
    assert sum(f == "arm64/core" for f in registers.families.values()) == 75  # as get-reg-list lists them
    assert sum(f == "arm64/sve" for f in registers.families.values()) == 50  # VLS, 32 Z, 16 P, FFR
    assert ids["KVM_REG_ARM64_SVE_ZREG(31, 0)"] == 0x6080_0000_0015_03E0


def test_the_real_riscv_headers_give_their_families() -> None:
    _needs(RISCV)
    registers = header_registers(read_c_headers(["<linux/kvm.h>"], [RISCV], "riscv64"))
    ids = {name: value for name, (value, _) in registers.by_name.items()}
    assert ids["KVM_REG_RISCV_CORE_REG(regs.pc)"] == 0x8030_0000_0200_0000
    assert ids["KVM_REG_RISCV_CONFIG_REG(isa)"] == 0x8030_0000_0100_0000
    assert ids["KVM_RISCV_ISA_EXT_A"] == 0x8030_0000_0700_0000
    families = set(registers.families.values())
    assert {"riscv/config", "riscv/core", "riscv/csr", "riscv/timer", "riscv/isa_ext"} <= families


def test_a_riscv_spec_cross_checks_with_the_installed_riscv_headers(tmp_path) -> None:
    _needs(RISCV)
    spec = write(
        tmp_path,
        "riscv.uapi",
        'api "kvm/riscv" version "6.1"\ninterface one_reg : vcpu {\n  get KVM_GET_ONE_REG\n  set KVM_SET_ONE_REG\n'
        "  list KVM_GET_REG_LIST\n}\nregister KVM_RISCV_ISA_EXT_A {\n  id 0x8030_0000_0700_0000\n  width 64\n}\n"
        "register KVM_RISCV_ISA_EXT_C {\n  id 0x8030_0000_0700_0009\n  width 64\n}\n",
    )
    result = run_cli("crosscheck", str(spec), "--header", "<linux/kvm.h>", "-I", RISCV, "--format", "json")
    findings = json.loads(result.stdout)["findings"]
    # C is ISA extension 1, not 9: the header's value is told; A agrees; the other extensions
    # of the family the spec covers are missing from it.
    [wrong] = [f for f in findings if f["code"] == "E111"]
    assert "the header's KVM_RISCV_ISA_EXT_C is 0x8030000007000001" in wrong["message"]
    assert {f["code"] for f in findings} == {"E111", "H901"} and result.returncode == 1


def test_crosscheck_finds_a_deliberately_wrong_id(tmp_path) -> None:
    _needs(ARM64)
    spec = (ROOT / "spec/kvm/arm64/firmware.uapi").read_text().replace("0x6030_0000_0014_0002", "0x6030_0000_0014_0009")
    write(tmp_path, "common.uapi", (ROOT / "spec/kvm/arm64/common.uapi").read_text())
    path = write(tmp_path, "firmware.uapi", spec)
    result = run_cli("crosscheck", str(path), *ARM64_ARGS, "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    [wrong] = [f for f in document["findings"] if f["code"] == "E111"]
    assert wrong["subject"] == "register/KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2"
    assert "the header's KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2 is 0x6030000000140002" in wrong["message"]
    assert wrong["related"][0]["path"] == f"{ARM64}/asm/kvm.h"


def test_the_bundled_arm64_spec_cross_checks_with_the_installed_headers() -> None:
    _needs(ARM64)
    result = run_cli("crosscheck", str(ROOT / "spec/kvm/arm64"), *ARM64_ARGS, "--format", "json")
    findings = [f for f in json.loads(result.stdout)["findings"] if "suppressed" not in f]
    codes = {f["code"] for f in findings}
    assert not codes & {"E111", "E112", "E113", "H903", "H904", "H905"}, findings
    # What the spec lacks (the physical timer, most core registers) is told; the ID
    # registers are not "missing from the header": it defines no system register family
    # (the selftest builds them with ARM64_SYS_REG()), so it has no word on them.
    subjects = {f["subject"] for f in findings if f["code"] in ("H901", "H902")}
    assert "header/KVM_REG_ARM_PTIMER_CTL" in subjects and "register/ID_AA64PFR0_EL1" not in subjects
    assert "header/KVM_REG_ARM_CORE_REG(regs.regs[1])" in subjects


def test_the_bundled_x86_spec_cross_checks_its_capabilities_and_ioctls() -> None:
    _needs(X86[0])
    args = ["--header", "<linux/kvm.h>", "-I", X86[0], "-I", X86[1]]
    result = run_cli("crosscheck", str(ROOT / "spec/kvm/x86"), *args, "--format", "json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["findings"] == []


def test_misspelled_names_and_wrong_bits_are_told_against_the_real_headers(tmp_path) -> None:
    _needs(ARM64)
    spec = write(
        tmp_path,
        "s.uapi",
        'api "kvm/arm64" version "6.1"\n'
        "capability KVM_CAP_ARM_PSCI_02 : vm {\n  kind query\n}\n"
        "interface one_reg : vcpu {\n  get KVM_GET_ONE_REG\n  set KVM_SET_ONEREG\n}\n"
        "register KVM_REG_ARM_VENDOR_HYP_BMAP {\n  id 0x6030_0000_0016_0002\n  width 64\n"
        "  reserved reject EINVAL\n  bits {\n    0 FUNC_FEAT\n    3 PTP\n  }\n}\n",
    )
    result = run_cli("crosscheck", str(spec), *ARM64_ARGS, "--format", "json")
    found = {(f["code"], f["line"]): f for f in json.loads(result.stdout)["findings"] if f["code"] != "H901"}
    assert set(found) == {("H903", 2), ("H904", 7), ("H905", 15)}
    assert found[("H903", 2)]["hint"] == "did you mean KVM_CAP_ARM_PSCI_0_2?"
    assert found[("H904", 7)]["hint"] == "did you mean KVM_SET_ONE_REG?"
    assert (
        "bit PTP is 3 in the spec, 1 in the header's KVM_REG_ARM_VENDOR_HYP_BIT_PTP" in found[("H905", 15)]["message"]
    )


def test_crosscheck_usage_errors(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", "lock l : vm\n")
    assert run_cli("crosscheck", str(path), "--header", str(tmp_path / "none.h")).returncode == 2
    assert run_cli("crosscheck", str(path)).returncode == 2  # --header is required
    result = run_cli("crosscheck", str(path), "--header", "<linux/kvm.h>", "-I", str(tmp_path / "no-dir"))
    assert result.returncode == 2 and "no such directory" in result.stderr


def test_a_header_that_cannot_be_read_is_one_line_or_e113_never_silence(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", 'api "kvm/arm64" version "6.1"\nlock l : vm\n')
    result = run_cli("crosscheck", str(path), "--header", "<linux/kvm.h>", "--format", "json")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "#include <linux/kvm.h>: not found; add -I DIR" in result.stderr
    # Named by the spec itself, it is a finding at the directive's line.
    write(tmp_path, "spec/needs.h", "#include <linux/types.h>\n")
    directive = write(tmp_path, "spec/d.uapi", "# header: needs.h\nlock l : vm\n")
    result = run_cli("check", str(directive), "--format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert result.returncode == 1 and (finding["code"], finding["line"]) == ("E113", 1)
    assert finding["message"].startswith("the headers cannot be read: needs.h:1: #include <linux/types.h>")


def test_header_directive_may_not_leave_the_spec_root(tmp_path) -> None:
    write(tmp_path, "secret.h", "#define KVM_REG_SECRET 0x6030000000140000\n")
    path = write(tmp_path, "spec/s.uapi", "# header: ../secret.h\nlock l : vm\n")
    result = run_cli("check", str(tmp_path / "spec"), "--format", "json")
    assert [(f["code"], f["line"]) for f in json.loads(result.stdout)["findings"]] == [("E109", 1)]
    assert "SECRET" not in result.stdout and path.is_file()


def test_import_selects_by_family_and_writes_a_spec_that_parses(tmp_path) -> None:
    _needs(ARM64)
    out = tmp_path / "fw.uapi"
    result = run_cli("import", *ARM64_ARGS, "--family", "arm64/firmware", "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "register KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 {" in text and "  id       0x6030000000140001" in text
    assert "KVM_REG_ARM64 " not in text and "COPROC" not in text
    check = json.loads(run_cli("check", str(out), "--format", "json").stdout)
    assert sorted({f["code"] for f in check["findings"]}) == ["D803"]
    core = tmp_path / "core.uapi"
    assert run_cli("import", *ARM64_ARGS, "--family", "arm64/core", "-o", str(core)).returncode == 0
    text = core.read_text()
    assert text.count("\nregister ") == 75 and "register KVM_REG_ARM_CORE_REG_REGS_PC {" in text
    assert json.loads(run_cli("check", str(core), "--format", "json").stdout)["summary"]["error"] == 0


def test_import_says_which_header_is_missing_when_no_id_resolves(tmp_path) -> None:
    _needs(ARM64)
    result = run_cli("import", "--header", f"{ARM64}/asm/kvm.h", "-I", ARM64, "--prefix", "KVM_REG_ARM_SMCCC")
    assert result.returncode == 2
    assert "KVM_REG_ARM64" in result.stderr and "add --header <linux/kvm.h>" in result.stderr
    result = run_cli("import", *ARM64_ARGS, "--family", "riscv/csr")
    assert result.returncode == 2 and "the headers define register ids of arm64/bitmap" in result.stderr
    assert run_cli("import", *ARM64_ARGS).returncode == 2  # a family or a prefix is required


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


def test_export_reglist_as_c_reads_back_without_headers(tmp_path) -> None:
    text = run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--format", "c").stdout
    assert (
        "static __u64 uapi_reglist[] = {" in text and "\t0x6030000000140000ULL,\t/* KVM_REG_ARM_PSCI_VERSION */" in text
    )
    checked = write(tmp_path, "list.c", text)
    assert run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--check", str(checked)).returncode == 0


def test_the_selftest_form_is_evaluated_as_gcc_evaluates_it(tmp_path) -> None:
    _needs(ARM64)
    if gcc_oracle.available("aarch64"):
        pytest.skip(gcc_oracle.available("aarch64"))
    listed = read_register_lists(FORM.read_text(), str(FORM), ["<linux/kvm.h>"], [ARM64], "aarch64")
    assert [r.array for r in listed] == ["base_regs"] * 9 + ["sve_regs"] * 4
    assert listed[3].name == "KVM_REG_ARM_PSCI_VERSION" and listed[3].line == 18
    # gcc, given the same headers and the file's own #defines, computes the same ids.
    text = FORM.read_text()
    form_defines = tmp_path / "form.h"
    form_defines.write_text(text[text.index("#define REG_MASK") : text.index("static __u64")])
    elements = [expression for _, _, expression, _ in _elements(text)]
    entries = [gcc_oracle.Entry(f"e{k}", (expression,)) for k, expression in enumerate(elements)]
    truth = gcc_oracle.evaluate("aarch64", ["<linux/kvm.h>", f'"{form_defines}"'], entries, tmp_path)
    assert [truth[f"e{k}"][0] for k in range(len(elements))] == [r.id for r in listed]


def test_a_selftest_element_that_cannot_be_evaluated_is_an_error_at_its_line(tmp_path) -> None:
    _needs(ARM64)
    broken = write(tmp_path, "get-reg-list.c", FORM.read_text().replace("ARM64_SYS_REG(3, 0, 0, 4, 0)", "NO_SUCH(3)"))
    result = run_cli("export", "reglist", str(ROOT / "spec/kvm/arm64"), "--check", str(broken), *ARM64_ARGS)
    assert result.returncode == 2
    assert f"{broken}:21: cannot evaluate `NO_SUCH(3)` in base_regs[]" in result.stderr
    with pytest.raises(RegisterListError, match="name the headers that define it"):
        read_register_lists(FORM.read_text(), str(FORM), [], [], "aarch64")


def test_the_subset_mode_compares_only_the_families_the_spec_covers(tmp_path) -> None:
    _needs(ARM64)
    spec = write(
        tmp_path,
        "fw.uapi",
        'api "kvm/arm64" version "6.1"\ninterface one_reg : vcpu {\n  get KVM_GET_ONE_REG\n  set KVM_SET_ONE_REG\n'
        "  list KVM_GET_REG_LIST\n}\n"
        + "".join(
            f"register R{k} {{\n  id 0x6030_0000_0014_000{k}\n  width 64\n  scope vm\n  via one_reg\n  migrate yes\n}}\n"
            for k in (0, 1)
        ),
    )
    whole = run_cli("export", "reglist", str(spec), "--check", str(FORM), *ARM64_ARGS)
    assert whole.returncode == 1 and "vanished  0x603000000013c020  ID_AA64PFR0_EL1" in whole.stdout  # ID_AA64PFR0_EL1
    subset = run_cli("export", "reglist", str(spec), "--check", str(FORM), *ARM64_ARGS, "--subset")
    assert subset.returncode == 0, subset.stdout
    assert "matches" in subset.stdout and "in the families arm64/firmware" in subset.stdout


@pytest.mark.skipif(not TREE, reason="no kernel tree (UAPI_KERNEL_TREE; .ci/kernel-source extracts one)")
@pytest.mark.parametrize(("arch", "abi", "count"), [("aarch64", "aarch64", 382), ("riscv", "riscv64", 146)])
def test_the_kernels_own_get_reg_list_is_read(arch, abi, count) -> None:
    source = Path(TREE, "tools/testing/selftests/kvm", arch, "get-reg-list.c")
    uapi = [f"{TREE}/include/uapi", f"{TREE}/arch/{'arm64' if arch == 'aarch64' else arch}/include/uapi"]
    listed = read_register_lists(source.read_text(), str(source), ["<linux/kvm.h>"], uapi, abi)
    assert len({r.id for r in listed}) == count
    assert all(register_family(r.id) is not None for r in listed)
