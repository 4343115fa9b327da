"""Realistic synthetic specs, as .uapi and as the YAML + JSON Schema a team might pick instead.

The attribute mix follows spec/: per-VM registers on the vCPU ONE_REG path under a VM lock,
per-vCPU registers, VM-fd attributes, bitmaps with `since` bits, docs; includes, features,
interfaces, capabilities and scenarios. The YAML form carries the same content the way
netlink's YNL specs are written, validated by a JSON Schema.

    python bench/generate.py OUT_DIR [--sizes 1000,10000,100000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COMMON = """# Shared declarations of the synthetic spec.
api "bench/arm64" version "6.12"

lock config_lock : vm   "VM-wide configuration lock"
lock vcpu_mutex  : vcpu "the vCPU's own mutex"

capability KVM_CAP_BENCH_WRITE_ONCE : vm {
  kind  query
  since "6.10"
}

capability KVM_CAP_BENCH_ASYMMETRIC : vm {
  kind   opt_in
  before vcpu_create
  since  "6.11"
}

interface one_reg : vcpu {
  get  KVM_GET_ONE_REG
  set  KVM_SET_ONE_REG
  list KVM_GET_REG_LIST
  lock vcpu_mutex
  doc  "Per-vCPU register access."
}

interface vm_attr : vm {
  get  KVM_GET_DEVICE_ATTR
  set  KVM_SET_DEVICE_ATTR
  has  KVM_HAS_DEVICE_ATTR
  lock config_lock
  cap  KVM_CAP_BENCH_WRITE_ONCE
  since "6.10"
}
"""


def register(i: int) -> dict:
    kind = i % 4
    return {
        "name": f"KVM_REG_BENCH_{i:06d}",
        "id": 0x6030_0000_0020_0000 | (i & 0xFFFF) | ((i >> 16) << 20),
        "width": 64,
        "scope": ("vm", "vcpu", "vm", "write_once")[kind],
        "hint": "KVM_CAP_BENCH_WRITE_ONCE" if kind == 3 else None,
        "via": ["vm_attr"] if kind == 2 else ["one_reg"],
        "lock": ["config_lock"] if kind in (0, 3) else [],
        "migrate": True,
        "writable": {"before": "first_run", "else": "EBUSY"},
        "rewrite": "ok" if kind in (0, 3) else None,
        "uniform": "last_wins" if kind != 1 else None,
        "reset": "all",
        "reserved": {"reject": "EINVAL"},
        "bits": [{"index": b, "name": f"FEATURE_{b}", "since": f"5.{b + 1}"} for b in range(2)],
        "since": "6.1",
        "doc": f"Synthetic register {i}: services offered to the guest." if i % 2 == 0 else None,
    }


def uapi_register(r: dict) -> str:
    lines = [
        f"register {r['name']} {{",
        f"  id       0x{r['id']:016x}",
        f"  width    {r['width']}",
        f"  scope    {r['scope']}",
    ]
    if r["hint"]:
        lines.append(f"  hint     {r['hint']}")
    lines.append(f"  via      {', '.join(r['via'])}")
    if r["lock"]:
        lines.append(f"  lock     {', '.join(r['lock'])}")
    lines += ["  migrate  yes", "  writable before first_run else EBUSY"]
    if r["rewrite"]:
        lines.append("  rewrite  same_value ok")
    if r["uniform"]:
        lines.append(f"  uniform  {r['uniform']}")
    lines += ["  reset    all", "  reserved reject EINVAL", "  bits {"]
    lines += [f'    {b["index"]} {b["name"]} since "{b["since"]}"' for b in r["bits"]]
    lines += ["  }", f'  since    "{r["since"]}"']
    if r["doc"]:
        lines.append(f'  doc      "{r["doc"]}"')
    lines += ["}", ""]
    return "\n".join(lines)


def write_uapi(out: Path, count: int, files: int = 10) -> Path:
    """A root file including `files` parts of the registers, plus features and scenarios."""
    folder = out / f"uapi-{count}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "common.uapi").write_text(COMMON)
    per_file = -(-count // files)
    for part in range(files):
        body = "".join(
            uapi_register(register(i)) + "\n" for i in range(part * per_file, min(count, (part + 1) * per_file))
        )
        (folder / f"part{part:02d}.uapi").write_text('include "common.uapi"\n\n' + body)
    root = ['include "common.uapi"'] + [f'include "part{p:02d}.uapi"' for p in range(files)]
    root += [
        "",
        "feature KVM_ARM_VCPU_BENCH {",
        "  via     vcpu_init",
        "  uniform none opt_in KVM_CAP_BENCH_ASYMMETRIC",
        '  since   "6.11"',
        "}",
        "",
        "scenario migrate : restore {",
        "  vmm          generic",
        "  vcpus        1, 64, 512",
        "  host_threads 16",
        "  cost         ioctl 2us, lock 1us",
        "}",
        "",
    ]
    (folder / "root.uapi").write_text("\n".join(root))
    return folder


SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["api", "registers"],
    "properties": {
        "api": {
            "type": "object",
            "required": ["name", "version"],
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
        },
        "registers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "width", "scope", "via", "migrate"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                    "id": {"type": "integer", "minimum": 0},
                    "width": {"enum": [8, 16, 32, 64, 128, 256, 512, 1024, 2048]},
                    "scope": {"enum": ["vm", "vcpu", "system", "device", "write_once"]},
                    "hint": {"type": ["string", "null"]},
                    "via": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "lock": {"type": "array", "items": {"type": "string"}},
                    "migrate": {"type": "boolean"},
                    "writable": {
                        "type": "object",
                        "properties": {
                            "before": {"enum": ["vm_create", "vcpu_create", "vcpu_init", "finalize", "first_run"]},
                            "else": {"type": "string", "pattern": "^E[A-Z0-9]+$"},
                        },
                    },
                    "rewrite": {"type": ["string", "null"]},
                    "uniform": {"type": ["string", "null"]},
                    "reset": {"type": ["string", "integer"]},
                    "reserved": {"type": "object"},
                    "bits": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["index", "name"],
                            "properties": {
                                "index": {"type": "integer", "minimum": 0, "maximum": 2047},
                                "name": {"type": "string"},
                                "since": {"type": "string"},
                            },
                        },
                    },
                    "since": {"type": "string"},
                    "doc": {"type": ["string", "null"]},
                },
            },
        },
    },
}


def write_yaml(out: Path, count: int) -> tuple[Path, Path]:
    """The same registers as YAML (block style, as YNL specs are written) and its schema."""
    lines = ["api:", "  name: bench/arm64", '  version: "6.12"', "registers:"]
    for i in range(count):
        r = register(i)
        lines += [
            f"  - name: {r['name']}",
            f"    id: 0x{r['id']:016x}",
            f"    width: {r['width']}",
            f"    scope: {r['scope']}",
        ]
        if r["hint"]:
            lines.append(f"    hint: {r['hint']}")
        lines.append("    via: [" + ", ".join(r["via"]) + "]")
        if r["lock"]:
            lines.append("    lock: [" + ", ".join(r["lock"]) + "]")
        lines += ["    migrate: true", "    writable: {before: first_run, else: EBUSY}"]
        if r["rewrite"]:
            lines.append("    rewrite: ok")
        if r["uniform"]:
            lines.append(f"    uniform: {r['uniform']}")
        lines += ["    reset: all", "    reserved: {reject: EINVAL}", "    bits:"]
        lines += [f'      - {{index: {b["index"]}, name: {b["name"]}, since: "{b["since"]}"}}' for b in r["bits"]]
        lines.append(f'    since: "{r["since"]}"')
        if r["doc"]:
            lines.append(f'    doc: "{r["doc"]}"')
    path = out / f"yaml-{count}.yaml"
    path.write_text("\n".join(lines) + "\n")
    schema = out / "schema.json"
    schema.write_text(json.dumps(SCHEMA, indent=2))
    return path, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        folder = write_uapi(args.out, size)
        yaml_path, _ = write_yaml(args.out, size)
        total = sum(p.stat().st_size for p in folder.glob("*.uapi"))
        lines = sum(p.read_text().count("\n") for p in folder.glob("*.uapi"))
        print(f"{size} registers: {folder} ({total / 1e6:.1f} MB, {lines} lines), {yaml_path}")


if __name__ == "__main__":
    main()
