"""The experiment plan: what to write and read on a VM's vCPUs, and what the answers mean.

Independent of how the ioctls get to a kernel: `probe_registers` takes vCPUs that can `get`,
`set` and `run` (this machine's /dev/kvm through validator.kernel.kvm, or, later, a transport
into an emulated arm64 guest). Each fact it returns carries a sentence saying how it was found,
which becomes the comment beside the attribute in the draft spec.

The experiments, on a fresh VM with at least two vCPUs:
- reset: every register read on every vCPU before anything is written, twice; a value that
  changes between the two reads is a counter and gets no reset claim;
- scope: a value that differs from every vCPU's current value is written through vCPU 0 and
  read back through vCPU 0 (it must have taken) and through vCPU 1: vCPU 1 sees it, one value
  per VM (`vm`); vCPU 1 keeps its own, one per vCPU (`vcpu`); then the old value is restored;
- width: the register read at each ONE_REG size (the id's size field, 8 to 2048 bits);
- reserved bits: where the spec names bits, one bit it leaves undefined is set through vCPU 0
  (refused with an errno: `reserved reject ERRNO`; accepted and dropped: `ignore`);
- after the vCPU ran (`first_run`): the same value written again (`rewrite same_value`), and a
  different one (`writable before first_run` if refused, with its errno).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from validator.kernel.kvm import SIZE_FIELD, SIZE_SHIFT, Outcome
from validator.model.frozen import frozen

# Written in turn until one takes: small values most registers accept, each different from
# the register's current values (the experiment skips those).
CANDIDATES = (0x1000, 0x2000, 0x1, 0x2, 0x10, 0x8000, 0x4000_0000, 0x3, 0x0)


class VcpuAccess(Protocol):
    def get(self, register_id: int) -> Outcome: ...

    def set(self, register_id: int, value: int) -> Outcome: ...

    def run(self) -> Outcome: ...


class TableAccess(Protocol):
    """A per-vCPU table read and written whole (the CPUID table): its value is bytes."""

    def get(self) -> bytes | None: ...

    def set(self, table: bytes) -> Outcome: ...

    def run(self) -> Outcome: ...


@frozen
class Fact:
    value: str  # as the language writes it: `vm`, `0x1000`, `always`, `before first_run else EBUSY`
    how: str  # how it was found, for the comment


@frozen
class Probed:
    """What the experiments found about one register; None where they could not tell (`how`
    in `unknown` says why, for a todo comment)."""

    id: int
    reset: Fact | None
    scope: Fact | None
    writable: Fact | None
    rewrite: Fact | None
    uniform: Fact | None = None  # for one value per VM: what a second vCPU's different write does
    reserved: Fact | None = None  # what a write setting one undefined bit does, where one was named
    unknown: tuple[str, ...] = ()
    crossed: str = "first_run"  # the lifecycle event the experiment wrote after
    width: Fact | None = None  # the one ONE_REG size the kernel reads the register at
    readable: bool = True  # a fresh vCPU's KVM_GET_ONE_REG succeeds: the register exists here
    bits: BitFacts | None = None  # what a write flipping each bit alone does (probe only)


@frozen
class BitFacts:
    """Each bit flipped alone from the register's value, through vCPU 0 before it ran."""

    writable: tuple[int, ...]  # accepted and kept
    ignored: tuple[int, ...]  # accepted and dropped
    refused: tuple[tuple[int, str], ...]  # (bit, errno)

    @property
    def reserved(self) -> Fact | None:
        """`reserved reject ERRNO` or `ignore` when every other bit is treated alike."""
        errnos = {errno for _, errno in self.refused}
        if self.refused and not self.ignored and len(errnos) == 1:
            errno = errnos.pop()
            return Fact(f"reject {errno}", f"each other bit flipped alone is refused with {errno}")
        if self.ignored and not self.refused:
            return Fact("ignore", "each other bit flipped alone is accepted and dropped")
        return None


def bit_ranges(bits: Sequence[int]) -> str:
    """`0-46, 63`: bit numbers as ranges, for a comment."""
    ranges: list[list[int]] = []
    for bit in sorted(bits):
        if ranges and bit == ranges[-1][1] + 1:
            ranges[-1][1] = bit
        else:
            ranges.append([bit, bit])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges)


def probe_bits(register_id: int, vcpu: VcpuAccess, width: int = 64) -> BitFacts | None:
    """Flip each bit alone from the current value; restore the value after each write."""
    current = vcpu.get(register_id)
    if not current.ok:
        return None
    value = current.value or 0
    writable, ignored, refused = [], [], []
    for bit in range(width):
        wrote = vcpu.set(register_id, value ^ 1 << bit)
        if not wrote.ok:
            refused.append((bit, wrote.errno or ""))
            continue
        if (vcpu.get(register_id).value or 0) >> bit & 1 != value >> bit & 1:
            writable.append(bit)
        else:
            ignored.append(bit)
        vcpu.set(register_id, value)
    return BitFacts(tuple(writable), tuple(ignored), tuple(refused))


