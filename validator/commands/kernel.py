"""The kernel's own word: `import` (specs from its headers), `export` (the register list for its
selftest) and `probe` (a draft spec of what the running kernel does, found by experiment)."""

from __future__ import annotations

import argparse
import platform
import re
from dataclasses import replace

from validator import TOOL_NAME, __version__
from validator.commands import (
    EXIT_FINDINGS,
    EXIT_OK,
    Command,
    UsageError,
    config_of,
    header_arguments,
    header_options,
    output_options,
    paths_of,
    require_no_errors,
)
from validator.commands import check as check_command
from validator.frontend import textfile
from validator.frontend.load import load_units
from validator.frontend.resolve import ResolvedSpec
from validator.kernel.cfront import CHeaders, HeaderError, read_c_headers
from validator.kernel.conform import (
    NotConformable,
    guest_conformer,
    is_arm64_id,
    is_msr_id,
    kvm_conformer,
    undefined_bit,
)
from validator.kernel.crosscheck import (
    FAMILIES,
    HeaderRegisters,
    header_registers,
    import_ioctls,
    import_spec,
    register_family,
)
from validator.kernel.experiments import Probed, bit_ranges, probe_registers
from validator.kernel.kvm import API_VERSION, DEVICE, SIZE_SHIFT, X86_MSR_ID_BASE, Kvm, KvmUnavailable, msr_id
from validator.kernel.qemu import GuestKvm, require_tools
from validator.kernel.register_names import arm64_name, msr_name
from validator.kernel.reglist import RegisterListError, is_c_register_list, read_register_lists
from validator.model.abi import abi_of_api
from validator.model.spec import Register
from validator.pipeline.config import Config
from validator.pipeline.engine import Report, check_paths, conform_units
from validator.report import jsondoc
from validator.report.output import write_text
from validator.report.render import render
from validator.tools.fmt import format_text


def _read_headers(args: argparse.Namespace, abi: str) -> CHeaders:
    header_options(args)
    try:
        return read_c_headers(args.header, args.include, abi)
    except HeaderError as exc:
        raise UsageError(f"{args.command}: {exc}") from None


_API_NAME = re.compile(r"[A-Za-z0-9_.+/-]+")


def import_header(args: argparse.Namespace) -> int:
    if not _API_NAME.fullmatch(args.api):
        raise UsageError(f"--api takes a name such as kvm/arm64 (letters, digits, _ . + / -), not {args.api!r}")
    if args.ioctls:
        return _import_ioctls(args)
    if not args.family and args.prefix is None:
        raise UsageError(f"import: name a --family ({', '.join(FAMILIES)}), a --prefix, or --ioctls")
    headers = _read_headers(args, args.abi or abi_of_api(args.api))
    found = header_registers(headers)
    registers = import_spec(found, args.family, args.prefix)
    if not registers:
        raise UsageError(f"import: {_why_none(found, headers, args)}")
    return _write_import(args, "import.uapi.j2", headers, families=args.family, registers=registers)


def _write_import(args: argparse.Namespace, template: str, headers: CHeaders, **found: object) -> int:
    """A starting spec from headers: the template given what was found, written where asked."""
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "headers": args.header,
        "prefix": args.prefix,
        "api": args.api,
        **found,
    }
    write_text(render(template, view), args.output, [*args.header, *headers.files])
    return EXIT_OK


def _import_ioctls(args: argparse.Namespace) -> int:
    abi = args.abi or abi_of_api(args.api)
    headers = _read_headers(args, abi)
    found = import_ioctls(headers, args.prefix)
    if not found["ioctls"]:
        what = f" starting with {args.prefix}" if args.prefix else ""
        raise UsageError(f"import: no _IO/_IOR/_IOW/_IOWR(KVMIO, ...) ioctl{what} in {', '.join(args.header)}")
    return _write_import(args, "import-ioctls.uapi.j2", headers, abi=abi, **found)


