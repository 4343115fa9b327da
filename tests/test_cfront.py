"""The C header reader (validator.kernel.cfront): C's integer semantics, layouts against gcc
on random structs, the `inspect` command, and headers that try to escape or explode."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests import gcc_oracle
from tests.conftest import ROOT, run_cli
from validator.kernel.cfront import HeaderError, read_c_headers

DATA = ROOT / "tests" / "data" / "cheaders"
X86_INCLUDES = ["/usr/include", "/usr/include/x86_64-linux-gnu"]
INCLUDES = {"x86_64": X86_INCLUDES, "i386": X86_INCLUDES, "aarch64": ["/usr/aarch64-linux-gnu/include"]}


def _needs(abi: str) -> None:
    reason = gcc_oracle.available(abi)
    if reason is None and not Path(INCLUDES[abi][0], "linux", "types.h").is_file():
        reason = f"{INCLUDES[abi][0]}/linux/types.h is not installed"
    if reason:
        pytest.skip(reason)


def _agree(abi: str, header: Path, tmp_path: Path) -> tuple[dict, dict]:
    """Ours and gcc's values of every macro, enumerator and layout of `header`."""
    headers = read_c_headers([str(header)], [*INCLUDES[abi], str(header.parent)], abi)
    entries = [
        gcc_oracle.Entry(
            tag, (f"sizeof({tag})", f"_Alignof({tag})", *(f"offsetof({tag}, {m})" for m in layout.members))
        )
        for tag, layout in headers.structs.items()
    ]
    own = {tag: [layout.size, layout.align, *layout.members.values()] for tag, layout in headers.structs.items()}
    mask = (1 << 64) - 1
    for name in [*headers.macros, *headers.not_integers]:
        entries.append(gcc_oracle.Entry(f"macro {name}", (name,)))
        if name in headers.macros:
            own[f"macro {name}"] = [headers.macros[name] & mask]
    for name, value in headers.enums.items():
        entries.append(gcc_oracle.Entry(f"enum {name}", (name,)))
        own[f"enum {name}"] = [value & mask]
    include = f'"{header}"'
    truth = gcc_oracle.evaluate(abi, [include], entries, tmp_path)
    return own, truth


@pytest.mark.parametrize("abi", sorted(INCLUDES))
def test_c_integer_semantics_and_layouts_are_gccs(abi, tmp_path) -> None:
    _needs(abi)
    own, truth = _agree(abi, DATA / "semantics.h", tmp_path)
    assert own == truth
    # The header's traps are there to be hit: it is not agreement on trivia.
    assert truth["macro NEG_ONE_U"] == [0xFFFF_FFFF] and truth["macro CAST_S8"] == [(1 << 64) - 1]
    assert {"struct bits", "struct packed_one", "struct aligned_member", "struct flexible"} <= set(own)
    assert "macro NOT_A_NUMBER" not in truth and "macro A_TYPE" not in truth


def test_the_abi_changes_what_the_header_means() -> None:
    if not Path(X86_INCLUDES[0], "linux", "types.h").is_file():
        pytest.skip("linux/types.h is not installed")
    wide = read_c_headers([str(DATA / "semantics.h")], [*X86_INCLUDES, str(DATA)], "x86_64")
    narrow = read_c_headers([str(DATA / "semantics.h")], [*X86_INCLUDES, str(DATA)], "i386")
    assert (wide.macros["SIZE_LONG"], narrow.macros["SIZE_LONG"]) == (8, 4)
    assert (wide.macros["WORD_BITS"], narrow.macros["WORD_BITS"]) == (64, 32)
    assert (wide.macros["NEG_ONE_UL"], narrow.macros["NEG_ONE_UL"]) == ((1 << 64) - 1, (1 << 32) - 1)
    assert wide.structs["struct holds_array_of_structs"].align == 8
    assert narrow.structs["struct holds_array_of_structs"].align == 4
    assert wide.enums == {"SEM_A": 0, "SEM_B": 5, "SEM_C": 6, "SEM_D": -2, "SEM_E": -1}


_SCALARS = ["__u8", "__u16", "__u32", "__u64", "__s8", "__s16", "__s32", "__s64", "long", "int", "char", "short"]
_SCALARS += ["long long", "unsigned long", "__aligned_u64", "double", "void *"]


def _random_struct(rng: random.Random, name: str, earlier: list[str]) -> str:
    """One struct or union of random members: scalars, arrays, bitfields, nested anonymous
    aggregates, earlier structs, with packed and aligned attributes now and then."""
    lines, bitfields = [], 0
    for index in range(rng.randint(1, 7)):
        kind = rng.random()
        member = f"m{index}"
        if kind < 0.15 and earlier:
            lines.append(f"\tstruct {rng.choice(earlier)} {member};")
        elif kind < 0.27:
            inner = " ".join(f"{rng.choice(_SCALARS[:8])} i{index}_{k};" for k in range(rng.randint(1, 3)))
            lines.append(f"\t{rng.choice(['struct', 'union'])} {{ {inner} }};")
        elif kind < 0.42:
            base = rng.choice(["__u8", "__u16", "__u32", "__u64"])
            width = rng.randint(0 if bitfields else 1, {"__u8": 8, "__u16": 16, "__u32": 32, "__u64": 64}[base])
            lines.append(f"\t{base} {member if width else ''} : {width};")
            bitfields += 1
        else:
            scalar = rng.choice(_SCALARS)
            array = f"[{rng.randint(1, 5)}]" if rng.random() < 0.3 else ""
            aligned = f" __attribute__((aligned({rng.choice([2, 4, 8, 16])})))" if rng.random() < 0.1 else ""
            lines.append(f"\t{scalar} {member}{array}{aligned};")
    keyword = "union" if rng.random() < 0.15 else "struct"
    attribute = rng.choice(["", "", "", " __attribute__((packed))", " __attribute__((aligned(16)))"])
    return f"{keyword} {name} {{\n" + "\n".join(lines) + f"\n}}{attribute};\n"


