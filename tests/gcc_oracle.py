"""gcc as the oracle for what a header means: sizes, alignments, offsets and macro values.

Generated C puts every expression in a static array of unsigned 64-bit values, compiled with
`-S` only (no assembler, no linker, so no 32-bit libc is needed), and the values are read
back from the assembly's data directives. A line gcc rejects (a macro that is not an integer
constant) is dropped and the file compiled again, so what remains is exactly what gcc can
evaluate.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# (compiler, flags, include directories) per ABI; the x86 UAPI asm headers serve i386 too.
COMPILERS = {
    "x86_64": ("gcc", ["-m64"], ["/usr/include/x86_64-linux-gnu"]),
    "i386": ("gcc", ["-m32"], ["/usr/include/x86_64-linux-gnu"]),
    "aarch64": ("aarch64-linux-gnu-gcc", [], []),
}
_DIRECTIVE_BYTES = {".byte": 1, ".value": 2, ".short": 2, ".hword": 2, ".2byte": 2, ".long": 4, ".4byte": 4}
_DIRECTIVE_BYTES |= {".quad": 8, ".xword": 8, ".dword": 8, ".8byte": 8}
_ERROR_LINE = re.compile(r"^[^:]+\.c:(\d+):\d+: error:", re.M)


def available(abi: str) -> str | None:
    """None where gcc for `abi` is installed, else why not."""
    compiler = COMPILERS[abi][0]
    return None if shutil.which(compiler) else f"{compiler} is not installed (apt-get install gcc-aarch64-linux-gnu)"


@dataclass(frozen=True)
class Entry:
    key: str  # what the values are of: "struct kvm_regs", "macro KVM_GET_REGS"
    expressions: tuple[str, ...]


def evaluate(abi: str, includes: Sequence[str], entries: Sequence[Entry], workdir: Path) -> dict[str, list[int]]:
    """Each entry's expressions as gcc evaluates them for `abi`; entries gcc rejects are left
    out. Values are the 64-bit patterns (a negative number is its two's complement)."""
    compiler, flags, include_dirs = COMPILERS[abi]
    prelude = "".join(f"#include {name}\n" for name in includes) + "#include <stddef.h>\n"
    kept = list(entries)
    for _ in range(8):
        lines = [prelude]
        for index, entry in enumerate(kept):
            values = ", ".join(f"(unsigned long long)({e})" for e in entry.expressions)
            lines.append(f"const unsigned long long __oracle_{index}[] = {{ 1ULL, {values} }};\n")
        source = workdir / f"oracle-{abi}.c"
        source.write_text("".join(lines))
        command = [compiler, *flags, *[f"-I{d}" for d in include_dirs], "-w", "-S", "-o", "-", str(source)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if result.returncode == 0:
            return _read_arrays(result.stdout, kept)
        # Line numbers are 1-based; entry k is on the line after the prelude's, plus k.
        bad = {int(n) - prelude.count("\n") - 1 for n in _ERROR_LINE.findall(result.stderr)}
        if not bad:
            raise RuntimeError(f"{compiler} failed without a line to drop:\n{result.stderr[:2000]}")
        kept = [entry for index, entry in enumerate(kept) if index not in bad]
    raise RuntimeError("gcc kept rejecting lines")


def tags(abi: str, includes: Sequence[str], workdir: Path) -> set[str]:
    """Every struct and union the preprocessed headers define, found by gcc -E and a pattern:
    a count independent of the parser under test."""
    compiler, flags, include_dirs = COMPILERS[abi]
    source = workdir / f"tags-{abi}.c"
    source.write_text("".join(f"#include {name}\n" for name in includes))
    command = [compiler, *flags, *[f"-I{d}" for d in include_dirs], "-E", "-P", str(source)]
    text = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True).stdout
    return {
        f"{kind} {name}"
        for kind, name in re.findall(r"\b(struct|union)\s+(\w+)\s*(?:__attribute__\s*\(\(.*?\)\)\s*)?\{", text)
    }


def _read_arrays(assembly: str, entries: Sequence[Entry]) -> dict[str, list[int]]:
    values: dict[str, list[int]] = {}
    current: int | None = None
    data = bytearray()

    def flush() -> None:
        if current is None:
            return
        words = [int.from_bytes(data[k : k + 8], "little") for k in range(0, len(data), 8)]
        if words and words[0] == 1:
            values[entries[current].key] = words[1:]

    for line in assembly.splitlines():
        label = re.match(r"^__oracle_(\d+):", line)
        if label:
            flush()
            current, data = int(label.group(1)), bytearray()
            continue
        if current is None:
            continue
        parts = line.split()
        if not parts:
            continue
        if parts[0] in _DIRECTIVE_BYTES:
            size = _DIRECTIVE_BYTES[parts[0]]
            try:
                number = int(parts[1], 0)
            except ValueError:
                current = None  # an address, not a number: gcc did not evaluate it to an integer
                continue
            data += (number & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        elif parts[0] == ".zero":
            data += bytes(int(parts[1]))
        elif not parts[0].startswith("."):
            flush()
            current = None
    flush()
    return values
