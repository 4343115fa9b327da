"""The executable spec: exact results, the figures of the normative examples, the CLI."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, ROOT, needs_examples, run_cli, write
from validator.frontend.load import load_text_unit
from validator.frontend.resolve import resolve
from validator.simulate.scenario import KINDS, VMMS, execute, growth

# -- exactness: grouped execution equals executing every op one vCPU at a time ----------------

SCOPES = ("vm", "vcpu", "write_once", "system")
DEADLINES = (
    "always",
    "never",
    "before vcpu_init else EPERM",
    "before finalize else EPERM",
    "before first_run else EBUSY",
    "before first_run",
)
REWRITES = (None, "same_value ok", "same_value EBUSY")
UNIFORMS = (None, "last_wins", "enforced EINVAL as contract")


@st.composite
def specs(draw) -> str:
    text = 'api "t" version "1"\nlock vm_lock : vm\nlock vcpu_lock : vcpu\n'
    text += "capability HINT : vm {\n  kind query\n}\ncapability OPT : vm {\n  kind opt_in\n  before vcpu_create\n}\n"
    batch = draw(st.sampled_from(["no", "yes"]))  # one set ioctl per fd per pass (KVM_SET_MSRS)
    text += f"interface one_reg : vcpu {{\n  get G\n  set S\n  list L\n  batch {batch}\n}}\n"
    text += f"interface dev : vm {{\n  get G\n  set S\n  has H\n  batch {batch}\n}}\n"
    for index in range(draw(st.integers(1, 5))):
        scope = draw(st.sampled_from(SCOPES))
        lines = [
            f"register R{index} {{",
            f"  scope {scope}",
            f"  via {draw(st.sampled_from(['one_reg', 'dev', 'one_reg, dev']))}",
        ]
        if draw(st.booleans()):
            lines.append(f"  lock {draw(st.sampled_from(['vm_lock', 'vcpu_lock']))}")
        lines.append(f"  migrate {draw(st.sampled_from(['yes', 'yes', 'no']))}")
        deadline = draw(st.sampled_from(DEADLINES))
        lines.append(f"  writable {deadline}")
        rewrite = draw(st.sampled_from(REWRITES))
        if rewrite and deadline != "always":
            lines.append(f"  rewrite {rewrite}")
        uniform = draw(st.sampled_from(UNIFORMS))
        if uniform:
            lines.append(f"  uniform {uniform}")
        if scope == "write_once" and draw(st.booleans()):
            lines.append("  hint HINT")
        if draw(st.booleans()):
            lines.append(f"  reset {draw(st.sampled_from(['all', 'none', '0', '3']))}")
            lines.append("  bits {\n    0 A\n    1 B\n  }")
        if draw(st.booleans()):
            lines.append("  opt_in OPT")
        lines.append("}")
        text += "\n".join(lines) + "\n"
    return text


def outcome(metrics) -> tuple:
    """Counts, the first failure exactly, and every refusal with its multiplicity."""
    refusals = Counter()
    for failure in metrics.failures:
        refusals[(failure.op, failure.register, failure.errno, failure.why)] += failure.times
    return (
        metrics.ioctls,
        dict(metrics.by_ioctl),
        metrics.batched,
        metrics.state_ops,
        metrics.serialized,
        dict(metrics.locks),
        [(f.op, f.vcpu, f.register, f.value, f.errno, f.why) for f in metrics.failures][:1],
        refusals,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), st.sampled_from(KINDS), st.sampled_from(VMMS), st.integers(1, 7))
def test_grouped_execution_equals_op_by_op(text, kind, vmm, vcpus) -> None:
    spec = resolve(load_text_unit(text, "random.uapi"))
    grouped = execute(spec, kind, vmm, vcpus, grouped=True)
    one_by_one = execute(spec, kind, vmm, vcpus, grouped=False)
    assert outcome(grouped) == outcome(one_by_one), text


# -- the normative examples' figures ------------------------------------------------------------


@needs_examples
def test_hypercall_bitmaps_restore_is_1536_serialized_writes_at_512_and_linear() -> None:
    result = run_cli("simulate", str(EXAMPLES / "hypercall-bitmaps.uapi"), "--format", "json")
    [scenario] = json.loads(result.stdout)["scenarios"]
    at_512 = next(p for p in scenario["points"] if p["vcpus"] == 512)
    assert at_512["serialized"] == 1536 and at_512["vm_lock_acquisitions"] == 1536
    assert at_512["blackout_ns"] == 1536 * 3_000
    assert scenario["growth"] == {"blackout": "linear", "serialized": "linear"}
    assert result.returncode == 1  # the budget of 64 is exceeded


@needs_examples
def test_vm_fd_design_writes_each_register_once_and_is_constant() -> None:
    result = run_cli("simulate", str(EXAMPLES / "hypercall-bitmaps-vm-fd.uapi"), "--format", "json")
    [scenario] = json.loads(result.stdout)["scenarios"]
    assert {p["serialized"] for p in scenario["points"]} == {1}
    assert scenario["growth"] == {"blackout": "constant", "serialized": "constant"}
    assert result.returncode == 0


@needs_examples
def test_lifecycle_hotplug_fails_with_the_reason() -> None:
    result = run_cli("check", str(EXAMPLES / "lifecycle.uapi"), "--format", "json")
    [x701] = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "X701"]
    assert x701["message"] == (
        "hotplug with 4 vCPUs: KVM_SET_ONE_REG of EXAMPLE_REG_TIMER_CTL = 0x0 on vCPU 4 got EBUSY "
        "(frozen at first_run; rewrite same_value EBUSY)"
    )
    assert x701["line"] == 42 and x701["related"][0]["line"] == 12


def test_id_registers_accept_identical_rewrites_after_first_run() -> None:
    result = run_cli("simulate", str(ROOT / "spec/kvm/arm64/id-regs.uapi"), "--format", "json")
    scenarios = {s["name"]: s for s in json.loads(result.stdout)["scenarios"]}
    assert set(scenarios) == {"hotplug_cpu", "reset_all"}
    assert all(not p["failures"] for s in scenarios.values() for p in s["points"])
    assert scenarios["hotplug_cpu"]["growth"]["serialized"] == "constant"
    assert scenarios["reset_all"]["growth"]["serialized"] == "linear"


# -- the blackout model and growth classes ---------------------------------------------------------


def test_blackout_formula_uses_host_threads(tmp_path) -> None:
    text = """lock vm_lock : vm