@frozen
class _Reads:
    first: tuple[Outcome, ...]  # one per vCPU
    second: tuple[Outcome, ...]


def _hex(value: int) -> str:
    return f"0x{value:x}"


def judge_width(accepted: Sequence[int]) -> Fact | None:
    """The width from the ONE_REG sizes (bits) a read succeeded at: one size, or none known."""
    if len(accepted) != 1:
        return None
    return Fact(str(accepted[0]), f"KVM_GET_ONE_REG reads it at size {accepted[0]} only (sizes 8 to 2048 tried)")


def _probe_width(register_id: int, vcpu: VcpuAccess) -> Fact | None:
    base = register_id & ~SIZE_FIELD
    accepted = [8 << size for size in range(9) if vcpu.get(base | size << SIZE_SHIFT).ok]
    return judge_width(accepted)


def judge_reset(reads: _Reads) -> tuple[Fact | None, str]:
    """The reset value from the reads of fresh vCPUs (every vCPU, twice)."""
    outcomes = (*reads.first, *reads.second)
    refused = next((o for o in outcomes if not o.ok), None)
    if refused is not None:
        return None, f"reset: KVM_GET_ONE_REG fails with {refused.errno}"
    values = {o.value for o in outcomes}
    if len(values) != 1:
        return None, "reset: the value changes between reads of fresh vCPUs (a counter or a clock)"
    [value] = values
    return Fact(_hex(value or 0), f"read on {len(reads.first)} fresh vCPUs, twice"), ""


def judge_scope(before: tuple[int, int], written: int, after: tuple[int, int]) -> tuple[str | None, str]:
    """(scope, how) from one write through vCPU 0 of a value neither vCPU held."""
    if after[0] != written:
        return None, f"scope: {_hex(written)} written through vCPU 0 reads back as {_hex(after[0])}"
    if after[1] == written:
        return "vm", f"{_hex(written)} written through vCPU 0 is read back through vCPU 1"
    if after[1] == before[1]:
        return "vcpu", f"{_hex(written)} written through vCPU 0 leaves vCPU 1's {_hex(before[1])} unchanged"
    return None, f"scope: vCPU 1 read {_hex(after[1])} after vCPU 0 wrote {_hex(written)} (it held {_hex(before[1])})"


def judge_uniform(written: int, second: Outcome, read_back: int) -> Fact | None:
    """What a different value written through vCPU 1 does to a per-VM value vCPU 0 wrote."""
    if not second.ok:
        return Fact(
            f"enforced {second.errno} as implementation",
            f"vCPU 1's write of another value is refused with {second.errno} (what the kernel does, not a documented contract)",
        )
    if read_back != written:
        return Fact("last_wins", f"vCPU 1's write of {_hex(read_back)} replaces vCPU 0's {_hex(written)}")
    return None


def _probe_scope(register_id: int, vcpus: Sequence[VcpuAccess]) -> tuple[Fact | None, Fact | None, str, int | None]:
    """The scope, the uniformity of a per-VM value, why the scope is unknown, and a value
    vCPU 0 accepts other than its current one."""
    first, second = vcpus[0], vcpus[1]
    now = (first.get(register_id), second.get(register_id))
    if not all(o.ok for o in now):
        return None, None, "scope: the register cannot be read", None
    before = (now[0].value or 0, now[1].value or 0)
    tried: list[str] = []
    for value in (c for c in CANDIDATES if c not in before):
        wrote = first.set(register_id, value)
        if not wrote.ok:
            tried.append(f"{_hex(value)}: {wrote.errno}")
            continue
        after = (first.get(register_id).value or 0, second.get(register_id).value or 0)
        scope, how = judge_scope(before, value, after)
        uniform = None
        if scope == "vm":
            # vCPU 1 writes the value the register held: valid by construction, so a refusal
            # is the kernel enforcing one value, not a bad value.
            wrote_second = second.set(register_id, before[0])
            uniform = judge_uniform(value, wrote_second, first.get(register_id).value or 0)
        first.set(register_id, before[0])  # restore (through vCPU 0: a VM-wide value is restored for all)
        if scope is not None:
            return Fact(scope, how), uniform, "", value
        tried.append(how.removeprefix("scope: "))
    return None, None, "scope: no test value took (" + "; ".join(tried[:2]) + ")", None