def _why_none(found: HeaderRegisters, headers: CHeaders, args: argparse.Namespace) -> str:
    """Why no register was chosen, in terms of what to give instead."""
    what = " and ".join([*(f"family {f}" for f in args.family), *([f"prefix {args.prefix}"] if args.prefix else [])])
    if not found.by_name:
        if "KVM_REG_ARM64" not in headers.macros and "KVM_REG_RISCV" not in headers.macros:
            return (
                f"no register id resolves in {', '.join(args.header)}: the architecture ids (KVM_REG_ARM64, "
                "KVM_REG_RISCV, KVM_REG_X86) are defined in <linux/kvm.h>; add --header <linux/kvm.h> "
                "(or include/uapi/linux/kvm.h) and its -I directory"
            )
        return f"no macro of {', '.join(args.header)} is a register id"
    families = sorted(set(found.families.values()))
    return f"no register id macro matches {what}; the headers define register ids of {', '.join(families)}"


_LISTED_ID = re.compile(r"0[xX]([0-9a-fA-F]{1,16})(?![0-9a-fA-F])")
_TOO_WIDE_ID = re.compile(r"0[xX]0*[1-9a-fA-F][0-9a-fA-F]{16,}")


def export(args: argparse.Namespace) -> int:
    report = check_paths([args.path])
    require_no_errors(report)
    if args.what == "selftest":
        return _export_selftest(args, report)
    listed = {
        r.id: {"id": r.id, "name": r.name, "opt_in": r.opt_in.text if r.opt_in else ""}
        for spec in report.specs
        for r in spec.registers.values()
        if r.id is not None and any(i.enumerable for i in spec.interfaces_of(r))
    }
    registers = [listed[i] for i in sorted(listed)]
    if args.check:
        try:
            checked_in = textfile.read_text(args.check)
        except UnicodeDecodeError:
            raise UsageError(f"{args.check}: not valid UTF-8") from None
        if is_c_register_list(checked_in):
            return _check_selftest_list(args, report, registers, checked_in)
        too_wide = _TOO_WIDE_ID.search(checked_in)
        if too_wide:
            line = checked_in.count("\n", 0, too_wide.start()) + 1
            raise UsageError(f"{args.check}:{line}: {too_wide.group()[:24]}... is wider than a 64-bit register id")
        ids = {
            int(h, 16)
            for line in checked_in.splitlines()
            for h in _LISTED_ID.findall(line.split("#")[0].split("/*")[0])
        }
        names = {int(h, 16): line for line in checked_in.splitlines() for h in _LISTED_ID.findall(line)}
        view = {
            "checked": args.check,
            "spec": args.path,
            "count": len(registers),
            "subset": [],
            "appeared": [r for r in registers if r["id"] not in ids],
            "vanished": [{"id": i, "name": _name_in(names[i])} for i in sorted(ids - set(listed))],
        }
        write_text(render("reglist-drift.txt.j2", view), args.output, [*report.files, args.check])
        return EXIT_FINDINGS if view["appeared"] or view["vanished"] else EXIT_OK
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "spec": args.path,
        "registers": registers,
        "array": "uapi_reglist",
    }
    write_text(render(f"reglist.{'c' if args.format == 'c' else 'txt'}.j2", view), args.output, report.files)
    return EXIT_OK


def _check_selftest_list(
    args: argparse.Namespace, report: Report, registers: list[dict[str, object]], text: str
) -> int:
    """The spec's list against a get-reg-list selftest's arrays, evaluated with the headers;
    with --subset, only in the register families the spec covers."""
    header_options(args)
    api = report.specs[0].api.name if report.specs and report.specs[0].api else None
    try:
        listed = read_register_lists(text, args.check, args.header, args.include, args.abi or abi_of_api(api))
    except RegisterListError as exc:
        raise UsageError(str(exc)) from None
    ids = {r["id"] for r in registers}
    covered = {register_family(int(str(i))) for i in ids} - {None}
    in_scope = [r for r in listed if not args.subset or register_family(r.id) in covered]
    selftest_ids = {r.id for r in in_scope}
    names = {r.id: r.name for r in in_scope}
    view = {
        "checked": args.check,
        "spec": args.path,
        "count": len(registers),
        "subset": sorted(f for f in covered if f) if args.subset else [],
        "appeared": [r for r in registers if r["id"] not in selftest_ids],
        "vanished": [{"id": i, "name": names[i]} for i in sorted(selftest_ids - ids)],
    }
    write_text(render("reglist-drift.txt.j2", view), args.output, [*report.files, args.check])
    return EXIT_FINDINGS if view["appeared"] or view["vanished"] else EXIT_OK


