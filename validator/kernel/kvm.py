"""The x86 KVM transport: this machine's /dev/kvm through ioctl(2), from the standard library.

Only what the experiments need, and only on VMs this process creates: it opens /dev/kvm,
makes its own VM and vCPUs, reads and writes registers through ONE_REG, and runs a vCPU whose
guest halts at once. It never touches another process's VM (it has no way to name one).

Why ctypes and fcntl rather than a C helper: nothing to build or ship, the same code on every
machine with Python, and each ioctl's errno comes back as Python sees it. The numbers below
are the kernel's `_IO`/`_IOW`/`_IOWR` encodings; `tests/test_kvm.py` checks each against the
installed <linux/kvm.h> compiled by gcc.

What to write and read, and what the answers mean, is not decided here: that is the
experiment plan (validator.kernel.experiments), which runs as well over another transport
(the arm64 guest of the next issue).
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import platform
import struct
from collections.abc import Callable
from functools import partial

from validator.model.frozen import frozen

KVMIO = 0xAE
DEVICE = "/dev/kvm"


def _ioc(direction: int, number: int, size: int) -> int:
    return direction << 30 | size << 16 | KVMIO << 8 | number


_NONE, _WRITE, _READ = 0, 1, 2
KVM_GET_API_VERSION = _ioc(_NONE, 0x00, 0)
KVM_CREATE_VM = _ioc(_NONE, 0x01, 0)
KVM_GET_MSR_INDEX_LIST = _ioc(_READ | _WRITE, 0x02, 4)
KVM_CHECK_EXTENSION = _ioc(_NONE, 0x03, 0)
KVM_GET_VCPU_MMAP_SIZE = _ioc(_NONE, 0x04, 0)
KVM_CREATE_VCPU = _ioc(_NONE, 0x41, 0)
KVM_SET_USER_MEMORY_REGION = _ioc(_WRITE, 0x46, 32)
KVM_RUN = _ioc(_NONE, 0x80, 0)
KVM_GET_SUPPORTED_CPUID = _ioc(_READ | _WRITE, 0x05, 8)
KVM_SET_CPUID2 = _ioc(_WRITE, 0x90, 8)
KVM_GET_CPUID2 = _ioc(_READ | _WRITE, 0x91, 8)
KVM_SET_TSC_KHZ = _ioc(_NONE, 0xA2, 0)
KVM_GET_TSC_KHZ = _ioc(_NONE, 0xA3, 0)
KVM_GET_ONE_REG = _ioc(_WRITE, 0xAB, 16)
KVM_SET_ONE_REG = _ioc(_WRITE, 0xAC, 16)

KVM_EXIT_HLT = 5
API_VERSION = 12  # the only version KVM has ever had (KVM_GET_API_VERSION)
ONE_REG_MAX_BYTES = 256  # KVM_REG_SIZE_U2048
SIZE_SHIFT, SIZE_FIELD = 52, 0xF << 52  # KVM_REG_SIZE_SHIFT, KVM_REG_SIZE_MASK
# ONE_REG ids of x86 MSRs: KVM_REG_X86 | KVM_REG_SIZE_U64 | KVM_X86_REG_TYPE_MSR << 32 | index.
X86_MSR_ID_BASE = 0x2030_0002_0000_0000
MAX_MSRS = 4096  # room for the index list; KVM lists a few dozen
MAX_CPUID_ENTRIES = 256  # room for a CPUID table (struct kvm_cpuid2); KVM has a few dozen
CPUID_ENTRY_SIZE = 40  # struct kvm_cpuid_entry2

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
_libc.ioctl.restype = ctypes.c_int


class KvmUnavailable(Exception):
    """This machine cannot run the experiments: no /dev/kvm, no permission, or not x86_64."""


@frozen
class Outcome:
    """One ioctl's answer: its value (a register read) or the errno name of its refusal."""

    value: int | None = None
    errno: str | None = None

    @property
    def ok(self) -> bool:
        return self.errno is None


def _call(fd: int, request: int, argument: ctypes.c_void_p | int | None) -> tuple[int, str | None]:
    result = _libc.ioctl(fd, request, argument)
    if result < 0:
        number = ctypes.get_errno()
        return result, errno.errorcode.get(number, str(number))
    return result, None


def raw_ioctl(fd: int, request: int, payload: bytes) -> Outcome:
    """An ioctl whose argument points at `payload` (a copy); its result, or the errno."""
    buffer = ctypes.create_string_buffer(payload, max(len(payload), 1))
    result, failed = _call(fd, request, ctypes.cast(buffer, ctypes.c_void_p))
    return Outcome(errno=failed) if failed else Outcome(result)


def msr_id(index: int) -> int:
    return X86_MSR_ID_BASE | index