def judge_reserved(bit: int, wrote: Outcome, read_back: int) -> Fact:
    """What setting one bit the spec leaves undefined did, through vCPU 0 before it ran."""
    if not wrote.ok:
        return Fact(f"reject {wrote.errno}", f"setting undefined bit {bit} is refused with {wrote.errno}")
    if read_back >> bit & 1:
        return Fact("accepted", f"setting undefined bit {bit} is accepted and kept: the bit is not reserved")
    return Fact("ignore", f"setting undefined bit {bit} is accepted and dropped")


def _probe_reserved(register_id: int, bit: int, vcpu: VcpuAccess) -> Fact | None:
    current = vcpu.get(register_id)
    if not current.ok:
        return None
    value = current.value or 0
    wrote = vcpu.set(register_id, value | 1 << bit)
    fact = judge_reserved(bit, wrote, vcpu.get(register_id).value or 0)
    vcpu.set(register_id, value)
    return fact


def probe_registers(
    register_ids: Sequence[int],
    vcpus: Sequence[VcpuAccess],
    reserved_bits: Mapping[int, int] | None = None,
    *,
    every_bit: bool = False,
) -> list[Probed]:
    """Every experiment on every register, on fresh vCPUs (at least two; vCPU 0 is run).
    `reserved_bits` names, per register id, one bit the spec leaves undefined, to set;
    `every_bit` flips each bit alone (what `probe` reports of a register's bits)."""
    if len(vcpus) < 2:
        raise ValueError("the scope experiment needs two vCPUs")
    first_reads = {r: tuple(v.get(r) for v in vcpus) for r in register_ids}
    reads = {r: _Reads(first_reads[r], tuple(v.get(r) for v in vcpus)) for r in register_ids}
    scopes = {r: _probe_scope(r, vcpus) for r in register_ids}
    reserved = {r: _probe_reserved(r, bit, vcpus[0]) for r, bit in (reserved_bits or {}).items() if r in reads}
    widths = {r: _probe_width(r, vcpus[0]) for r in register_ids}
    # A counter's bits cannot be told apart by reading them back: only stable registers.
    stable = [r for r in register_ids if judge_reset(reads[r])[0] is not None]
    bits = {r: probe_bits(r, vcpus[0]) for r in stable} if every_bit else {}
    ran = vcpus[0].run()
    results = []
    for register_id in register_ids:
        reset, reset_unknown = judge_reset(reads[register_id])
        scope, uniform, scope_unknown, accepted = scopes[register_id]
        unknown = [u for u in (reset_unknown, scope_unknown) if u]
        writable = rewrite = None
        if not ran.ok:
            unknown.append(f"after first_run: KVM_RUN failed with {ran.errno}")
        elif accepted is not None:
            writable, rewrite = _after_run(register_id, vcpus[0], accepted)
        else:
            unknown.append("after first_run: no value to write was found")
        results.append(
            Probed(
                register_id,
                reset,
                scope,
                writable,
                rewrite,
                uniform,
                reserved.get(register_id),
                tuple(unknown),
                width=widths[register_id],
                bits=bits.get(register_id),
                readable=any(o.ok for o in reads[register_id].first),
            )
        )
    return results


def judge_deadline(event: str, when: str, same: Outcome, other: str, different: Outcome) -> tuple[Fact, Fact]:
    """`writable` and `rewrite` from two writes after `event`: the value held, written again
    (`same`), and `other` (`different`)."""
    if different.ok:
        writable = Fact("always", f"{other} is accepted {when}")
    else:
        writable = Fact(f"before {event} else {different.errno}", f"{other} is refused {when}: {different.errno}")
    rewrite = Fact(same.errno or "ok", f"its own value written again {when}: {same.errno or 'accepted'}")
    return writable, rewrite


def _after_run(register_id: int, vcpu: VcpuAccess, accepted: int) -> tuple[Fact, Fact]:
    """`writable` and `rewrite` from two writes through vCPU 0 after it ran."""
    value = vcpu.get(register_id).value or 0
    same = vcpu.set(register_id, value)
    other = accepted if accepted != value else next(c for c in CANDIDATES if c != value)
    different = vcpu.set(register_id, other)
    vcpu.set(register_id, value)
    return judge_deadline("first_run", "after vCPU 0 ran", same, _hex(other), different)


