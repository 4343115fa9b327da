"""The arm64 transport: KVM inside an emulated arm64 guest (qemu-system-aarch64, TCG, EL2).

A static arm64 program (`guest/kvmserve.c`, built here with aarch64-linux-gnu-gcc) is the
initramfs's /init. It serves KVM ioctls one line at a time over the serial console, so the
host runs the very experiment plan it runs on its own /dev/kvm (validator.kernel.experiments)
against the guest's kernel, in one boot: every claim of a run shares it.

Why a line protocol rather than a batch of precomputed ioctls: the plan adapts to answers
(a refused test value makes it try the next), so it needs each answer before the next ioctl.
"""

from __future__ import annotations

import errno
import os
import selectors
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from validator.kernel.kvm import KvmUnavailable, Outcome

GUEST_SOURCE = Path(__file__).resolve().parent / "guest" / "kvmserve.c"
QEMU = "qemu-system-aarch64"
CROSS_GCC = "aarch64-linux-gnu-gcc"
INSTALL = "apt-get install qemu-system-arm gcc-aarch64-linux-gnu"
BOOT_TIMEOUT_S = 120.0  # boot to the server's first line: 7-12 s here, slower machines more
REPLY_TIMEOUT_S = 30.0  # one ioctl's answer
QEMU_ARGUMENTS = (
    "-M", "virt,virtualization=on,gic-version=3",
    "-cpu", "max,pauth=off",  # QARMA pointer authentication is very slow under TCG
    "-smp", "2", "-m", "1024", "-nographic", "-no-reboot",
    "-nic", "none",  # no network: it needs no ROM, and the guest needs none
)  # fmt: skip


def require_tools(kernel: str | None) -> str:
    """The kernel image to boot, once the tools are there; else why not, naming the install."""
    missing = [tool for tool in (QEMU, CROSS_GCC) if shutil.which(tool) is None]
    if missing:
        raise KvmUnavailable(f"{' and '.join(missing)} not found: {INSTALL}")
    if not kernel:
        raise KvmUnavailable("--kernel IMAGE is needed: an arm64 Linux image with KVM (Debian's linux-image-arm64)")
    if not os.path.isfile(kernel):
        raise KvmUnavailable(f"{kernel}: no such kernel image")
    return kernel


def build_initramfs(folder: str) -> str:
    """The guest program compiled, as the /init of a cpio archive (newc), with /dev/console."""
    program = os.path.join(folder, "kvmserve")
    compiled = subprocess.run(
        [CROSS_GCC, "-static", "-O2", "-Wall", "-Werror", "-o", program, str(GUEST_SOURCE)],
        capture_output=True,
        text=True,
    )
    if compiled.returncode != 0:
        raise KvmUnavailable(f"the guest program does not build: {compiled.stderr.strip()[:300]}")
    with open(program, "rb") as binary:
        return pack_initramfs(folder, binary.read())