# Per architecture: which ids the selftest reaches, the list ioctl it reads, its compiler.
SELFTEST_ARCHES = {
    "x86_64": (is_msr_id, "KVM_GET_MSR_INDEX_LIST", "gcc"),
    "aarch64": (is_arm64_id, "KVM_GET_REG_LIST", "aarch64-linux-gnu-gcc"),
}


def _export_selftest(args: argparse.Namespace, report: Report) -> int:
    """The spec's claims as a C program in the style of the kernel's KVM selftests (TAP)."""
    apis = {spec.api.name for spec in report.specs if spec.api}
    arch = args.arch or ("x86_64" if any(api.endswith("x86") for api in apis) else "aarch64")
    reaches, list_ioctl, compiler = SELFTEST_ARCHES[arch]
    registers = [
        _selftest_claims(spec, register, list_ioctl)
        for spec in report.specs
        for register in spec.registers.values()
        if reaches(register.id)
    ]
    if not registers:
        raise UsageError(f"{args.path}: no register an {arch} selftest reaches (ONE_REG ids of {arch})")
    view = {"tool": {"name": TOOL_NAME, "version": __version__}, "spec": args.path, "arch": arch,
            "compiler": compiler, "registers": registers}  # fmt: skip
    write_text(render("selftest.c.j2", view), args.output, report.files)
    return EXIT_OK


def _selftest_claims(spec: ResolvedSpec, register: Register, list_ioctl: str) -> dict[str, object]:
    """One register's claims as the selftest's C initializer fields (errnos by their names)."""
    writable, rewrite, uniform = register.writable, register.rewrite, register.uniform
    deadline = writable is not None and writable.kind == "before" and writable.event == "first_run"
    claims: dict[str, object] = {
        "name": register.name,
        "id": register.id,
        "reset_claimed": int(register.reset is not None and register.reset.kind == "value"),
        "reset": register.reset.value if register.reset is not None and register.reset.value is not None else 0,
        "scope": {"vm": "PER_VM", "write_once": "PER_VM", "vcpu": "PER_VCPU"}.get(register.scope or "", "ANY"),
        "writable_claimed": int(deadline or (writable is not None and writable.kind == "always")),
        "writable_errno": writable.errno.text if deadline and writable and writable.errno else 0,
        "rewrite_claimed": int(deadline and rewrite is not None),
        "rewrite_errno": rewrite.errno.text if deadline and rewrite and rewrite.errno else 0,
        "uniform_claimed": 0,
        "uniform_errno": 0,
        "reserved_bit": -1,
        "reserved_errno": 0,
        "listed": int(any(i.ioctl("list") == list_ioctl for i in spec.interfaces_of(register))),
    }
    if register.scope in ("vm", "write_once") and uniform is not None and uniform.kind in ("last_wins", "enforced"):
        claims["uniform_claimed"] = 1
        claims["uniform_errno"] = uniform.errno.text if uniform.kind == "enforced" and uniform.errno else 0
    bit = undefined_bit(register)
    if bit is not None and register.reserved is not None:
        claims["reserved_bit"] = bit
        claims["reserved_errno"] = register.reserved.errno.text if register.reserved.errno else 0
    return claims


def _name_in(line: str) -> str:
    """The register name a checked-in line carries in its comment, if any."""
    found = re.search(r"(?:#|/\*)\s*([A-Za-z_]\w*)", line)
    return found.group(1) if found else "(unnamed)"


def _require_vcpus(count: int) -> None:
    if not 2 <= count <= 64:
        raise UsageError("--vcpus takes 2 to 64 (the scope experiment writes through one and reads through another)")