def probe_table(tables: Sequence[TableAccess], initial: bytes, variant: Callable[[bytes], bytes]) -> Probed:
    """The experiments on a table set whole: `initial` set on every vCPU (a fresh vCPU's table
    is empty until the VMM sets one), a `variant` through vCPU 0 (scope), then after vCPU 0
    ran the same table again (`rewrite`) and a variant (`writable`)."""
    first, second = tables[0], tables[1]
    unknown = []
    for table in tables:
        table.set(initial)
    before = (first.get(), second.get())
    scope = None
    changed = variant(before[0] or initial)
    wrote = first.set(changed)
    after = (first.get(), second.get())
    if not wrote.ok or after[0] != changed:
        unknown.append(
            f"scope: a different table through vCPU 0 {'is refused: ' + str(wrote.errno) if not wrote.ok else 'does not read back'}"
        )
    elif after[1] == changed:
        scope = Fact("vm", "a different table set through vCPU 0 is read back through vCPU 1")
    elif after[1] == before[1]:
        scope = Fact("vcpu", "a different table set through vCPU 0 leaves vCPU 1's unchanged")
    first.set(before[0] or initial)
    ran = first.run()
    if not ran.ok:
        return Probed(
            0, None, scope, None, None, unknown=(*unknown, f"after first_run: KVM_RUN failed with {ran.errno}")
        )
    current = first.get() or initial
    same = first.set(current)
    different = first.set(variant(current))
    first.set(current)
    writable, rewrite = judge_deadline("first_run", "after vCPU 0 ran", same, "a different table", different)
    return Probed(0, None, scope, writable, rewrite, unknown=tuple(unknown))


class ValueAccess(Protocol):
    """A VM-wide value read and written through the VM fd."""

    def get(self) -> Outcome: ...

    def set(self, value: int) -> Outcome: ...


def probe_vm_value(first: ValueAccess, second: ValueAccess, create_vcpu: Callable[[], object]) -> Probed:
    """A VM-fd value on two fresh VMs: written on the first VM and read on both (scope), then
    written again once the first VM has a vCPU (`vcpu_create`): the same value (`rewrite`)
    and another (`writable`). Its starting value is the host's, so no reset is claimed."""
    unknown = ["reset: a fresh VM's value is the host's"]
    start = first.get()
    if not start.ok:
        return Probed(0, None, None, None, None, unknown=(*unknown, f"scope: the value cannot be read: {start.errno}"))
    value = start.value or 0
    other = value // 2 if value > 1 else value + 1
    wrote = first.set(other)
    scope = None
    if not wrote.ok:
        unknown.append(f"scope: {other} is refused before any vCPU exists: {wrote.errno}")
    elif (seen := second.get().value) == value and first.get().value == other:
        scope = Fact("vm", f"{other} set on one VM's fd leaves another VM's {value}")
    elif seen == other:
        scope = Fact("system", f"{other} set on one VM's fd is read on another VM")
    create_vcpu()
    current = first.get().value or 0
    same = first.set(current)
    different = first.set(value if current != value else other)
    writable, rewrite = judge_deadline("vcpu_create", "once the VM has a vCPU", same, "another value", different)
    return Probed(0, None, scope, writable, rewrite, unknown=tuple(unknown), crossed="vcpu_create")


def probe_vcpu_value(first: ValueAccess, second: ValueAccess, run: Callable[[], Outcome]) -> Probed:
    """A per-vCPU value set by an ioctl that takes it as its argument (the vCPU's TSC rate),
    on two fresh vCPUs: one more than vCPU 0's value written through vCPU 0 and read on both
    (scope), then, after vCPU 0 ran (`run`), its value written again (`rewrite`) and one more
    (`writable`). One more, because a rate within KVM's tolerance of the current one is
    accepted on every host, with or without TSC scaling. A fresh vCPU starts at the VM's
    default, which is the host's rate, so no reset is claimed."""
    unknown = ["reset: a fresh vCPU's value is the VM's default, the host's"]
    start = (first.get(), second.get())
    if not all(o.ok for o in start):
        failed = next(o.errno for o in start if not o.ok)
        return Probed(0, None, None, None, None, unknown=(*unknown, f"scope: the value cannot be read: {failed}"))
    before = (start[0].value or 0, start[1].value or 0)
    other = max(before) + 1
    wrote = first.set(other)
    scope = None
    if wrote.ok:
        found, how = judge_scope(before, other, (first.get().value or 0, second.get().value or 0))
        scope = Fact(found, how) if found else None
        if found is None:
            unknown.append(how)
        first.set(before[0])
    else:
        unknown.append(f"scope: {other} written through vCPU 0 is refused: {wrote.errno}")
    ran = run()
    if not ran.ok:
        return Probed(
            0, None, scope, None, None, unknown=(*unknown, f"after first_run: KVM_RUN failed with {ran.errno}")
        )
    current = first.get().value or 0
    same = first.set(current)
    different = first.set(current + 1)
    first.set(current)
    writable, rewrite = judge_deadline("first_run", "after vCPU 0 ran", same, str(current + 1), different)
    return Probed(0, None, scope, writable, rewrite, unknown=tuple(unknown))