def pack_initramfs(folder: str, init: bytes) -> str:
    """A cpio archive (newc) whose /init is `init`, with /dev and /dev/console."""
    archive = os.path.join(folder, "initramfs.cpio")
    entries = [
        ("dev", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
        ("init", stat.S_IFREG | 0o755, init, (0, 0)),
    ]
    with open(archive, "wb") as out:
        for number, (name, mode, data, device) in enumerate(entries, 1):
            out.write(_cpio_entry(number, name, mode, data, device))
        out.write(_cpio_entry(0, "TRAILER!!!", 0, b"", (0, 0)))
    return archive


def run_in_guest(kernel: str, program: bytes, timeout: float = BOOT_TIMEOUT_S) -> str:
    """Boot `program` (a static arm64 binary) as the guest's /init; its console, once it
    powers off (a selftest does, as pid 1)."""
    with tempfile.TemporaryDirectory(prefix="uapi-guest-") as folder:
        initramfs = pack_initramfs(folder, program)
        arguments = [QEMU, *QEMU_ARGUMENTS, "-kernel", kernel, "-initrd", initramfs,
                     "-append", "console=ttyAMA0 panic=-1 quiet loglevel=0"]  # fmt: skip
        try:
            ran = subprocess.run(arguments, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise KvmUnavailable(f"the guest did not power off within {timeout:.0f} s") from None
    return ran.stdout.decode("utf-8", "replace").replace("\r", "")


def _cpio_entry(number: int, name: str, mode: int, data: bytes, device: tuple[int, int]) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (number, mode, 0, 0, 1, 0, len(data), 0, 0, device[0], device[1], len(encoded), 0)
    header = b"070701" + b"".join(b"%08x" % field for field in fields)
    padded_name = header + encoded + b"\0" * (-(len(header) + len(encoded)) % 4)
    return padded_name + data + b"\0" * (-len(data) % 4)


class GuestKvm:
    """One boot of the emulated guest, its KVM served over the console; `with` powers it off."""

    def __init__(self, kernel: str) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="uapi-guest-")
        initramfs = build_initramfs(self._folder.name)
        self.started = time.monotonic()
        self._process = subprocess.Popen(
            [QEMU, *QEMU_ARGUMENTS, "-kernel", kernel, "-initrd", initramfs,
             "-append", "console=ttyAMA0 panic=-1 quiet loglevel=0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._selector = selectors.DefaultSelector()
        assert self._process.stdout is not None
        self._selector.register(self._process.stdout, selectors.EVENT_READ)
        self._pending = b""
        first = self._reply(BOOT_TIMEOUT_S)
        if not first.startswith("ready"):
            self.close()
            raise KvmUnavailable(f"the guest has no KVM: {first}")
        self.boot_seconds = time.monotonic() - self.started
        words = first.split()
        self.release = words[2] if len(words) > 2 else "?"  # the guest kernel's `uname -r`
        self.vms: list[GuestVm] = []

    def __enter__(self) -> GuestKvm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, command: str) -> str:
        assert self._process.stdin is not None
        self._process.stdin.write(command.encode() + b"\n")
        self._process.stdin.flush()
        return self._reply(REPLY_TIMEOUT_S)

    def _reply(self, timeout: float) -> str:
        """The next `@@ ` line of the console (kernel messages between are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self._pending:
                line, self._pending = self._pending.split(b"\n", 1)
                text = line.decode("utf-8", "replace").strip("\r\0 ")
                if text.startswith("@@ "):
                    return text[3:]
            left = deadline - time.monotonic()
            if left <= 0 or (self._process.poll() is not None and not self._selector.select(0)):
                self.close()
                raise KvmUnavailable(f"the guest did not answer within {timeout:.0f} s")
            for key, _ in self._selector.select(min(left, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk and self._process.poll() is not None:
                    self.close()
                    raise KvmUnavailable("the guest stopped before it answered")
                self._pending += chunk

    def create_vm(self) -> GuestVm:
        vm = GuestVm(self, _handle(self.call("vm")))
        self.vms.append(vm)
        return vm

    def check_extension(self, capability: int) -> int:
        return int(self.call(f"cap -1 {capability:x}").split()[1], 16)

    def ioctl(self, fd: str, handle: int, request: int, payload: bytes) -> Outcome:
        """An ioctl on a guest fd (sys, vm or vcpu) whose argument is a copy of `payload`."""
        return _outcome(self.call(f"ioctl {fd} {handle:x} {request:x} {payload.hex() or '00'}"))

    def open_fd(self, scope: str, event: str | None) -> Callable[[int, bytes], Outcome] | None:
        """An ioctl issuer on a fresh fd of `scope`, on a new VM that has passed `event`. A
        vCPU is created and initialised in one step here, so vcpu_create and vcpu_init are
        passed together; finalize is not reached."""
        if scope == "system":
            return None if event else partial(self.ioctl, "sys", 0)
        if scope not in ("vm", "vcpu") or event == "finalize":
            return None
        vm = _handle(self.call("vm" if event in ("memslot_create", "first_run") else "vm bare"))
        vcpu = None
        if scope == "vcpu" or event in ("vcpu_create", "vcpu_init", "first_run"):
            vcpu = _handle(self.call(f"vcpu {vm:x}"))
        if event == "first_run" and not _outcome(self.call(f"run {vcpu:x}")).ok:
            return None
        if scope == "vcpu" and vcpu is not None:
            return partial(self.ioctl, "vcpu", vcpu)
        return partial(self.ioctl, "vm", vm)

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.write(b"quit\n")
                self._process.stdin.flush()
                self._process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._selector.close()
        self._folder.cleanup()


def _handle(answer: str) -> int:
    words = answer.split()
    if words[:1] != ["ok"]:
        raise KvmUnavailable(f"the guest refused: {answer}")
    return int(words[1], 16)


def _outcome(answer: str) -> Outcome:
    words = answer.split()
    if words[:1] == ["ok"]:
        return Outcome(int(words[1], 16) if len(words) > 1 else None)
    number = int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
    return Outcome(errno=errno.errorcode.get(number, str(number)))


class GuestVm:
    def __init__(self, guest: GuestKvm, handle: int) -> None:
        self.guest, self.handle = guest, handle

    def create_vcpu(self) -> GuestVcpu:
        return GuestVcpu(self.guest, _handle(self.guest.call(f"vcpu {self.handle:x}")))

    def check_extension(self, capability: int) -> int:
        return int(self.guest.call(f"cap {self.handle:x} {capability:x}").split()[1], 16)

    def close(self) -> None:
        """The guest keeps its VMs until it powers off."""


class GuestVcpu:
    def __init__(self, guest: GuestKvm, handle: int) -> None:
        self.guest, self.handle = guest, handle

    def get(self, register_id: int) -> Outcome:
        return _outcome(self.guest.call(f"get {self.handle:x} {register_id:x}"))

    def set(self, register_id: int, value: int) -> Outcome:
        outcome = _outcome(self.guest.call(f"set {self.handle:x} {register_id:x} {value:x}"))
        return Outcome(errno=outcome.errno)

    def run(self) -> Outcome:
        return _outcome(self.guest.call(f"run {self.handle:x}"))

    def register_list(self) -> frozenset[int]:
        """KVM_GET_REG_LIST: every register a VMM saves from this vCPU."""
        answer = self.guest.call(f"reglist {self.handle:x}").split()
        if answer[:1] != ["ok"]:
            return frozenset()
        return frozenset(int(word, 16) for word in answer[1:])
