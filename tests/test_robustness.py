"""Hostile input: every outcome is findings (or a located E101), never a crash, hang or escape."""

from __future__ import annotations

import ast
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, ROOT, run_cli, write
from validator.pipeline.engine import check_paths
from validator.report.formats import SarifOptions, junit_document, sarif_document
from validator.report.render import render
from validator.report.view import json_document, text_view

SEEDS = [p.read_bytes() for p in sorted((ROOT / "spec").rglob("*.uapi"))]
SEEDS += [p.read_bytes() for p in sorted(EXAMPLES.glob("*.uapi"))] if EXAMPLES.is_dir() else []


@st.composite
def hostile(draw) -> bytes:
    """A real spec, mutated the ways files get broken or made hostile."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                [
                    "bytes",
                    "truncate",
                    "delete-line",
                    "duplicate-line",
                    "huge-int",
                    "long-name",
                    "braces",
                    "nul",
                    "crlf",
                    "bom",
                    "invalid-utf8",
                    "replace",
                    "integer",
                    "directive",
                    "separator",
                    "control",
                ]
            )
        )
        at = draw(st.integers(0, len(data)))
        lines = bytes(data).split(b"\n")
        line = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif kind == "truncate":
            del data[at:]
        elif kind in ("delete-line", "duplicate-line") and lines:
            lines[line : line + 1] = [] if kind == "delete-line" else [lines[line], lines[line]]
            data = bytearray(b"\n".join(lines))
        elif kind == "huge-int":
            data[at:at] = b" 0x" + b"f" * draw(st.integers(20, 4000)) + b" "
        elif kind == "long-name":
            data[at:at] = b" " + b"N" * draw(st.integers(100, 20000)) + b" "
        elif kind == "braces":
            data[at:at] = b"{\n" * draw(st.integers(1, 3000))
        elif kind == "nul":
            data[at:at] = b"\0"
        elif kind == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        elif kind == "bom":
            data[0:0] = b"\xef\xbb\xbf"
        elif kind == "invalid-utf8":
            data[at:at] = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"]))
        elif kind == "integer":  # a number in an integer position: huge, negative-looking, octal-looking
            digits = draw(st.sampled_from([b"9" * 5000, b"4294967296", b"100000000000", b"0" * 50 + b"1", b"1_" * 40]))
            data = bytearray(
                re.sub(rb"\b(0x[0-9a-fA-F_]+|\d[\d_]*)\b", digits.replace(b"\\", b""), bytes(data), count=1)
            )
        elif kind == "directive":
            data[at:at] = b"\n" + draw(st.sampled_from(DIRECTIVES)) + b"\n"
        elif kind == "separator":
            data[at:at] = draw(st.sampled_from([b"\x0b", b"\x0c", b"\x1c", b"\xc2\x85", b"\xe2\x80\xa8", b"\r"]))
        elif kind == "control":
            data[at:at] = draw(st.sampled_from([b"\x1b[2J", b"\x1b]0;t\x07", b"\x07", b"\x7f", b"\xe2\x80\xae"]))
        else:
            data[at : at + 1] = draw(st.binary(min_size=1, max_size=1))
    return bytes(data)


DIRECTIVES = [
    b"# baseline: /etc/passwd",
    b"# baseline: ../../outside.uapi",
    b"# baseline: /proc/self/environ",
    b"# header: /etc/passwd",
    b"# header: ../x.h",
    b"# allow: " + b", ".join(b"S%d" % i for i in range(300)) + b" -- r",
    b"# allow: E999",
    b"# expect: S201, NOPE",
    b"# todo: \x1b[31m red",
    b'include "/proc/self/environ"',
    b'include "../../../../etc/passwd"',
]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile())
def test_mutated_specs_never_crash_and_every_report_renders(tmp_path_factory, data) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "spec.uapi"
    path.write_bytes(data)
    report = check_paths([str(path)])
    for finding in report.findings:
        assert finding.span.line >= 1 and finding.span.column >= 1, finding
    json.loads(json_document(report))
    json.loads(sarif_document(report, SarifOptions(str(ROOT))))
    ET.fromstring(junit_document(report, "error", False))
    text = render("check.txt.j2", text_view(report, color=False))
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text  # shown escaped, never raw
    for finding in report.findings:
        assert finding.span.path == str(path) or "etc/passwd" not in finding.span.path


def test_odd_versions_compare(tmp_path) -> None:
    from validator.model.spec import version_key

    assert version_key("5.19") > version_key("5.5") and version_key("\x005.0") != version_key("5.0")
    assert sorted(["\x00", "6.2-rc1", "6.2"], key=version_key) == ["6.2", "6.2-rc1", "\x00"]  # no TypeError


def test_random_bytes_are_a_located_syntax_error(tmp_path) -> None:
    path = write(tmp_path, "x.uapi", "")
    path.write_bytes(b"\x00\x01register \xff{")
    [finding] = check_paths([str(path)]).findings
    assert finding.code == "E101" and (finding.span.line, finding.span.column) == (1, 12)


def test_nul_bytes_in_include_and_header_paths_are_findings(tmp_path) -> None:
    path = tmp_path / "n.uapi"
    path.write_bytes(b'# header: a\x00b.h\ninclude "x\x00y.uapi"\nlock l : vm\n')
    assert sorted(f.code for f in check_paths([str(path)]).findings) == ["E102", "E109"]


def test_a_50_mb_spec_is_refused_with_a_message(tmp_path) -> None:
    path = tmp_path / "huge.uapi"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    result = run_cli("check", str(path), "--format", "json")
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["code"] == "E101" and "the limit is" in finding["message"]


def test_an_include_graph_of_1000_files_resolves(tmp_path) -> None:
    for index in range(1000):  # a chain: far deeper than Python's recursion limit
        body = f'include "f{index + 1}.uapi"\n' if index < 999 else ""
        write(tmp_path, f"f{index}.uapi", body + f"lock l{index} : vm\n")
    write(tmp_path, "root.uapi", 'include "f0.uapi"\nregister R {\n  lock l999\n}\n')
    report = check_paths([str(tmp_path / "root.uapi")])
    assert report.findings == () and len(report.files) == 1001


def test_a_long_include_cycle_is_e109(tmp_path) -> None:
    for index in range(300):
        write(tmp_path, f"c{index}.uapi", f'include "c{(index + 1) % 300}.uapi"\n')
    [finding] = check_paths([str(tmp_path / "c0.uapi")]).findings
    assert finding.code == "E109" and finding.message.startswith("include cycle:")


# The only modules that start processes: the git baseline reader, the patch applier (git
# plumbing, on an explicit `check-patch`), and the arm64 target's runner (the cross
# compiler and qemu, on an explicit `--target qemu-aarch64`).
PROCESS_STARTERS = ("sources.py", "patches.py", "qemu.py")
# The one exec: @frozen writes an `__init__` per shape of model class, over numbered
# parameters its classes rename (frozen.py says why); no text from outside the package reaches it.
CLASS_CODE_WRITERS = ("model/frozen.py",)


def test_nothing_in_a_spec_is_executed_or_fetched() -> None:
    """No eval/exec but CLASS_CODE_WRITERS' one exec; processes are started only where
    PROCESS_STARTERS says."""
    for module in sorted((ROOT / "validator").rglob("*.py")):
        tree = ast.parse(module.read_text())
        called = [n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        executes = [name for name in called if name in {"eval", "exec", "compile", "__import__"}]
        if module.relative_to(ROOT / "validator").as_posix() in CLASS_CODE_WRITERS:
            assert executes == ["exec"], module
        else:
            assert not executes, module
        imports = {
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [ast.alias(n.module or "")])
        }
        if module.name not in PROCESS_STARTERS:
            assert not imports & {"subprocess", "socket", "urllib.request", "http.client"}, module


def test_json_and_sarif_stay_valid_for_any_character(tmp_path) -> None:
    text = 'lock l : vm "\\" \u2028 \U0001f600 \x7f \t tab"\nlock l : vm\n'
    path = write(tmp_path, "odd \u2603.uapi", text)
    report = check_paths([str(path)])
    assert json.loads(json_document(report))["findings"][0]["path"].endswith("odd \u2603.uapi")
    assert json.loads(sarif_document(report, SarifOptions(str(ROOT))))["runs"][0]["results"]


FORMAT_COMMANDS = [
    ("check", "--format", "text", "--color", "always"),
    ("check", "--format", "json"),
    ("check", "--format", "sarif"),
    ("check", "--format", "github"),
    ("check", "--format", "junit"),
    ("review", "--format", "markdown"),
    ("review", "--format", "html"),
    ("review", "--format", "email"),
    ("simulate", "--format", "text"),
    ("simulate", "--format", "json"),
    ("simulate", "--format", "csv"),
]


@pytest.mark.parametrize("command", FORMAT_COMMANDS, ids=lambda c: f"{c[0]}-{c[2]}")
def test_every_format_is_byte_identical_across_hash_seeds(command) -> None:
    target = str(ROOT / "spec" / "kvm" / "arm64" / "firmware.uapi")
    args = (command[0], target, *command[1:])
    outputs = {run_cli(*args, env={"PYTHONHASHSEED": seed}).stdout for seed in ("0", "7", "4242")}
    assert len(outputs) == 1 and outputs.pop()


def test_a_failing_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    from validator.report.output import OutputError, write_text

    target = tmp_path / "report.json"
    target.write_text("old")

    def interrupted(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(OutputError, match="No space left"):
        write_text("new", str(target))
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_failing_render_leaves_the_output_untouched(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", "lock l : vm\n")
    out = tmp_path / "review.md"
    out.write_text("old")
    broken = tmp_path / "templates"
    write(broken, "review.md.j2", "{{ no_such_value.attribute }}\n")
    result = run_cli("review", str(path), "--template-dir", str(broken), "-o", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "review.md.j2: 'no_such_value' is undefined" in result.stderr
    assert out.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "review.md",
        "s.uapi",
        "templates",
    ]


def test_output_never_lands_outside_the_named_file(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", "lock l : vm\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    run_cli("check", str(path), "-o", str(out_dir / "r.txt"), "--output-format", f"json={out_dir / 'r.json'}")
    assert sorted(p.name for p in out_dir.iterdir()) == ["r.json", "r.txt"]
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["out", "s.uapi"]


# -- the C header reader under hypothesis ----------------------------------------------------

_HEADER_PIECES = st.sampled_from(
    [
        "#define KVM_REG_ARM64 0x6000000000000000ULL\n",
        "#define A(x) (x|x)\n",
        "#define B(x) A(A(x))\n",
        "#define C(x, ...) x ## __VA_ARGS__\n",
        "#define R (KVM_REG_ARM64 | 0x0013000000000000ULL | B(1))\n",
        "#define O 00000100\n",
        "#define D " + "9" * 200 + "\n",
        "/* unterminated\n",
        "*/\n",
        "#define S (1 << 200)\n",
        "#define Z (1 / 0)\n",
        "#define L \\\n  (1 | \\\n 2)\n",
        "#define SELF SELF\n",
        "#define P(x) P(x)\n",
        "#define U -1U\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HEADER_PIECES, st.text(max_size=40)), max_size=30))
def test_the_header_reader_reads_or_refuses_anything_in_one_line(tmp_path_factory, pieces) -> None:
    from validator.kernel.cfront import HeaderError, read_c_headers
    from validator.kernel.crosscheck import header_registers

    path = tmp_path_factory.mktemp("h") / "h.h"
    text = "".join(pieces)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        headers = read_c_headers([str(path)])
    except HeaderError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()  # one line, never a traceback
        return
    registers = header_registers(headers)
    # Every object-like macro is an integer constant or not one, never both.
    assert not set(headers.macros) & set(headers.not_integers)
    assert set(registers.by_name) <= set(headers.macros)
    assert all(0 <= value < 1 << 64 for value, _ in registers.by_name.values())
    # The value the pieces' R has when its macros are defined as they define them, and R is
    # not a register id: its group field is no register family's.
    defined = {line for line in text.split("\n") if line.startswith("#define ")}
    needed = {"#define R (KVM_REG_ARM64 | 0x0013000000000000ULL | B(1))", "#define KVM_REG_ARM64 0x6000000000000000ULL"}
    needed |= {"#define B(x) A(A(x))", "#define A(x) (x|x)"}
    names = [
        line.split()[1].split("(")[0] for line in text.split("\n") if line.startswith("#define ") and line.split()[1:]
    ]
    plain = "/*" not in text and "\\" not in text and "#if" not in text
    if plain and needed <= defined and all(names.count(n) == 1 for n in ("R", "A", "B", "KVM_REG_ARM64")):
        assert headers.macros.get("R") == 0x6013_0000_0000_0001 and "R" not in registers.by_name
