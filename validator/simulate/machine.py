"""The reference semantics of a spec: one VM, its vCPUs, and what every op returns.

An op is an ioctl a VMM issues: create a vCPU, initialise it, finalize it, enable a
capability, set a register through an interface, run. Each gets the result the spec gives
(success, or the errno of the writable deadline, `rewrite`, `uniform`, reserved bits or
opt-in) and is counted: ioctls, lock acquisitions by lock scope, writes serialized on a
VM-scoped lock.

vCPUs in identical state form a *group* and an op is applied to a whole group at once. That
is exact, not an estimate: members of a group differ only in which of them acts first on VM
state, so the op is executed for the first member, then for the second (which sees what the
first changed), and the second's outcome holds for every later member, because a later
member finds the VM state the second left, unchanged by an identical write. With groups of
one (`grouped=False`) the machine executes every op one vCPU at a time; the tests check that
both give the same counts and errnos.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from validator.frontend.resolve import ResolvedSpec
from validator.model import spec as m
from validator.model.frozen import frozen

VM_OWNED = ("vm", "write_once", "system", "device")  # one value per VM (or host)
# The vCPU lifecycle ioctls of each architecture (the `api` name's last part): None where it
# has no such step, and the event then comes with the first run (x86 has no vCPU init).
LIFECYCLE = {
    "arm64": ("KVM_ARM_VCPU_INIT", "KVM_ARM_VCPU_FINALIZE"),
    "x86": (None, None),
    "riscv": (None, None),
    "s390": (None, None),
    "loongarch": (None, None),
}
# Another architecture (an example's "example/arch"): the language's lifecycle as written.
GENERIC_LIFECYCLE = ("VCPU_INIT", "VCPU_FINALIZE")


def lifecycle_ioctls(api: m.Api | None) -> tuple[str | None, str | None]:
    """(init, finalize) ioctls of the spec's architecture."""
    arch = api.name.rsplit("/", 1)[-1] if api is not None else ""
    return LIFECYCLE.get(arch, GENERIC_LIFECYCLE)


DEFAULT_ERRNO = "EINVAL"  # what a refusal gets when the spec names no errno (see L401)


@frozen
class Failure:
    """The first op that got an errno, and why."""

    op: str
    vcpu: int | None
    register: str | None
    value: int | None
    errno: str
    why: str
    subject: m.Register | m.Capability | None = field(default=None, repr=False)
    times: int = 1  # how many ops (one per vCPU of a group) got this refusal


@dataclass(slots=True)
class Metrics:
    """What a run of the machine counted: ioctls, state ops, locks, failures."""

    ioctls: int = 0
    state_ops: int = 0  # register writes and capability enables: what a restore transfers
    serialized: int = 0  # state ops that take a VM-scoped lock
    locks: Counter[str] = field(default_factory=Counter)  # acquisitions by lock scope
    failures: list[Failure] = field(default_factory=list)
    trace: list[str] | None = None
    # ioctls by (name, the fd they go to: system | vm | vcpu | device), as a trace of a VMM counts them
    by_ioctl: Counter[tuple[str, str]] = field(default_factory=Counter)
    batched: int = 0  # state ops that rode in another's ioctl (an interface with `batch yes`)
    serialized_by_interface: Counter[str] = field(default_factory=Counter)

    @property
    def parallel(self) -> int:
        """Ioctls a VMM may issue from many threads: state ops on no VM-scoped lock, less those
        that rode in another's ioctl."""
        return self.state_ops - self.serialized - self.batched


@dataclass(slots=True)
class Group:
    """vCPUs in identical state: their ids as a range (never a list: a group of a million
    vCPUs costs what a group of one does), the events they reached, their own values."""

    members: range
    events: set[str] = field(default_factory=set)
    values: dict[str, int] = field(default_factory=dict)

    def split(self) -> Group:
        """Take the first member out into a group of its own (same state)."""
        first = self.members[0]
        self.members = self.members[1:]
        return Group(range(first, first + 1), set(self.events), dict(self.values))


