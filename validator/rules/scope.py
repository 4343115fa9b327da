"""S: scope and serialization — the migration critical path."""

from __future__ import annotations

from collections.abc import Iterator

from validator.frontend.resolve import ResolvedSpec
from validator.model.findings import WARNING, Problem, Related
from validator.model.spec import attr_span
from validator.rules._facts import names, reference_vcpus, subject
from validator.rules.catalog import rule

_VM_FD_FIX = "reach it through the VM fd, or declare it write_once with a hint capability"


@rule("S201", "vm-state-on-vcpu-path", WARNING, "vm state whose every access path is a vcpu interface")
def vm_state_on_vcpu_path(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A register with `scope vm` whose every `via` interface is `vcpu`-scoped: one value per VM,
    reachable only through each vCPU's file descriptor.

    ## Why it matters
    A VMM that saves and restores registers generically (walking `KVM_GET_REG_LIST` on every
    vCPU, as QEMU does) writes the one value once per vCPU: N writes for N vCPUs, all but one
    of them redundant, and each one a chance for vCPUs to disagree. The arm64 hypercall
    bitmaps were merged this way.

    ## How to fix
    Reach VM state through the VM file descriptor (a VM-scoped interface), or declare it
    `scope write_once` with a `hint` capability that tells userspace one write suffices.
    """
    figure = reference_vcpus(spec)
    for register in spec.registers.values():
        interfaces = spec.interfaces_of(register)
        if register.scope != "vm" or not interfaces or any(i.scope != "vcpu" for i in interfaces):
            continue
        via = names([i.name for i in interfaces])
        yield Problem(
            register.span,
            f"{register.name} is per-VM state reachable only through per-vCPU interface {via}; "
            f"a generic VMM writes it once per vCPU ({figure} writes for {figure} vCPUs)",
            subject=subject(register),
            hint=_VM_FD_FIX,
            related=(
                Related(attr_span(register, "scope"), "one value per VM: scope vm"),
                Related(attr_span(register, "via"), f"reached only through per-vCPU {via}"),
            ),
        )


@rule("S202", "serialized-restore", WARNING, "migrated state written once per vCPU, each write under a vm-scoped lock")
def serialized_restore(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    Migrated state (`migrate yes`) that a generic VMM writes once per vCPU, each write taking a
    `vm`-scoped lock (the register's own or its interface's), with no `hint` that one write
    per VM suffices.

    ## Why it matters
    Writes under one VM-wide lock cannot run in parallel: restore threads queue on the lock
    and the migration blackout grows linearly with the vCPU count (three firmware bitmaps on
    512 vCPUs are 1536 serialized writes).

    ## How to fix
    Reach the state through the VM fd so it is written once, or declare it `scope write_once`
    with a `hint` capability so a hint-aware VMM writes it once; or take a per-vCPU lock.
    """
    figure = reference_vcpus(spec)
    for register in spec.registers.values():
        if not register.migrate or not spec.generic_writes_per_vcpu(register):
            continue
        if register.scope == "write_once" and register.hint is not None:
            continue
        vm_locks = spec.vm_locks(register)
        if not vm_locks:
            continue
        lock_names = names([lock.name for lock, _ in vm_locks])
        path = spec.generic_path(register)
        if path is None:  # generic_writes_per_vcpu found one; kept for the type checker
            continue
        yield Problem(
            register.span,
            f"a generic VMM writes {register.name} once per vCPU through {path.name}, each write under "
            f"VM-scoped lock {lock_names}: {figure} serialized writes for {figure} vCPUs, so restore "
            f"time grows linearly with the vCPU count",
            subject=subject(register),
            hint="reach it through the VM fd, or declare it write_once with a hint capability so it is written once",
            related=(
                *tuple(Related(name.span, f"{lock.name} is VM-scoped") for lock, name in vm_locks),
                Related(attr_span(register, "via"), f"written through per-vCPU {path.name}"),
            ),
        )


@rule("S203", "write-once-without-hint", WARNING, "write_once state with no hint")
def write_once_without_hint(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A register declared `scope write_once` with no `hint` capability.

    ## Why it matters
    One write per VM suffices, but userspace cannot discover that: every VMM keeps writing it
    once per vCPU, and the promise buys nothing.

    ## How to fix
    Add a `hint` naming a capability userspace can probe (`KVM_CHECK_EXTENSION`).
    """
    for register in spec.registers.values():
        if register.scope == "write_once" and register.hint is None:
            yield Problem(
                register.span,
                f"{register.name} needs only one write per VM, but no hint tells userspace so; "
                "every VMM keeps writing it once per vCPU",
                subject=subject(register),
                hint="add `hint CAP` naming a capability userspace can probe",
                related=(Related(attr_span(register, "scope"), "scope write_once"),),
            )


@rule("S204", "divergent-write-unspecified", WARNING, "vm/write_once state on a vcpu path with no uniform clause")
def divergent_write_unspecified(spec: ResolvedSpec) -> Iterator[Problem]:
    """
    ## What it finds
    A register holding one value per VM (`scope vm` or `write_once`) that a `vcpu` interface
    reaches, with no `uniform` clause.

    ## Why it matters
    Two vCPUs can be asked to write different values: does the second write win, fail, or
    change only that vCPU? Whatever the kernel happens to do becomes ABI the first time a VMM
    depends on it.

    ## How to fix
    Say it: `uniform last_wins`, or `uniform enforced ERRNO as contract`.
    """
    for register in spec.registers.values():
        if register.scope not in ("vm", "write_once") or register.uniform is not None:
            continue
        vcpu_paths = [i.name for i in spec.interfaces_of(register) if i.scope == "vcpu"]
        if vcpu_paths:
            yield Problem(
                register.span,
                f"{register.name} holds one value per VM but is written through per-vCPU {names(vcpu_paths)}; "
                "what a different value written through another vCPU does is not said",
                subject=subject(register),
                hint="add `uniform last_wins` or `uniform enforced ERRNO as contract`",
                related=(Related(attr_span(register, "via"), "per-vCPU access path"),),
            )


RULES = (vm_state_on_vcpu_path, serialized_restore, write_once_without_hint, divergent_write_unspecified)