def probe(args: argparse.Namespace) -> int:
    """Probe a kernel's KVM (this machine's, or the emulated arm64 guest's): every register it
    lists, on a VM of its own, written out as a draft spec."""
    _require_vcpus(args.vcpus)
    try:
        if args.target == QEMU_AARCH64:
            with GuestKvm(require_tools(args.kernel)) as guest:
                guest_vm = guest.create_vm()
                guest_vcpus = [guest_vm.create_vcpu() for _ in range(args.vcpus)]
                ids = sorted(guest_vcpus[0].register_list())
                probed = probe_registers(ids, guest_vcpus)
                release, arch = guest.release, "aarch64"
        else:
            with Kvm(args.device) as kvm:
                ids = [msr_id(i) for i in kvm.msr_indices()]
                vm = kvm.create_vm()
                vcpus = [vm.create_vcpu() for _ in range(args.vcpus)]
                probed = probe_registers(ids, vcpus, every_bit=True)
                release, arch = platform.release(), "x86_64"
    except KvmUnavailable as exc:
        raise UsageError(f"probe: {exc}") from None
    x86 = arch == "x86_64"
    view = {
        "tool": {"name": TOOL_NAME, "version": __version__},
        "kernel": {
            "release": release,
            "version": ".".join(release.split(".")[:2]),
            "machine": arch if x86 else "aarch64, emulated",
            "arch": arch,
            "api_arch": "x86" if x86 else "arm64",
            "api": API_VERSION,
            "listed": len(ids),
            "list": "KVM_GET_MSR_INDEX_LIST" if x86 else "KVM_GET_REG_LIST",
            "interface": "msrs" if x86 else "one_reg",
            "id_base": X86_MSR_ID_BASE,
            "vcpus": args.vcpus,
        },
        "registers": [
            {
                **_probed_view(p),
                "name": msr_name(i & 0xFFFF_FFFF) if x86 else arm64_name(i),
                "width": 8 << (i >> SIZE_SHIFT & 0xF),
            }
            for i, p in zip(ids, probed, strict=True)
        ],
    }
    # Laid out as `fmt` lays out a spec, so that the draft is ready to edit and commit.
    write_text(format_text(render("probe.uapi.j2", view), "probe.uapi"), args.output, [])
    return EXIT_OK


def conform(args: argparse.Namespace) -> int:
    """Ask the running kernel each claim of the spec; exit 1 on a contradiction."""
    extra = check_command.extra_outputs(args)
    _require_vcpus(args.vcpus)
    paths = paths_of(args)
    report = conform_report(args, paths, config_of(args, paths))
    return check_command.emit_report(replace(report, checked=tuple(paths)), args, extra)


def conform_report(args: argparse.Namespace, paths: list[str], config: Config) -> Report:
    """The paths' claims asked of the kernel `args` names (`--target`, `--kernel`, `--device`)."""
    units = load_units(paths)
    try:
        if args.target == QEMU_AARCH64:
            with GuestKvm(require_tools(args.kernel)) as guest:
                return conform_units(units, guest_conformer(guest, args.vcpus), config)
        with Kvm(args.device) as kvm:
            return conform_units(units, kvm_conformer(kvm, args.vcpus, platform.release()), config)
    except (KvmUnavailable, NotConformable) as exc:
        raise UsageError(f"conform: {exc}") from None


# A register with at most this many writable bits is a bitfield: the draft names its bits and
# says what the others do (`reserved`); above it (an address, a count), only a comment.
BITFIELD_BITS = 16


def _probed_view(probed: Probed) -> dict[str, object]:
    view: dict[str, object] = {
        field: getattr(probed, field) for field in ("id", "reset", "scope", "writable", "rewrite", "uniform", "unknown")
    }
    view.update(reserved=None, bits=[], bits_how="")
    bits = probed.bits
    if bits is not None:
        parts = [f"writable {bit_ranges(bits.writable) or 'none'}"]
        if bits.ignored:
            parts.append(f"ignored {bit_ranges(bits.ignored)}")
        for errno in sorted({errno for _, errno in bits.refused}):
            parts.append(f"refused {bit_ranges([b for b, e in bits.refused if e == errno])} ({errno})")
        view["bits_how"] = "each bit flipped alone before the first run: " + "; ".join(parts)
        if bits.reserved is not None and len(bits.writable) <= BITFIELD_BITS:
            view["reserved"] = bits.reserved
            view["bits"] = list(bits.writable)
    return view


