"""The kernel by experiment: the plan on a fake kernel (no KVM needed), the transport's ioctl
numbers against the installed <linux/kvm.h> (gcc), and `probe` on this machine's /dev/kvm."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT, run_cli
from validator.frontend.load import load_units
from validator.frontend.resolve import resolve
from validator.kernel import kvm
from validator.kernel.conform import (
    Listing,
    absent_capabilities,
    capability_numbers,
    conditional,
    judge_capabilities,
    judge_register,
)
from validator.kernel.experiments import (
    BitFacts,
    Fact,
    Probed,
    bit_ranges,
    judge_scope,
    probe_bits,
    probe_registers,
    probe_table,
    probe_vcpu_value,
    probe_vm_value,
)
from validator.kernel.kvm import Outcome
from validator.kernel.verdicts import (
    CONTRADICTED,
    LIFECYCLE,
    LISTED,
    RESERVED,
    RESET,
    SCOPE,
    UNIFORM,
    UNTESTABLE,
    VERIFIED,
    WIDTH,
    Conformance,
)
from validator.pipeline.engine import conform_units
from validator.simulate.measure import REPEATS, measure_restore

KVM_MISSING = kvm.available()
needs_kvm = pytest.mark.skipif(KVM_MISSING is not None, reason=f"no usable /dev/kvm: {KVM_MISSING}")

VM_REG, VCPU_REG, COUNTER, MASKED, FROZEN = 1, 2, 3, 4, 5


@dataclass
class FakeKernel:
    """Registers of known behaviour: one value per VM, one per vCPU, a counter, one that
    keeps no written value, and one frozen (EBUSY) once a vCPU ran."""

    vm_values: dict[int, int] = field(default_factory=lambda: {VM_REG: 0})
    ran: bool = False
    ticks: int = 0


@dataclass
class FakeVcpu:
    kernel: FakeKernel
    own: dict[int, int] = field(default_factory=lambda: {VCPU_REG: 7, FROZEN: 0})

    def get(self, register_id: int) -> Outcome:
        if register_id == VM_REG:
            return Outcome(self.kernel.vm_values[VM_REG])
        if register_id == COUNTER:
            self.kernel.ticks += 1
            return Outcome(self.kernel.ticks)
        if register_id == MASKED:
            return Outcome(0)
        if register_id not in self.own:
            return Outcome(errno="EINVAL")  # an id of another size: no such register
        return Outcome(self.own[register_id])

    def set(self, register_id: int, value: int) -> Outcome:
        if register_id == VM_REG:
            self.kernel.vm_values[VM_REG] = value
        elif register_id == FROZEN and self.kernel.ran and value != self.own[FROZEN]:
            return Outcome(errno="EBUSY")
        elif register_id in self.own:
            self.own[register_id] = value
        return Outcome()

    def run(self) -> Outcome:
        self.kernel.ran = True
        return Outcome(kvm.KVM_EXIT_HLT)


def test_the_plan_tells_each_kind_of_register_apart() -> None:
    kernel = FakeKernel()
    vcpus = [FakeVcpu(kernel), FakeVcpu(kernel)]
    vm_reg, vcpu_reg, counter, masked, frozen = probe_registers([VM_REG, VCPU_REG, COUNTER, MASKED, FROZEN], vcpus)
    assert (vm_reg.scope.value, vm_reg.uniform.value, vm_reg.reset.value) == ("vm", "last_wins", "0x0")
    assert (vcpu_reg.scope.value, vcpu_reg.uniform, vcpu_reg.reset.value) == ("vcpu", None, "0x7")
    assert vcpu_reg.writable.value == "always"
    assert counter.reset is None and "changes between reads" in counter.unknown[0]
    assert masked.scope is None and "reads back as 0x0" in masked.unknown[0]
    assert frozen.writable.value == "before first_run else EBUSY" and frozen.rewrite.value == "ok"
    # Every value the experiments wrote was put back.
    assert kernel.vm_values[VM_REG] == 0 and [v.own[VCPU_REG] for v in vcpus] == [7, 7]


@pytest.mark.parametrize(
    ("before", "written", "after", "scope"),
    [
        ((0, 0), 0x1000, (0x1000, 0x1000), "vm"),
        ((0, 5), 0x1000, (0x1000, 5), "vcpu"),
        ((0, 0), 0x1000, (0, 0), None),  # the write did not take
        ((0, 5), 0x1000, (0x1000, 9), None),  # vCPU 1 changed to something else
    ],
)
def test_judging_scope(before, written, after, scope) -> None:
    assert judge_scope(before, written, after)[0] == scope


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_the_ioctl_numbers_are_the_installed_headers(tmp_path) -> None:
    names = [
        "KVM_GET_API_VERSION",
        "KVM_CREATE_VM",
        "KVM_GET_MSR_INDEX_LIST",
        "KVM_CHECK_EXTENSION",
        "KVM_GET_VCPU_MMAP_SIZE",
        "KVM_CREATE_VCPU",
        "KVM_SET_USER_MEMORY_REGION",
        "KVM_RUN",
        "KVM_GET_ONE_REG",
        "KVM_SET_ONE_REG",
        "KVM_EXIT_HLT",
    ]
    source = tmp_path / "n.c"
    source.write_text(
        "#include <stdio.h>\n#include <linux/kvm.h>\nint main(void) {\n"
        + "".join(f'  printf("%lu\\n", (unsigned long)({name}));\n' for name in names)
        + "  return 0;\n}\n"
    )
    subprocess.run(["gcc", "-o", str(tmp_path / "n"), str(source)], check=True, capture_output=True)
    printed = subprocess.run([str(tmp_path / "n")], check=True, capture_output=True, text=True).stdout.split()
    assert dict(zip(names, map(int, printed), strict=True)) == {name: getattr(kvm, name) for name in names}


@needs_kvm
def test_probe_finds_the_per_vm_wall_clock_and_check_reports_it(tmp_path) -> None:
    draft = tmp_path / "x86.uapi"
    result = run_cli("probe", "-o", str(draft))
    assert result.returncode == 0, result.stderr
    report = json.loads(run_cli("check", str(draft), "--format", "json").stdout)
    findings = report["findings"]
    assert not [f for f in findings if f["severity"] == "error"]
    s201 = sorted(f["subject"] for f in findings if f["code"] == "S201")
    assert s201 == ["register/MSR_KVM_WALL_CLOCK", "register/MSR_KVM_WALL_CLOCK_NEW"]
    text = draft.read_text()
    sysenter = text[text.index("register MSR_IA32_SYSENTER_CS {") :].split("}", 1)[0]
    assert "scope    vcpu" in sysenter and "reset    0x0" in sysenter
    poll = text[text.index("register MSR_KVM_POLL_CONTROL {") :].split("\n}", 1)[0]
    assert "reserved reject EINVAL" in poll and "0 BIT_0" in poll and "refused 1-63 (EINVAL)" in poll
    assert run_cli("fmt", "--check", str(draft)).returncode == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--vcpus", "1"), "--vcpus takes 2 to 64"),
        (("--device", "/nonexistent/kvm"), "probe: /nonexistent/kvm: No such file or directory"),
        (("--device", "/dev/null"), "probe: /dev/null: KVM API version -1, not 12"),
    ],
)
def test_probe_that_cannot_run_says_why_in_one_line(tmp_path, arguments, message) -> None:
    result = run_cli("probe", *arguments, "-o", str(tmp_path / "draft.uapi"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and message in result.stderr
    assert not (tmp_path / "draft.uapi").exists()


# -- conform ------------------------------------------------------------------------------------

X86_SPEC = ROOT / "spec" / "kvm" / "x86"


def _spec(tmp_path, register_lines: str, api: str = "kvm/x86"):
    text = (
        f'api "{api}" version "6.18"\n'
        "interface msrs : vcpu {\n  get KVM_GET_ONE_REG\n  set KVM_SET_ONE_REG\n  list KVM_GET_MSR_INDEX_LIST\n}\n"
        "register R {\n  id 0x2030_0002_0000_0174\n  width 64\n  via msrs\n  migrate yes\n" + register_lines + "}\n"
    )
    path = tmp_path / "r.uapi"
    path.write_text(text)
    return resolve(load_units([str(path)])[0])


MSR_LISTING = Listing("KVM_GET_MSR_INDEX_LIST", frozenset({0x2030_0002_0000_0174}))


def _probed(**facts) -> Probed:
    fields = {"id": 0x2030_0002_0000_0174, "reset": None, "scope": None, "writable": None, "rewrite": None}
    return Probed(**{**fields, **facts})


@pytest.mark.parametrize(
    ("lines", "facts", "expected"),
    [
        ("  scope vcpu\n", {"scope": Fact("vcpu", "seen")}, [(SCOPE, VERIFIED, False)]),
        ("  scope vm\n", {"scope": Fact("vcpu", "seen")}, [(SCOPE, CONTRADICTED, False)]),
        ("  scope system\n", {"scope": Fact("vcpu", "seen")}, [(SCOPE, UNTESTABLE, False)]),
        ("  reset 0x5\n", {"reset": Fact("0x0", "read")}, [(RESET, CONTRADICTED, False)]),
        ("  reset all\n", {"reset": Fact("0x0", "read")}, [(RESET, UNTESTABLE, False)]),
        (
            "  writable before first_run else EBUSY\n",
            {"writable": Fact("before first_run else EINVAL", "refused")},
            [(LIFECYCLE, CONTRADICTED, True)],
        ),
        (
            "  writable always\n",
            {"writable": Fact("before first_run else EBUSY", "x")},
            [(LIFECYCLE, CONTRADICTED, False)],
        ),
        ("  writable before vcpu_init else EBUSY\n", {}, [(LIFECYCLE, UNTESTABLE, False)]),
        (
            "  uniform last_wins\n",
            {"uniform": Fact("enforced EINVAL as implementation", "x")},
            [(UNIFORM, CONTRADICTED, False)],
        ),
        ("  reserved reject EBUSY\n", {"reserved": Fact("reject EINVAL", "x")}, [(RESERVED, CONTRADICTED, True)]),
        ("  reserved ignore\n", {"reserved": Fact("reject EINVAL", "x")}, [(RESERVED, CONTRADICTED, False)]),
    ],
)
def test_each_claim_kind_is_judged_against_the_facts(tmp_path, lines, facts, expected) -> None:
    spec = _spec(tmp_path, lines)
    verdicts = judge_register(spec.registers["R"], _probed(**facts), MSR_LISTING, spec)
    listed = [v for v in verdicts if v.kind == LISTED]
    assert [(v.status, v.claimed) for v in listed] == [(VERIFIED, "listed by KVM_GET_MSR_INDEX_LIST")]
    widths = [v for v in verdicts if v.kind == WIDTH]
    assert [(v.status, v.claimed) for v in widths] == [(UNTESTABLE, "64")]  # no width among the facts given
    assert [(v.kind, v.status, v.errno_only) for v in verdicts if v.kind not in (LISTED, WIDTH)] == expected


def test_a_register_no_transport_reaches_is_not_testable(tmp_path) -> None:
    spec = _spec(tmp_path, "  scope vcpu\n")
    verdicts = judge_register(spec.registers["R"], None, MSR_LISTING, spec)
    assert [v.kind for v in verdicts] == [WIDTH, SCOPE, LISTED]
    assert all(v.status == UNTESTABLE and "no transport of this target reaches id" in v.observed for v in verdicts)


def test_capabilities_are_asked_unless_newer_than_the_kernel(tmp_path) -> None:
    path = tmp_path / "c.uapi"
    path.write_text(
        'api "kvm/x86" version "6.18"\ncapability KVM_CAP_A : vm {\n  kind query\n}\n'
        'capability KVM_CAP_B : vm {\n  kind query\n  since "7.1"\n}\ncapability KVM_CAP_C : vm {\n  kind query\n}\n'
    )
    spec = resolve(load_units([str(path)])[0])
    verdicts = judge_capabilities(spec, {"KVM_CAP_A": 1, "KVM_CAP_B": 2}, lambda number: 0, "6.18")
    assert [(v.subject, v.status) for v in verdicts] == [
        ("capability/KVM_CAP_A", CONTRADICTED),
        ("capability/KVM_CAP_B", UNTESTABLE),
        ("capability/KVM_CAP_C", UNTESTABLE),
    ]


def test_a_capability_only_some_hosts_offer_is_not_held_against_the_spec(tmp_path) -> None:
    path = tmp_path / "c.uapi"
    path.write_text(
        'api "kvm/x86" version "6.18"\ncapability KVM_CAP_A : vm {\n  kind query\n  host "TSC scaling"\n}\n'
    )
    spec = resolve(load_units([str(path)])[0])
    [absent] = judge_capabilities(spec, {"KVM_CAP_A": 60}, lambda number: 0, "6.18")
    assert (absent.status, absent.claimed) == (UNTESTABLE, "offered where the host has TSC scaling")
    assert absent.observed.endswith("answers 0: this host lacks TSC scaling, or the claim is wrong")
    [offered] = judge_capabilities(spec, {"KVM_CAP_A": 60}, lambda number: 1, "6.18")
    assert offered.status == VERIFIED


def _capped_spec(tmp_path, cap_lines: str):
    path = tmp_path / "t.uapi"
    path.write_text(
        'api "kvm/x86" version "6.18"\ncapability KVM_CAP_A : vm {\n  kind query\n  host "scaling"\n}\n'
        f"interface rate : vcpu {{\n  get KVM_GET_TSC_KHZ\n  set KVM_SET_TSC_KHZ\n{cap_lines}}}\n"
        "register R {\n  scope vm\n  via rate\n  writable always\n}\n"
    )
    return resolve(load_units([str(path)])[0])


def test_claims_through_an_interface_whose_capability_is_absent_hold_where_it_is_offered(tmp_path) -> None:
    spec = _capped_spec(tmp_path, "  cap KVM_CAP_A\n")
    assert absent_capabilities(spec, {"KVM_CAP_A": 60}, lambda number: 0) == {"KVM_CAP_A"}
    assert absent_capabilities(spec, {"KVM_CAP_A": 60}, lambda number: 1) == set()
    probed = _probed(scope=Fact("vcpu", "vCPU 1 kept its own"), writable=Fact("always", "accepted"))
    register = spec.registers["R"]
    judged = judge_register(register, probed, None, spec)
    assert [(v.kind, v.status) for v in judged] == [(SCOPE, CONTRADICTED), (LIFECYCLE, VERIFIED)]
    scope, writable = conditional(judged, register, spec, frozenset({"KVM_CAP_A"}))
    assert scope.status == UNTESTABLE
    assert scope.observed.endswith("; KVM_CAP_A answers 0 here: the claim holds where it is offered")
    assert writable.status == VERIFIED and writable.observed == "accepted (though KVM_CAP_A answers 0 here)"
    # Offered, or an interface without a capability: the verdicts stand.
    assert conditional(judged, register, spec, frozenset()) == judged
    plain = _capped_spec(tmp_path, "")
    assert conditional(judged, plain.registers["R"], plain, frozenset({"KVM_CAP_A"})) == judged


def test_the_capability_numbers_are_the_compilers(tmp_path) -> None:
    numbers = capability_numbers()
    if not numbers:
        pytest.skip("<linux/kvm.h> is not installed")
    assert numbers["KVM_CAP_MAX_VCPUS"] == 66 and numbers["KVM_CAP_VM_TSC_CONTROL"] == 214


def test_conform_units_reports_contradictions_at_their_lines_and_counts_all(tmp_path) -> None:
    spec_path = tmp_path / "s.uapi"
    spec_path.write_text(
        'api "kvm/x86" version "6.18"\ninterface msrs : vcpu {\n  get KVM_GET_ONE_REG\n  set KVM_SET_ONE_REG\n}\n'
        "register R {\n  id 0x2030_0002_0000_0174\n  width 64\n  scope vm\n  via msrs\n  migrate yes\n  reset 0x0\n}\n"
    )

    def conformer(spec):
        probed = _probed(scope=Fact("vcpu", "vCPU 1 kept its own"), reset=Fact("0x0", "read"))
        return Conformance(tuple(judge_register(spec.registers["R"], probed, None, spec)), "Linux test")

    report = conform_units(load_units([str(spec_path)]), conformer)
    assert [(f.code, f.span.line) for f in report.findings] == [("K103", 9)]
    assert "Linux test: one value per vCPU: vCPU 1 kept its own" in report.findings[0].message
    # The width is not in the facts given: not testable.
    assert report.notes[0].endswith("1 verified, 1 contradicted, 1 not testable here")


@needs_kvm
def test_conform_proves_the_bundled_x86_spec(tmp_path) -> None:
    result = run_cli("conform", str(X86_SPEC), "--format", "json")
    assert result.returncode == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["findings"] == []
    counts = [note for note in document.get("notes", []) if "verified" in note]
    assert len(counts) == 7 and all(", 0 contradicted, " in note for note in counts)
    # What is not testable here is a capability the spec says only some hosts offer, where
    # this host does not, or an ioctl whose zeroed argument the kernel refuses anyway.
    untestable = [note for note in document.get("notes", []) if " not testable here: " in note]
    allowed = ("this host lacks", "refuses a zeroed argument too", "KVM_CHECK_EXTENSION answers 0 here")
    assert untestable and all(any(why in note for why in allowed) for note in untestable), untestable
    claims = [re.findall(r"(\d+) (?:verified|contradicted|not testable)", note) for note in counts]
    assert sum(int(n) for found in claims for n in found) == 91


def test_conform_refuses_another_architectures_spec_in_one_line(tmp_path) -> None:
    if KVM_MISSING is not None:
        result = run_cli("conform", str(ROOT / "spec" / "kvm" / "arm64"))
        assert result.returncode == 2 and "conform:" in result.stderr and len(result.stderr.splitlines()) == 1
        return
    result = run_cli("conform", str(ROOT / "spec" / "kvm" / "arm64"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "api kvm/arm64: this machine's KVM answers for x86 specs" in result.stderr


# -- simulate --measure ------------------------------------------------------------------------


@dataclass
class _CountingVm:
    writes: list[int] = field(default_factory=list)
    closed: bool = False

    def create_vcpu(self) -> _CountingVm:
        return self

    def get(self, register_id: int) -> Outcome:
        return Outcome(0)

    def set(self, register_id: int, value: int) -> Outcome:
        self.writes.append(register_id)
        return Outcome()

    def close(self) -> None:
        self.closed = True


def test_measuring_writes_what_the_model_counts_on_fresh_vms() -> None:
    spec = resolve(load_units([str(X86_SPEC / "clocks.uapi")])[0])
    vms: list[_CountingVm] = []

    def make_vm() -> _CountingVm:
        vms.append(_CountingVm())
        return vms[-1]

    measured = measure_restore(spec, (1, 3), make_vm, lambda register_id: register_id != 0x2030_0002_0000_0012)
    assert measured.skipped == ("MSR_KVM_SYSTEM_TIME",)
    assert [(p.vcpus, p.writes, p.model_writes) for p in measured.points] == [(1, 3, 4), (3, 9, 12)]
    assert all(vm.closed for vm in vms) and len(vms) == 2 * REPEATS


@needs_kvm
def test_the_restore_measured_at_two_vcpu_counts() -> None:
    result = run_cli("simulate", str(X86_SPEC / "syscall.uapi"), "--measure", "--vcpus", "1,8", "--format", "json")
    assert result.returncode == 0, result.stderr
    [measurement] = json.loads(result.stdout)["measurements"]
    points = measurement["points"]
    assert [(p["vcpus"], p["writes"], p["model_writes"]) for p in points] == [(1, 8, 8), (8, 64, 64)]
    assert all(p["wall_ns"] > 0 and p["ns_per_write"] > 0 for p in points)
    # Eight times the writes cannot take less time than the single vCPU's restore.
    assert points[1]["wall_ns"] > points[0]["wall_ns"]


@dataclass
class _FakeTable:
    """A per-vCPU table that, once its vCPU ran, accepts only itself (as CPUID does)."""

    kernel: FakeKernel
    table: bytes = b""

    def get(self) -> bytes:
        return self.table

    def set(self, table: bytes) -> Outcome:
        if self.kernel.ran and table != self.table:
            return Outcome(errno="EINVAL")
        self.table = table
        return Outcome()

    def run(self) -> Outcome:
        self.kernel.ran = True
        return Outcome(kvm.KVM_EXIT_HLT)


def test_the_table_experiment_finds_a_per_vcpu_table_frozen_by_the_first_run() -> None:
    kernel = FakeKernel()
    tables = [_FakeTable(kernel), _FakeTable(kernel)]
    probed = probe_table(tables, b"table", lambda table: table + b"!")
    assert probed.scope.value == "vcpu"
    assert (probed.writable.value, probed.rewrite.value) == ("before first_run else EINVAL", "ok")
    assert [t.table for t in tables] == [b"table", b"table"]


@dataclass
class _FakeVmValue:
    """A per-VM value frozen once its VM has a vCPU (as the VM's TSC rate is)."""

    value: int = 1000
    vcpus: int = 0

    def get(self) -> Outcome:
        return Outcome(self.value)

    def set(self, value: int) -> Outcome:
        if self.vcpus:
            return Outcome(errno="EINVAL")
        self.value = value
        return Outcome()

    def add_vcpu(self) -> None:
        self.vcpus += 1


def test_the_vm_value_experiment_finds_a_per_vm_value_frozen_by_the_first_vcpu() -> None:
    first, second = _FakeVmValue(), _FakeVmValue()
    probed = probe_vm_value(first, second, first.add_vcpu)
    assert probed.crossed == "vcpu_create" and probed.scope.value == "vm"
    assert (probed.writable.value, probed.rewrite.value) == ("before vcpu_create else EINVAL", "EINVAL")
    assert probed.reset is None and second.value == 1000


@dataclass
class _FakeVcpuRate:
    """One vCPU's rate, as a host without TSC scaling treats it: a slower rate is refused,
    yet read back (KVM stores it before deciding)."""

    host: int = 2_000_000
    value: int = 2_000_000

    def get(self) -> Outcome:
        return Outcome(self.value)

    def set(self, value: int) -> Outcome:
        self.value = value
        return Outcome(errno="EINVAL") if value < self.host else Outcome()

    def run(self) -> Outcome:
        return Outcome(5)


def test_the_vcpu_value_experiment_finds_a_per_vcpu_rate_writable_after_the_run() -> None:
    first, second = _FakeVcpuRate(), _FakeVcpuRate()
    probed = probe_vcpu_value(first, second, first.run)
    assert probed.scope.value == "vcpu" and "written through vCPU 0 leaves vCPU 1" in probed.scope.how
    assert (probed.writable.value, probed.rewrite.value) == ("always", "ok")
    assert probed.reset is None and (first.value, second.value) == (2_000_000, 2_000_000)


def test_the_vcpu_value_experiment_says_why_when_a_write_is_refused() -> None:
    class Frozen(_FakeVcpuRate):
        def set(self, value: int) -> Outcome:
            return Outcome(errno="EBUSY")

    probed = probe_vcpu_value(Frozen(), Frozen(), lambda: Outcome(errno="EINTR"))
    assert probed.scope is None and probed.writable is None
    assert probed.unknown[1:] == (
        "scope: 2000001 written through vCPU 0 is refused: EBUSY",
        "after first_run: KVM_RUN failed with EINTR",
    )


@needs_kvm
def test_conform_asks_a_vcpu_rate_and_weighs_the_capability_the_host_answers(tmp_path) -> None:
    from validator.kernel.conform import KVM_HEADER

    numbers = capability_numbers(KVM_HEADER)
    if "KVM_CAP_TSC_CONTROL" not in numbers:
        pytest.skip("<linux/kvm.h> is not installed")
    with kvm.Kvm() as machine:
        scaling = machine.check_extension(numbers["KVM_CAP_TSC_CONTROL"]) > 0
    capability = 'capability KVM_CAP_TSC_CONTROL : vm {\n  kind query\n  host "scaling"\n}\n'
    interface = "interface rate : vcpu {{\n  get KVM_GET_TSC_KHZ\n  set KVM_SET_TSC_KHZ\n{}}}\n"
    wrong = "register R {\n  scope vm\n  via rate\n  writable before first_run else EBUSY\n}\n"
    plain = tmp_path / "plain.uapi"
    plain.write_text('api "kvm/x86" version "6.18"\n' + interface.format("") + wrong)
    result = run_cli("conform", str(plain), "--format", "json")
    assert result.returncode == 1, result.stdout
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("K103", 7), ("K104", 9)]
    assert "one value per vCPU" in findings[0]["message"] and "always" in findings[1]["message"]
    capped = tmp_path / "capped.uapi"
    capped.write_text(
        'api "kvm/x86" version "6.18"\n' + capability + interface.format("  cap KVM_CAP_TSC_CONTROL\n") + wrong
    )
    result = run_cli("conform", str(capped), "--format", "json")
    document = json.loads(result.stdout)
    if scaling:
        assert [f["code"] for f in document["findings"]] == ["K103", "K104"]
    else:
        assert result.returncode == 0 and document["findings"] == []
        assert any(
            "KVM_CAP_TSC_CONTROL answers 0 here: the claim holds where it is offered" in n for n in document["notes"]
        )