@pytest.mark.parametrize("abi", sorted(INCLUDES))
def test_random_structs_are_laid_out_as_gcc_does(abi, tmp_path) -> None:
    _needs(abi)
    rng = random.Random(f"layouts-{abi}")
    names: list[str] = []
    text = ["#include <linux/types.h>\n"]
    for index in range(150):
        name = f"r{index}"
        text.append(_random_struct(rng, name, [n for n in names if not n.startswith("union")]))
        names.append(name if "union r" not in text[-1] else f"union {name}")
    header = tmp_path / "random.h"
    header.write_text("".join(text).replace("struct union ", "union "))
    own, truth = _agree(abi, header, tmp_path)
    structs = {key: value for key, value in own.items() if not key.startswith(("macro", "enum"))}
    assert len(structs) == 150
    assert {k: (v, truth.get(k)) for k, v in structs.items() if truth.get(k) != v} == {}


def test_inspect_json_has_exactly_the_promised_shape(tmp_path) -> None:
    if not Path(X86_INCLUDES[0], "linux", "types.h").is_file():
        pytest.skip("linux/types.h is not installed")
    arguments = ["--header", str(DATA / "semantics.h"), "-I", X86_INCLUDES[0], "-I", X86_INCLUDES[1]]
    result = run_cli("inspect", *arguments, "--abi", "x86_64", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["structs", "macros", "enums"]
    assert document["structs"]["struct packed_one"] == {"size": 7, "align": 1, "members": {"a": 0, "b": 1, "c": 5}}
    assert all(set(entry) == {"size", "align", "members"} for entry in document["structs"].values())
    assert document["macros"]["NEG_ONE_U"] == 0xFFFF_FFFF and document["macros"]["NEG_ONE"] == -1
    assert document["enums"]["SEM_D"] == -2
    again = run_cli("inspect", *arguments, "--abi", "x86_64", "--format", "json")
    assert again.stdout == result.stdout  # byte-identical
    text = run_cli("inspect", *arguments, "--abi", "i386")
    assert (
        "struct holds_array_of_structs: size " in text.stdout and "  NEG_ONE_U = 4294967295 (0xffffffff)" in text.stdout
    )


_HOSTILE = {
    "self.h": ('#include "self.h"\n', "includes nest deeper than 64"),
    "escape.h": ('#include "../../../../../../etc/passwd"\n', "resolves outside the include directories; not read"),
    "missing.h": ("#include <no/such.h>\n", "#include <no/such.h>: not found; add -I DIR"),
    "error.h": ("#error stop here\n", "error.h:1: #error stop here"),
    "open_if.h": ("#if 1\n#define X 1\n", "Unterminated #if"),
    "broken.h": ("struct a { int x;\n", "not a C declaration pycparser reads"),
    "bomb.h": (
        "".join(f"#define A{k} A{k - 1} A{k - 1}\n" for k in range(1, 40)) + "#define A0 x\nint v = A39;\n",
        "macro expansion past",
    ),
}


@pytest.mark.parametrize("name", sorted(_HOSTILE))
def test_a_hostile_header_is_one_line_and_exit_2(name, tmp_path) -> None:
    text, message = _HOSTILE[name]
    (tmp_path / name).write_text(text)
    result = run_cli("inspect", "--header", str(tmp_path / name), "-I", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_macros_that_call_each_other_through_their_arguments_are_read_as_no_integer(tmp_path) -> None:
    # Found by the fuzzer: pcpp expands a macro's arguments forgetting which macros it is
    # inside, so these expanded until Python's recursion limit.
    (tmp_path / "m.h").write_text("#define F(t) G(t)\n#define G(t) F(t) (t)\n#define K F(K)\n#define ONE 1\n")
    headers = read_c_headers([str(tmp_path / "m.h")], [str(tmp_path)])
    assert headers.macros == {"ONE": 1}


def test_a_symlink_out_of_the_include_directory_is_not_followed(tmp_path) -> None:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "leak.h").symlink_to("/etc/hostname")
    (tmp_path / "inc" / "top.h").write_text("#include <leak.h>\n")
    with pytest.raises(HeaderError, match="resolves outside the include directories"):
        read_c_headers([str(tmp_path / "inc" / "top.h")], [str(tmp_path / "inc")])


def test_inspect_never_overwrites_a_header_it_read(tmp_path) -> None:
    header = tmp_path / "h.h"
    header.write_text("#define ONE 1\n")
    result = run_cli("inspect", "--header", str(header), "-o", str(header))
    assert result.returncode == 2 and header.read_text() == "#define ONE 1\n"
    result = run_cli("inspect", "--header", str(header), "--abi", "riscv64", "--format", "json")
    assert json.loads(result.stdout) == {"structs": {}, "macros": {"ONE": 1}, "enums": {}}


def test_an_expression_is_evaluated_with_the_headers() -> None:
    if not Path(X86_INCLUDES[0], "linux", "kvm.h").is_file():
        pytest.skip("<linux/kvm.h> is not installed")
    headers = read_c_headers(["<linux/kvm.h>"], X86_INCLUDES, "x86_64")
    assert headers.evaluate("_IOW(KVMIO, 0xac, struct kvm_one_reg)") == 0x4010AEAC
    with pytest.raises(HeaderError):
        headers.evaluate("no_such_name + 1")