# The commands of this module: their arguments beside their handlers.
def inspect_headers(args: argparse.Namespace) -> int:
    headers = _read_headers(args, args.abi)
    document = headers.as_json()
    if args.format == "json":
        text = jsondoc.dumps(document)
    else:
        view = {
            **document,
            "headers": args.header,
            "abi": args.abi,
            "not_integers": headers.not_integers,
            "unreadable": headers.unreadable,
        }
        text = render("inspect.txt.j2", view)
    write_text(text, args.output, [*args.header, *headers.files])
    return EXIT_OK


def _inspect_arguments(parser: argparse.ArgumentParser) -> None:
    header_arguments(parser, abi_default="x86_64")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")


def _import_arguments(parser: argparse.ArgumentParser) -> None:
    header_arguments(parser, abi_default=None)
    parser.add_argument(
        "--family",
        action="append",
        default=[],
        choices=FAMILIES,
        help="a register family to import (repeatable): the id's architecture and group, never a mask",
    )
    parser.add_argument("--prefix", help="only macros whose name starts with this")
    parser.add_argument(
        "--ioctls", action="store_true", help="import the KVM ioctls and the structs they copy, not registers"
    )
    parser.add_argument("--api", default="kvm/arm64", help='the api name to write (default: "kvm/arm64")')
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")


def _export_arguments(parser: argparse.ArgumentParser) -> None:

    parser.add_argument(
        "what",
        choices=("reglist", "selftest"),
        help="reglist: the sorted ids of every listed register; selftest: the spec's claims as a KVM selftest in C",
    )
    parser.add_argument(
        "--arch", choices=tuple(SELFTEST_ARCHES), help="the selftest's architecture (default: the spec's)"
    )
    parser.add_argument("path", metavar="SPEC", help="the spec file or folder")
    parser.add_argument("--format", choices=("text", "c"), default="text")
    parser.add_argument(
        "--check",
        metavar="FILE",
        help="compare with a checked-in list (ids one per line, or a get-reg-list.c selftest); exit 1 on drift",
    )
    parser.add_argument(
        "--subset",
        action="store_true",
        help="with --check of a selftest: compare only the register families the spec covers",
    )
    header_arguments(parser, abi_default=None, required=False)
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of stdout")


def _kvm_options(parser: argparse.ArgumentParser, vcpus_help: str) -> None:
    parser.add_argument("--vcpus", type=int, default=2, help=f"{vcpus_help} (default: 2)")
    parser.add_argument("--device", default=DEVICE, metavar="PATH", help=f"the KVM device (default: {DEVICE})")


QEMU_AARCH64 = "qemu-aarch64"


def _conform_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="SPEC", help="spec files or folders")
    target_options(parser)
    output_options(parser)


def target_options(parser: argparse.ArgumentParser) -> None:
    """Which kernel `conform` (and `review --conform`) asks."""
    _kvm_options(parser, "vCPUs of each spec's own VM")
    parser.add_argument(
        "--target",
        choices=("local", QEMU_AARCH64),
        default="local",
        help="local: this machine's /dev/kvm (x86 specs); qemu-aarch64: KVM in an emulated arm64 guest",
    )
    parser.add_argument("--kernel", metavar="IMAGE", help="the arm64 kernel image to boot, for --target qemu-aarch64")


def _probe_arguments(parser: argparse.ArgumentParser) -> None:
    _kvm_options(parser, "vCPUs of the probe's own VM")
    parser.add_argument(
        "--target", choices=("local", QEMU_AARCH64), default="local", help="the kernel to probe (see conform)"
    )
    parser.add_argument("--kernel", metavar="IMAGE", help="the arm64 kernel image to boot, for --target qemu-aarch64")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the draft to FILE (atomically) instead of stdout")


COMMANDS = (
    Command(
        "inspect",
        "print the structs, layouts, macros and enums C headers define, as a compiler reads them",
        _inspect_arguments,
        inspect_headers,
    ),
    Command("import", "write a starting spec for registers a C header defines", _import_arguments, import_header),
    Command("export", "export what the spec defines (the register list)", _export_arguments, export),
    Command(
        "probe", "write a draft spec of what this machine's KVM does, found by experiment", _probe_arguments, probe
    ),
    Command(
        "conform",
        "ask this machine's KVM each claim of a spec; report what it contradicts",
        _conform_arguments,
        conform,
    ),
)