interface one_reg : vcpu {
  get G
  set S
  list L
}
register SERIAL {
  scope vcpu
  via one_reg
  lock vm_lock
  migrate yes
}
register PARALLEL {
  scope vcpu
  via one_reg
  migrate yes
}
scenario s : restore {
  vcpus 10
  host_threads 4
  cost ioctl 2us, lock 5us
}
"""
    path = write(tmp_path, "b.uapi", text)
    [scenario] = json.loads(run_cli("simulate", str(path), "--format", "json").stdout)["scenarios"]
    [point] = scenario["points"]
    # 10 serialized writes x (2 + 5) us + ceil(10 parallel / 4 threads) x 2 us
    assert point["blackout_ns"] == 10 * 7_000 + 3 * 2_000


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([(1, 5), (64, 5), (512, 5)], "constant"),
        ([(1, 3), (64, 192), (512, 1536)], "linear"),
        ([(1, 1), (64, 4096), (512, 262144)], "superlinear"),
        ([(1, 10), (64, 60), (512, 100)], "sublinear"),
        ([(4, 7)], "unknown"),
    ],
)
def test_growth_classes(points, expected) -> None:
    assert growth(points) == expected


# -- the command -------------------------------------------------------------------------------


@needs_examples
def test_simulate_text_table_and_trace() -> None:
    result = run_cli("simulate", str(EXAMPLES / "hypercall-bitmaps.uapi"), "--vcpus", "2,4", "--trace")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("scenario migrate (restore, generic VMM, 16 host threads")
    assert lines[2].split() == ["2", "13", "6", "6", "18", "us"]
    assert "budget serialized 64: met" in result.stdout
    assert "    KVM_SET_ONE_REG KVM_REG_ARM_STD_BMAP on vCPU 1" in lines


@needs_examples
def test_simulate_undeclared_kind_and_csv() -> None:
    result = run_cli(
        "simulate", str(EXAMPLES / "vcpu-features-base.uapi"), "--kind", "reset", "--vcpus", "3", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["scenario"], r["kind"], r["vcpus"]) for r in rows] == [("reset-generic", "reset", "3")]
    hinted = run_cli(
        "simulate",
        str(EXAMPLES / "hypercall-bitmaps-write-once.uapi"),
        "--kind",
        "restore",
        "--vmm",
        "hint_aware",
        "--vcpus",
        "8",
        "--format",
        "json",
    )
    [scenario] = json.loads(hinted.stdout)["scenarios"]
    assert scenario["points"][0]["serialized"] == 1 + 8  # the hinted bitmap once, the other per vCPU


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--vcpus", "0,4"), "--vcpus takes counts from 1 to"),
        (("--vcpus", "a"), "--vcpus takes counts from 1 to"),
        (("--scenario", "nope"), "no scenario named 'nope'"),
    ],
)
def test_simulate_usage_errors(args, message) -> None:
    result = run_cli("simulate", str(ROOT / "spec/rules/X701-scenario-op-failed/pass.uapi"), *args)
    assert result.returncode == 2 and message in result.stderr


def test_simulate_refuses_a_spec_with_errors(tmp_path) -> None:
    path = write(tmp_path, "e.uapi", "lock a : vm\nlock a : vm\n")
    result = run_cli("simulate", str(path))
    assert result.returncode == 2 and "e.uapi:2:1" in result.stderr and "`check` lists them" in result.stderr


# -- the restore order of LANGUAGE.md (amended): VM settings first, the architecture's ioctls --

X86_TSC = """api "kvm/x86" version "6.18"
interface vm_tsc : vm {
  set KVM_SET_TSC_KHZ
}
interface msrs : vcpu {
  get  KVM_GET_MSRS
  set  KVM_SET_MSRS
  list KVM_GET_MSR_INDEX_LIST
}
register VM_TSC_KHZ {
  scope    vm
  via      vm_tsc
  migrate  yes
  writable before vcpu_create else EBUSY
  rewrite  same_value EBUSY
}
register MSR_IA32_SYSENTER_CS {
  id       0x2030_0002_0000_0174
  width    64
  scope    vcpu
  via      msrs
  migrate  yes
}
scenario restore_x86 : restore {
  vcpus 1, 4
}
"""


def _trace(text: str, tmp_path, kind: str = "restore") -> list[str]:
    spec = resolve(load_text_unit(text, str(tmp_path / "t.uapi")))
    return execute(spec, kind, "generic", 2, grouped=False, trace=True).trace or []


def test_vm_settings_frozen_at_vcpu_create_are_written_before_vcpus(tmp_path) -> None:
    steps = _trace(X86_TSC, tmp_path)
    assert steps.index("KVM_SET_TSC_KHZ VM_TSC_KHZ on the VM fd") < steps.index("KVM_CREATE_VCPU on vCPU 0")
    assert not any("KVM_ARM_VCPU_INIT" in s or "FINALIZE" in s for s in steps)  # x86 has no such step
    assert steps[-1] == "KVM_RUN on vCPU 1"
    path = write(tmp_path, "x86.uapi", X86_TSC)
    assert run_cli("check", str(path), "--format", "json").returncode == 0  # no false X701, no L402


def test_hotplug_and_reset_leave_vm_settings_alone(tmp_path) -> None:
    for kind in ("hotplug", "reset"):
        assert not any("KVM_SET_TSC_KHZ" in s for s in _trace(X86_TSC, tmp_path, kind))


def test_arm64_initialises_vcpus_with_its_own_ioctl(tmp_path) -> None:
    text = X86_TSC.replace('"kvm/x86"', '"kvm/arm64"')
    steps = _trace(text, tmp_path)
    assert steps.index("KVM_CREATE_VCPU on vCPU 0") < steps.index("KVM_ARM_VCPU_INIT on vCPU 0")


def test_the_value_written_is_one_the_spec_accepts(tmp_path) -> None:
    # A reset value with an undefined bit set: the VMM writes a value with defined bits only,
    # which `reserved reject` accepts (it would refuse the reset value itself).
    text = """api "kvm/arm64" version "6.1"
interface one_reg : vcpu {
  get  G
  set  S
  list L
}
register R {
  scope    vcpu
  via      one_reg
  migrate  yes
  reset    0xff
  reserved reject EINVAL
  bits {
    0 A
    1 B
  }
}
scenario s : restore {
  vcpus 1, 2
}
"""
    path = write(tmp_path, "r.uapi", text)
    found = json.loads(run_cli("check", str(path), "--format", "json").stdout)["findings"]
    assert "X701" not in {f["code"] for f in found}