def saved_value(register: m.Register) -> int:
    """The value a VM that ran on this spec holds, which a VMM writes back: one the spec
    accepts. That is the reset value when it sets no undefined bit, else its defined bits."""
    reset = register.reset
    if reset is None or reset.kind == "none":
        return 0
    if reset.kind == "all":
        return defined_bits(register)
    value = reset.value or 0
    return value & defined_bits(register) if register.bits else value


def defined_bits(register: m.Register) -> int:
    return sum(1 << b.index for b in register.bits)


@frozen
class WriteFacts:
    """What every write of one register needs, worked out once (machines of one spec may share)."""

    lock_scopes: tuple[str, ...]
    serialized: bool  # a VM-scoped lock among them
    defined: int  # the mask of its declared bits
    saved: int


@dataclass(slots=True)
class SpecFacts:
    """What the machines of one spec work out alike, shared by its scenarios and vCPU counts
    (they depend on the spec alone): each register's write facts, and the values a VM holds
    in its VM-owned registers before any write."""

    writes: dict[str, WriteFacts] = field(default_factory=dict)
    vm_values: dict[str, int] | None = None
    set_ioctls: dict[str, str] = field(default_factory=dict)  # by interface name


class Machine:
    """One VM under the spec's semantics."""

    def __init__(
        self,
        spec: ResolvedSpec,
        *,
        grouped: bool = True,
        trace: bool = False,
        facts: SpecFacts | None = None,
    ) -> None:
        self.spec = spec
        self.grouped = grouped
        shared = SpecFacts() if facts is None else facts
        self._facts = shared.writes
        self._set_ioctls = shared.set_ioctls
        self.vm_events: set[str] = set()
        if shared.vm_values is None:
            shared.vm_values = {r.name: self.saved(r) for r in spec.registers.values() if r.scope in VM_OWNED}
        self.vm_values = dict(shared.vm_values)
        self.uniform_values: dict[str, int] = {}  # per-vCPU state that must match across vCPUs
        self.enabled: set[str] = set()
        self.metrics = Metrics(trace=[] if trace else None)
        self.next_vcpu = 0
        self._open_batches: set[tuple[str, tuple[int, str]]] = set()
        self.init_ioctl, self.finalize_ioctl = lifecycle_ioctls(spec.api)

    def saved(self, register: m.Register) -> int:
        """`saved_value(register)`, worked out once."""
        return self._facts_of(register).saved

    def _facts_of(self, register: m.Register) -> WriteFacts:
        facts = self._facts.get(register.name)
        if facts is None:
            scopes = tuple(lock.scope for lock, _ in self.spec.write_locks(register))
            facts = self._facts[register.name] = WriteFacts(
                scopes, "vm" in scopes, defined_bits(register), saved_value(register)
            )
        return facts

    # -- lifecycle --------------------------------------------------------------------------

    def create_vm(self) -> None:
        self._count("KVM_CREATE_VM", 1, fd="system")
        self.vm_events.add("vm_create")

    def create_vcpus(self, count: int) -> list[Group]:
        members = range(self.next_vcpu, self.next_vcpu + count)
        self.next_vcpu += count
        groups = [Group(members)] if self.grouped else [Group(range(v, v + 1)) for v in members]
        for group in groups:
            self._lifecycle(group, "KVM_CREATE_VCPU", "vcpu_create")
        return groups

    def init(self, group: Group) -> None:
        if self.init_ioctl is not None:
            self._lifecycle(group, self.init_ioctl, "vcpu_init")

    def finalize(self, group: Group) -> None:
        if self.finalize_ioctl is not None:
            self._lifecycle(group, self.finalize_ioctl, "finalize")

    def run(self, group: Group) -> None:
        # The first run finalizes what was not finalized explicitly.
        group.events.update(("vcpu_create", "vcpu_init", "finalize"))
        self._lifecycle(group, "KVM_RUN", "first_run")

    def _lifecycle(self, group: Group, ioctl: str, event: str) -> None:
        self._count(ioctl, len(group.members), group, fd="vm" if ioctl == "KVM_CREATE_VCPU" else "vcpu")
        group.events.add(event)
        self.vm_events.add(event)

    # -- capabilities -----------------------------------------------------------------------

    def enable_cap(self, cap: m.Capability) -> None:
        self._count("KVM_ENABLE_CAP", 1, fd="vm")
        self.metrics.state_ops += 1
        if cap.before and cap.before in self.vm_events:
            self._fail(
                Failure(
                    "KVM_ENABLE_CAP",
                    None,
                    None,
                    None,
                    cap.before_errno.text if cap.before_errno else DEFAULT_ERRNO,
                    f"{cap.name} may be enabled only before {cap.before}",
                    cap,
                )
            )
            return
        self.enabled.add(cap.name)

    # -- registers --------------------------------------------------------------------------

    def set_register(
        self, group: Group, register: m.Register, interface: m.Interface, value: int | None = None
    ) -> None:
        """Write `value` through `interface` on every member of the group; without a value,
        the one a VM that ran holds (`saved_value`), as a VMM restoring it writes."""
        ioctl = self._set_ioctls.get(interface.name)
        if ioctl is None:
            ioctl = self._set_ioctls[interface.name] = interface.ioctl("set") or "set"
        members = group.members
        facts = self._facts_of(register)
        if value is None:
            value = facts.saved
        if interface.scope != "vcpu":  # a VM (or device, or system) fd: one write
            self._write(None, group, register, facts, interface, ioctl, value, 1)
            return
        if register.scope not in VM_OWNED or len(members) == 1:
            # Per-vCPU state: every member holds its own, identical value.
            self._write(members[0], group, register, facts, interface, ioctl, value, len(members))
            return
        # VM state through each member's fd: the first may change it, the rest find it as the
        # second does.
        self._write(members[0], group, register, facts, interface, ioctl, value, 1)
        self._write(members[1], group, register, facts, interface, ioctl, value, len(members) - 1)

    def _write(
        self,
        vcpu: int | None,
        group: Group,
        register: m.Register,
        facts: WriteFacts,
        interface: m.Interface,
        ioctl: str,
        value: int,
        times: int,
    ) -> None:
        scopes, serialized = facts.lock_scopes, facts.serialized
        fd = "vcpu" if vcpu is not None else interface.scope
        issued = times
        if interface.batch:
            # One ioctl per fd per pass: the fds this write goes to that no earlier write of
            # the pass opened a batch on issue one; on the others it rides (the kernel still
            # takes its locks per entry). A group's fds are its first member's and the rest.
            parts = self._fds_of(group, vcpu, times)
            issued = sum(n for part, n in parts if (interface.name, part) not in self._open_batches)
            self._open_batches.update((interface.name, part) for part, _ in parts)
            if not serialized:
                self.metrics.batched += times - issued
        metrics = self.metrics
        if issued:  # _count(), inline: this runs for every register of every pass
            metrics.ioctls += issued
            metrics.by_ioctl[ioctl, fd] += issued
            if metrics.trace is not None:
                self._trace(ioctl, issued, group, register, vcpu)
        if issued < times:
            self._trace(ioctl, times - issued, group, register, vcpu, batched=True)
        metrics.state_ops += times
        for scope in scopes:
            metrics.locks[scope] += times
        if serialized:
            metrics.serialized += times
            metrics.serialized_by_interface[interface.name] += times
        refusal = self._refusal(group, register, value, facts)
        if refusal is not None:
            errno, why = refusal
            self._fail(Failure(ioctl, vcpu, register.name, value, errno, why, register, times))
            return
        self._store(group, register, value, facts)

    def _refusal(self, group: Group, register: m.Register, value: int, facts: WriteFacts) -> tuple[str, str] | None:
        if register.opt_in is not None:
            target = self.spec.capabilities.get(register.opt_in.text)
            if isinstance(target, m.Capability) and target.name not in self.enabled:
                return "ENOENT", f"exists only after {target.name} is enabled"
        vm_owned = register.scope in VM_OWNED
        current = self.vm_values.get(register.name, 0) if vm_owned else group.values.get(register.name, facts.saved)
        writable = register.writable
        if writable is not None and writable.kind != "always":
            events = self.vm_events if vm_owned else group.events
            frozen = writable.kind == "never" or writable.event in events
            if frozen:
                deadline = "read-only" if writable.kind == "never" else f"frozen at {writable.event}"
                deadline_errno = writable.errno.text if writable.errno else DEFAULT_ERRNO
                rewrite = register.rewrite
                if value != current:
                    return deadline_errno, f"{deadline}; the value differs"
                if rewrite is None:
                    return deadline_errno, f"{deadline}; no `rewrite` clause, so an identical write is refused too"
                if not rewrite.same_value_ok:
                    return rewrite.errno.text, f"{deadline}; rewrite same_value {rewrite.errno.text}"  # type: ignore[union-attr]
        reserved = register.reserved
        if register.bits and reserved is not None and reserved.kind == "reject" and value & ~facts.defined:
            return reserved.errno.text, "undefined bits set"  # type: ignore[union-attr]
        uniform = register.uniform
        if uniform is not None and uniform.kind == "enforced" and not vm_owned:
            first = self.uniform_values.setdefault(register.name, value)
            if value != first:
                return uniform.errno.text, "the value differs from another vCPU's"  # type: ignore[union-attr]
        return None

    def _store(self, group: Group, register: m.Register, value: int, facts: WriteFacts) -> None:
        if register.bits and register.reserved is not None and register.reserved.kind == "ignore":
            value &= facts.defined
        if register.scope in VM_OWNED:
            self.vm_values[register.name] = value
        else:
            group.values[register.name] = value

    # -- counting ----------------------------------------------------------------------------

    @staticmethod
    def _fds_of(group: Group, vcpu: int | None, times: int) -> list[tuple[tuple[int, str], int]]:
        """The fds a write of `times` goes to, as parts of the group: (part, how many fds)."""
        if vcpu is None:
            return [((id(group), "vm"), times)]
        if vcpu == group.members[0]:
            return (
                [((id(group), "first"), 1), ((id(group), "rest"), times - 1)]
                if times > 1
                else [((id(group), "first"), 1)]
            )
        return [((id(group), "rest"), times)]

    def begin_pass(self) -> None:
        """A VMM's pass over its writes starts: each batching interface issues one ioctl per fd
        in it (`batch yes`)."""
        self._open_batches.clear()

    def _count(
        self,
        ioctl: str,
        times: int,
        group: Group | None = None,
        register: m.Register | None = None,
        vcpu: int | None = None,
        *,
        fd: str,
    ) -> None:
        self.metrics.ioctls += times
        self.metrics.by_ioctl[ioctl, fd] += times
        self._trace(ioctl, times, group, register, vcpu)

    def _trace(
        self,
        ioctl: str,
        times: int,
        group: Group | None,
        register: m.Register | None,
        vcpu: int | None,
        *,
        batched: bool = False,
    ) -> None:
        if self.metrics.trace is not None:
            if register is not None:
                who = f"vCPU {vcpu}" if vcpu is not None else "the VM fd"
            elif group is None:
                who = "the VM"
            elif len(group.members) == 1:
                who = f"vCPU {group.members[0]}"
            else:
                who = f"vCPUs {group.members[0]}-{group.members[-1]}"
            what = f" {register.name}" if register else ""
            joined = ", in the ioctl above" if batched else ""
            self.metrics.trace.append(f"{ioctl}{what} on {who}" + (f" (x{times})" if times > 1 else "") + joined)

    def _fail(self, failure: Failure) -> None:
        self.metrics.failures.append(failure)
