"""`trace`: a VMM's strace log beside the spec's model (tests/data/traces holds QEMU 7.2's
restore of a 2-vCPU guest on this project's Linux 6.18 machine, cut where the incoming
migration completed); the strace reader on the line forms strace writes; batching in the
model; and, where QEMU, strace and /dev/kvm are here, a live restore."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, write
from validator.frontend.load import load_text_unit
from validator.frontend.resolve import resolve
from validator.kernel.strace import read_trace
from validator.simulate.scenario import execute

FIXTURE = ROOT / "tests" / "data" / "traces" / "qemu-7.2-restore-smp2.strace"
X86 = ROOT / "spec" / "kvm" / "x86"


def _json(*args: str) -> dict:
    result = run_cli("trace", *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_qemus_restore_is_attributed_to_its_fds_and_set_beside_the_model() -> None:
    report = _json(str(FIXTURE), "--spec", str(X86))
    assert report["vcpus"] == 2
    observed = report["observed"]
    # Two vCPU fds made on the VM fd; the VM fd made on the system fd.
    assert observed["KVM_CREATE_VCPU"] == {"system": 0, "vm": 2, "vcpu": 0, "device": 0}
    assert observed["KVM_CREATE_VM"]["system"] == 1
    # QEMU writes MSRs only on vCPU fds: three puts of every vCPU's state, three calls each.
    assert observed["KVM_SET_MSRS"] == {"system": 0, "vm": 0, "vcpu": 18, "device": 0}
    # ...and reads feature MSRs on the system fd.
    assert observed["KVM_GET_MSRS"]["system"] > 0
    rows = {row["interface"]: row for row in report["interfaces"]}
    msrs = rows["msrs"]
    assert msrs["batch"] and msrs["predicted"]["KVM_SET_MSRS"]["vcpu"] == 2  # one batch per vCPU
    assert msrs["observed"]["KVM_SET_MSRS"]["vcpu"] == 18
    assert set(msrs["registers"]) >= {"MSR_IA32_SYSENTER_CS", "MSR_KVM_WALL_CLOCK"}
    assert rows["cpuid"]["predicted_total"] == rows["cpuid"]["observed_total"] == 2
    # The spec's VM-wide TSC rate: QEMU sets the rate per vCPU only.
    assert rows["tsc_khz_vm"]["untouched_by_vmm"] and rows["tsc_khz_vm"]["observed_total"] == 0
    # What the spec does not describe yet is listed, with the fds it went to.
    assert report["unmapped"]["KVM_SET_XSAVE"]["vcpu"] == 6 and "KVM_SET_MSRS" not in report["unmapped"]
    # QEMU's size probe of the MSR list fails with E2BIG: no claim of the spec says so.
    [probe] = [e for e in report["errors"] if e["ioctl"] == "KVM_GET_MSR_INDEX_LIST"]
    assert (probe["scope"], probe["errno"], probe["explained_by"]) == ("system", "E2BIG", None)


def test_the_text_report_names_each_interface_and_the_unmapped_ioctls() -> None:
    result = run_cli("trace", str(FIXTURE), "--spec", str(X86))
    assert result.returncode == 0
    assert "A restore with 2 vCPUs" in result.stdout
    assert "KVM_SET_MSRS                 model 2 vcpu; VMM 18 vcpu" in result.stdout
    assert "the model writes VM_TSC_KHZ through it; the VMM never issued its set ioctl" in result.stdout
    assert "KVM_SET_XSAVE" in result.stdout.split("KVM ioctls no interface names")[1]


def test_an_error_the_spec_explains_is_mapped_to_its_claim(tmp_path) -> None:
    spec = write(
        tmp_path,
        "s.uapi",
        'api "kvm/x86" version "6.18"\n\ninterface msrs : vcpu {\n  set KVM_SET_MSRS\n}\n\n'
        "register MSR_X {\n  id       0x2030_0003_0000_0010\n  scope    vcpu\n  via      msrs\n"
        "  writable before first_run else EBUSY\n}\n",
    )
    log = write(
        tmp_path,
        "t.strace",
        "10 ioctl(3, KVM_CREATE_VM, 0) = 4\n10 ioctl(4, KVM_CREATE_VCPU, 0) = 5\n"
        "10 ioctl(5, KVM_SET_MSRS, 0x1) = -1 EBUSY (Device or resource busy)\n"
        "10 ioctl(5, KVM_SET_MSRS, 0x1) = -1 EPERM (Operation not permitted)\n",
    )
    errors = _json(str(log), "--spec", str(spec))["errors"]
    explained = {e["errno"]: e["explained_by"] for e in errors}
    assert explained == {"EBUSY": "MSR_X: writable before first_run else EBUSY", "EPERM": None}
    assert errors[0]["where"] == f"{spec}:11"  # the writable line


# -- the strace reader ----------------------------------------------------------------------


def test_unfinished_and_resumed_calls_timestamps_and_pid_prefixes_are_read() -> None:
    trace = read_trace(
        [
            '100 openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 7\n',
            "100 12:00:00.000001 ioctl(7, KVM_CREATE_VM, 0) = 8 <0.000100>\n",
            "[pid   101] ioctl(8, KVM_CREATE_VCPU, 0 <unfinished ...>\n",
            "100 ioctl(8, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS) = 2\n",
            "[pid   101] <... ioctl resumed>) = 9\n",
            "101 1796115404.906578 ioctl(9, KVM_RUN, 0) = -1 EINTR (Interrupted system call) <0.5>\n",
            "--- SIGUSR1 {si_signo=SIGUSR1} ---\n",
            "101 +++ exited with 0 +++\n",
        ]
    )
    assert [(c.request, c.scope, c.result, c.errno) for c in trace.calls] == [
        ("KVM_CREATE_VM", "system", 8, None),
        ("KVM_CHECK_EXTENSION", "vm", 2, None),
        ("KVM_CREATE_VCPU", "vm", 9, None),
        ("KVM_RUN", "vcpu", -1, "EINTR"),
    ]
    assert trace.vcpus == 1 and trace.skipped == 2
    assert trace.calls[0].seconds == pytest.approx(0.0001) and trace.calls[-1].seconds == 0.5


def test_a_forked_child_has_a_copy_of_the_fds_and_a_thread_shares_them() -> None:
    trace = read_trace(
        [
            "1 ioctl(3, KVM_CREATE_VM, 0) = 4\n",
            "1 clone(child_stack=NULL, flags=SIGCHLD) = 2\n",  # fork: a copy
            "1 clone3({flags=CLONE_VM|CLONE_THREAD}, 88) = 3\n",  # a thread: shared
            "2 ioctl(4, KVM_CREATE_VCPU, 0) = 9\n",  # the child's fd 9
            "1 ioctl(9, KVM_RUN, 0) = 0\n",  # not a vCPU fd of the parent
            "3 ioctl(4, KVM_CREATE_VCPU, 1) = 10\n",
            "1 ioctl(10, KVM_RUN, 0) = 0\n",  # the thread's vCPU is the process's
            "1 close(10) = 0\n",
            "1 ioctl(10, KVM_RUN, 0) = 0\n",  # closed: no longer a vCPU fd
        ]
    )
    assert [(c.pid, c.request, c.scope) for c in trace.calls] == [
        (1, "KVM_CREATE_VM", "system"),
        (2, "KVM_CREATE_VCPU", "vm"),
        (1, "KVM_RUN", "unknown"),
        (3, "KVM_CREATE_VCPU", "vm"),
        (1, "KVM_RUN", "vcpu"),
        (1, "KVM_RUN", "unknown"),
    ]


def test_verbose_arguments_and_hostile_lines_never_break_the_reader() -> None:
    lines = [
        "5 ioctl(0, SNDCTL_TMR_START or TCSETS, {c_iflag=, c_lflag=ICANON, ...}) = -1 ENOTTY (Inappropriate ioctl)\n",
        "5 ioctl(3, KVM_CREATE_VM, 0) = 4\n",
        "5 ioctl(4, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=0, memory_size=65536}) = 0\n",
        "5 ioctl(4, _IOC(_IOC_WRITE, 0xae, 0xff, 0x8), 0x1) = 0\n",
        "x" * 100 + "\n",
        "\x00\x01 ioctl(\n",
        "5 ioctl(4, KVM_SET_TSS_ADDR, 0xfeffd000) = ?\n",
    ]
    trace = read_trace(lines)
    assert [(c.request, c.scope, c.result) for c in trace.calls] == [
        ("KVM_CREATE_VM", "system", 4),
        ("KVM_SET_USER_MEMORY_REGION", "vm", 0),
        ("_IOC", "vm", 0),
        ("KVM_SET_TSS_ADDR", "vm", None),
    ]


def test_bad_input_is_one_line_and_exit_2(tmp_path) -> None:
    missing = run_cli("trace", str(tmp_path / "nope.strace"), "--spec", str(X86))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no such trace file" in missing.stderr
    broken = write(tmp_path, "broken.uapi", "register {\n")
    bad_spec = run_cli("trace", str(FIXTURE), "--spec", str(broken))
    assert bad_spec.returncode == 2 and bad_spec.stderr.count("\n") == 1 and "broken.uapi:1:" in bad_spec.stderr
    folder = run_cli("trace", str(tmp_path), "--spec", str(X86))
    assert folder.returncode == 2 and "not a regular file" in folder.stderr
    assert "Traceback" not in missing.stderr + bad_spec.stderr + folder.stderr


# -- batching in the model -------------------------------------------------------------------


@pytest.mark.parametrize("batch", ["yes", "no"])
def test_a_batching_interface_issues_one_ioctl_per_fd_per_pass_and_still_locks_per_register(batch) -> None:
    registers = "".join(
        f"register R{i} {{\n  id      0x2030_0003_0000_00{i:02x}\n  scope   vcpu\n  via     msrs\n  migrate yes\n"
        "  lock    vm_lock\n}\n\n"
        for i in range(5)
    )
    text = (
        'api "kvm/x86" version "6.18"\n\nlock vm_lock : vm "a VM-wide lock"\n\n'
        f"interface msrs : vcpu {{\n  set   KVM_SET_MSRS\n  list  KVM_GET_MSR_INDEX_LIST\n  batch {batch}\n}}\n\n"
        + registers
    )
    spec = resolve(load_text_unit(text, str(Path(tempfile.gettempdir()) / "batch.uapi")))
    metrics = execute(spec, "restore", "generic", 8)
    assert metrics.by_ioctl["KVM_SET_MSRS", "vcpu"] == (8 if batch == "yes" else 40)
    assert metrics.state_ops == 40 and metrics.serialized == 40  # the lock is taken per entry
    assert metrics.locks["vm"] == 40


# -- live -------------------------------------------------------------------------------------


def test_a_live_qemu_restore_is_traced_and_attributed(tmp_path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import qemu_restore

    why = qemu_restore.missing()
    if why:
        pytest.skip(f"a live QEMU restore needs qemu-system-x86_64, strace and /dev/kvm: {why}")
    qemu_restore.save(2, tmp_path / "state")
    seconds = qemu_restore.restore_traced(2, tmp_path / "state", tmp_path / "trace.txt")
    assert 0 < seconds < 60
    report = _json(str(tmp_path / "trace.txt"), "--spec", str(X86))
    assert report["vcpus"] == 2
    set_msrs = report["observed"]["KVM_SET_MSRS"]
    assert set_msrs["vcpu"] > 0 and set_msrs["system"] == set_msrs["vm"] == 0
    assert report["observed"]["KVM_CREATE_VCPU"]["vm"] == 2