@dataclass
class _BitVcpu:
    """A register whose bit 0 is writable, bits 1-3 are dropped and the rest refused."""

    value: int = 0

    def get(self, register_id: int) -> Outcome:
        return Outcome(self.value)

    def set(self, register_id: int, value: int) -> Outcome:
        if value >> 4:
            return Outcome(errno="EINVAL")
        self.value = value & 1
        return Outcome()


def test_each_bit_flipped_alone_is_told_writable_ignored_or_refused() -> None:
    vcpu = _BitVcpu()
    bits = probe_bits(1, vcpu, width=8)
    assert (bits.writable, bits.ignored, bits.refused) == ((0,), (1, 2, 3), tuple((b, "EINVAL") for b in range(4, 8)))
    assert bits.reserved is None  # some dropped, some refused: no one `reserved` says it
    assert bit_ranges([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8" and vcpu.value == 0
    assert BitFacts((0,), (), ((1, "EINVAL"), (2, "EINVAL"))).reserved.value == "reject EINVAL"
    assert BitFacts((0,), (1, 2), ()).reserved.value == "ignore"


@needs_kvm
@pytest.mark.parametrize(
    ("fmt", "section", "counts", "finding"),
    [
        (
            "markdown",
            "## Checked against Linux ",
            "- 3 claims verified - 1 claim contradicted - 0 claims not",
            "K102 reset-contradicted",
        ),
        (
            "html",
            '<section class="conformed">',
            "<li>3 claims verified</li> <li>1 claim contradicted</li>",
            "<strong>reset-contradicted</strong>",
        ),
        (
            "email",
            "Checked against Linux ",
            "claims 3 verified, 1 contradicted, 0 not testable here.",
            "K102 reset-contradicted",
        ),
    ],
)
def test_review_shows_what_the_kernel_said(fmt, section, counts, finding) -> None:
    spec = ROOT / "spec" / "rules" / "K102-reset-contradicted" / "fail.uapi"
    result = run_cli("review", str(spec), "--conform", "--format", fmt)
    assert result.returncode == 1, result.stderr  # the contradiction is an error of the review
    words = " ".join(result.stdout.split())  # the email wraps where the path's length says
    assert section in result.stdout and counts in words and finding in words
    plain = run_cli("review", str(spec), "--format", fmt)
    assert section not in plain.stdout and finding not in plain.stdout and plain.returncode == 0


def test_review_conform_is_of_the_proposal_alone(tmp_path) -> None:
    spec = ROOT / "spec" / "kvm" / "x86" / "clocks.uapi"
    result = run_cli("review", str(spec), "--conform", "--baseline", str(spec))
    assert result.returncode == 2 and "--conform asks the kernel about the proposal alone" in result.stderr