class Vcpu:
    def __init__(self, vm: Vm, fd: int, index: int) -> None:
        self.vm, self.fd, self.index = vm, fd, index
        self._run = mmap.mmap(fd, vm.kvm.vcpu_mmap_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def get(self, register_id: int) -> Outcome:
        # Room for the largest ONE_REG size (2048 bits), whatever the id's size field says:
        # the kernel copies that many bytes. The value is the low 64 bits.
        value = ctypes.create_string_buffer(ONE_REG_MAX_BYTES)
        argument = struct.pack("QQ", register_id, ctypes.addressof(value))
        _, failed = _call(self.fd, KVM_GET_ONE_REG, ctypes.cast(ctypes.c_char_p(argument), ctypes.c_void_p))
        return Outcome(errno=failed) if failed else Outcome(struct.unpack_from("<Q", value, 0)[0])

    def set(self, register_id: int, value: int) -> Outcome:
        holder = ctypes.create_string_buffer(value.to_bytes(8, "little"), ONE_REG_MAX_BYTES)
        argument = struct.pack("QQ", register_id, ctypes.addressof(holder))
        _, failed = _call(self.fd, KVM_SET_ONE_REG, ctypes.cast(ctypes.c_char_p(argument), ctypes.c_void_p))
        return Outcome(errno=failed)

    def run(self) -> Outcome:
        """Run until the guest halts (its first instruction is `hlt`); the exit reason is the value."""
        self.vm.map_halting_guest()
        _, failed = _call(self.fd, KVM_RUN, None)
        if failed:
            return Outcome(errno=failed)
        return Outcome(struct.unpack_from("I", self._run, 8)[0])

    def close(self) -> None:
        self._run.close()
        os.close(self.fd)


def _cpuid_table(fd: int, request: int) -> tuple[bytes | None, str | None]:
    """A struct kvm_cpuid2 read by `request` (KVM_GET_CPUID2, KVM_GET_SUPPORTED_CPUID)."""
    buffer = ctypes.create_string_buffer(8 + CPUID_ENTRY_SIZE * MAX_CPUID_ENTRIES)
    struct.pack_into("I", buffer, 0, MAX_CPUID_ENTRIES)
    _, failed = _call(fd, request, ctypes.cast(buffer, ctypes.c_void_p))
    if failed:
        return None, failed
    count = struct.unpack_from("I", buffer, 0)[0]
    return buffer.raw[: 8 + CPUID_ENTRY_SIZE * count], None


class CpuidTable:
    """A vCPU's CPUID table (KVM_GET_CPUID2/KVM_SET_CPUID2) as one value of bytes: the
    experiments' table transport."""

    def __init__(self, vcpu: Vcpu) -> None:
        self.vcpu = vcpu

    def get(self) -> bytes | None:
        return _cpuid_table(self.vcpu.fd, KVM_GET_CPUID2)[0]

    def set(self, table: bytes) -> Outcome:
        buffer = ctypes.create_string_buffer(table, len(table))
        return Outcome(errno=_call(self.vcpu.fd, KVM_SET_CPUID2, ctypes.cast(buffer, ctypes.c_void_p))[1])

    def run(self) -> Outcome:
        return self.vcpu.run()


def cpuid_variant(table: bytes) -> bytes:
    """The table with leaf 1's hypervisor bit (ECX bit 31) flipped: a different table KVM
    accepts before the vCPU runs."""
    count = struct.unpack_from("I", table, 0)[0]
    for entry in range(count):
        offset = 8 + CPUID_ENTRY_SIZE * entry
        if struct.unpack_from("I", table, offset)[0] == 1:
            changed = bytearray(table)
            ecx = struct.unpack_from("I", table, offset + 20)[0]
            struct.pack_into("I", changed, offset + 20, ecx ^ 1 << 31)
            return bytes(changed)
    raise ValueError("the CPUID table has no leaf 1")


class IoctlValue:
    """A value set and read by ioctls that take it as their argument and return it, on a VM
    fd or a vCPU fd (KVM_SET_TSC_KHZ and KVM_GET_TSC_KHZ on either)."""

    def __init__(self, fd: int, get_request: int, set_request: int) -> None:
        self.fd, self.get_request, self.set_request = fd, get_request, set_request

    def get(self) -> Outcome:
        result, failed = _call(self.fd, self.get_request, None)
        return Outcome(errno=failed) if failed else Outcome(result)

    def set(self, value: int) -> Outcome:
        return Outcome(errno=_call(self.fd, self.set_request, value)[1])


# Values the experiments reach, by the ioctl that sets them: (get, set) requests. The same
# pair serves the VM fd (the VM's default) and the vCPU fd (that vCPU's own).
VALUE_IOCTLS = {"KVM_SET_TSC_KHZ": (KVM_GET_TSC_KHZ, KVM_SET_TSC_KHZ)}


class Vm:
    # The guest: one page at the top of the 32-bit space, where an x86 vCPU starts (reset
    # vector 0xFFFFFFF0), holding `hlt`, so that KVM_RUN returns with KVM_EXIT_HLT at once.
    _GUEST_PAGE = 0xFFFF_F000

    def __init__(self, kvm: Kvm, fd: int) -> None:
        self.kvm, self.fd = kvm, fd
        self.vcpus: list[Vcpu] = []
        self._memory: mmap.mmap | None = None

    def create_vcpu(self) -> Vcpu:
        index = len(self.vcpus)
        fd, failed = _call(self.fd, KVM_CREATE_VCPU, index)
        if failed:
            raise KvmUnavailable(f"KVM_CREATE_VCPU {index} failed: {failed}")
        vcpu = Vcpu(self, fd, index)
        self.vcpus.append(vcpu)
        return vcpu

    def check_extension(self, capability: int) -> int:
        return max(_call(self.fd, KVM_CHECK_EXTENSION, capability)[0], 0)

    def map_halting_guest(self) -> None:
        if self._memory is not None:
            return
        self._memory = mmap.mmap(-1, 4096)
        self._memory[0xFF0] = 0xF4  # hlt
        address = ctypes.addressof(ctypes.c_char.from_buffer(self._memory))
        region = struct.pack("IIQQQ", 0, 0, self._GUEST_PAGE, 4096, address)
        _, failed = _call(self.fd, KVM_SET_USER_MEMORY_REGION, ctypes.cast(ctypes.c_char_p(region), ctypes.c_void_p))
        if failed:
            raise KvmUnavailable(f"KVM_SET_USER_MEMORY_REGION failed: {failed}")

    def close(self) -> None:
        """Close the VM and its vCPUs (once: a second call does nothing)."""
        if self.fd < 0:
            return
        for vcpu in self.vcpus:
            vcpu.close()
        os.close(self.fd)
        self.fd = -1
        # The memory stays mapped until the VM is gone: closing the fd first lets KVM drop it.
        if self._memory is not None:
            self._memory.close()


class Kvm:
    """/dev/kvm, and every VM made through it; `with Kvm() as kvm:` closes them all."""

    def __init__(self, device: str = DEVICE) -> None:
        if platform.machine() not in ("x86_64", "AMD64"):
            raise KvmUnavailable(f"the KVM experiments run on x86_64; this machine is {platform.machine()}")
        try:
            self.fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            raise KvmUnavailable(f"{device}: {exc.strerror}") from None
        version, _ = _call(self.fd, KVM_GET_API_VERSION, None)
        if version != API_VERSION:
            os.close(self.fd)
            raise KvmUnavailable(f"{device}: KVM API version {version}, not {API_VERSION}")
        self.vcpu_mmap_size = _call(self.fd, KVM_GET_VCPU_MMAP_SIZE, None)[0]
        self.vms: list[Vm] = []

    def __enter__(self) -> Kvm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_extension(self, capability: int) -> int:
        return max(_call(self.fd, KVM_CHECK_EXTENSION, capability)[0], 0)

    def create_vm(self) -> Vm:
        fd, failed = _call(self.fd, KVM_CREATE_VM, 0)
        if failed:
            raise KvmUnavailable(f"KVM_CREATE_VM failed: {failed}")
        vm = Vm(self, fd)
        self.vms.append(vm)
        return vm

    def open_fd(self, scope: str, event: str | None) -> Callable[[int, bytes], Outcome] | None:
        """An ioctl issuer on a fresh fd of `scope`, on a new VM that has passed `event`
        (vcpu_create, first_run, memslot_create; x86 has no vcpu_init or finalize step)."""
        if scope == "system":
            return None if event else partial(raw_ioctl, self.fd)
        if scope not in ("vm", "vcpu") or event in ("vcpu_init", "finalize"):
            return None
        vm = self.create_vm()
        vcpu = vm.create_vcpu() if scope == "vcpu" or event in ("vcpu_create", "first_run") else None
        if event == "first_run" and vcpu is not None and not vcpu.run().ok:
            return None
        if event == "memslot_create":
            vm.map_halting_guest()
        return partial(raw_ioctl, vcpu.fd if scope == "vcpu" and vcpu is not None else vm.fd)

    def supported_cpuid(self) -> bytes:
        """KVM_GET_SUPPORTED_CPUID: the table a VMM starts from."""
        table, failed = _cpuid_table(self.fd, KVM_GET_SUPPORTED_CPUID)
        if table is None:
            raise KvmUnavailable(f"KVM_GET_SUPPORTED_CPUID failed: {failed}")
        return table

    def msr_indices(self) -> list[int]:
        """KVM_GET_MSR_INDEX_LIST: the MSRs a VMM saves and restores, in the kernel's order."""
        buffer = ctypes.create_string_buffer(4 + 4 * MAX_MSRS)
        struct.pack_into("I", buffer, 0, MAX_MSRS)
        _, failed = _call(self.fd, KVM_GET_MSR_INDEX_LIST, ctypes.cast(buffer, ctypes.c_void_p))
        if failed:
            raise KvmUnavailable(f"KVM_GET_MSR_INDEX_LIST failed: {failed}")
        count = struct.unpack_from("I", buffer, 0)[0]
        return list(struct.unpack_from(f"{count}I", buffer, 4))

    def close(self) -> None:
        for vm in self.vms:
            vm.close()
        self.vms = []
        os.close(self.fd)


def available() -> str | None:
    """None where the experiments can run here, else why not (for a test's skip reason)."""
    try:
        Kvm().close()
    except KvmUnavailable as exc:
        return str(exc)
    return None
