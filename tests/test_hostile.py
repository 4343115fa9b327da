"""A corpus of hostile inputs, as a stranger's patch would bring them to a CI job that holds
secrets. Every case ends in findings or a one-line error (exit 0, 1 or 2), within a time and
memory bound, with no secret read from outside the root, no control character reaching the
terminal, and nothing written but the file named with -o.

Each case builds its files in a fresh folder, runs the command as a user runs it (a fresh
process, memory capped), and says what must hold besides the common checks.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

SECRET = "canary-3f9d2a-must-never-be-printed"
TIME_LIMIT = 30  # seconds a case may take
MEMORY_LIMIT = 2 * 1024**3  # bytes of address space


@dataclass
class Outcome:
    code: int
    stdout: bytes
    stderr: bytes
    seconds: float
    folder: Path


@dataclass
class Case:
    name: str
    setup: Callable[[Path], list[str]]  # writes the files; returns the arguments
    check: Callable[[Outcome], None] = lambda outcome: None
    codes: tuple[int, ...] = (0, 1, 2)
    stdin: bytes | None = None
    env: dict[str, str] = field(default_factory=dict)
    written: tuple[str, ...] = ()  # files the case may create or change (relative to its folder)
    raw_output: bool = False  # stdout is a format that may hold what the spec wrote (JSON, SARIF)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in folder.rglob("*"):
        if path.is_symlink() or not path.exists():
            continue
        info = path.lstat()
        found[str(path.relative_to(folder))] = (info.st_mtime_ns, info.st_size)
    return found


def run_case(case: Case, folder: Path) -> Outcome:
    argv = case.setup(folder)
    before = _snapshot(folder)
    env = {**os.environ, "UAPI_SECRET": SECRET, "XDG_CACHE_HOME": str(folder.parent / "cache"), **case.env}
    env.pop("NO_COLOR", None) if "NO_COLOR" not in case.env else None
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "validator", *argv],
        input=case.stdin if case.stdin is not None else b"",
        capture_output=True,
        cwd=folder,
        env=env,
        timeout=TIME_LIMIT,
        preexec_fn=_limit_memory,
    )
    outcome = Outcome(result.returncode, result.stdout, result.stderr, time.monotonic() - started, folder)
    after = _snapshot(folder)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert changed <= set(case.written), f"wrote {sorted(changed - set(case.written))}"
    return outcome


def _file(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _outside(folder: Path) -> Path:
    """A file outside the case's root holding the secret."""
    return _file(folder.parent / "outside", "secret.uapi", f"lock {SECRET} : vm\n# {SECRET}\n")


def _spec(text: str, name: str = "s.uapi") -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        _file(folder, name, text)
        return ["check", name]

    return setup


def _linked(target: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        _file(folder, "spec/a.uapi", "lock l : vm\n")
        destination = _outside(folder) if target == "outside" else Path(target)
        (folder / "spec/link.uapi").symlink_to(destination)
        return ["check", "spec", "--format", "sarif"]

    return setup


def _baseline_directive(target: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        secret = _outside(folder)
        written = {"outside": os.path.relpath(secret, folder), "absolute": str(secret)}.get(target, target)
        _file(folder, "s.uapi", f"# baseline: {written}\nlock l : vm\n")
        return ["check", "s.uapi", "--format", "json"]

    return setup


def _codes(outcome: Outcome) -> set[str]:
    return {f["code"] for f in json.loads(outcome.stdout)["findings"]}


def _is(*codes: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        text = outcome.stdout.decode()
        for code in codes:
            assert code in text, f"{code} not reported"

    return check


def _one_line_error(outcome: Outcome) -> None:
    assert outcome.code == 2 and len(outcome.stderr.decode().splitlines()) == 1


BIG = "1" * 5000
INTEGER_POSITIONS = {
    "id": f"register R {{\n  id {BIG}\n}}\n",
    "width": f"register R {{\n  width {BIG}\n}}\n",
    "reset": f"register R {{\n  width 64\n  reset {BIG}\n}}\n",
    "bit": f"register R {{\n  width 64\n  bits {{\n    {BIG} A\n  }}\n}}\n",
    "bit-1e11": "register R {\n  width 64\n  bits {\n    100000000000 A\n  }\n}\n",
    "width-1e18": "register R {\n  width 1000000000000000000\n}\n",
    "encoding": f"register R {{\n  encoding sysreg({BIG}, 0, 0, 0, 0)\n}}\n",
    "hex-id": "register R {\n  id 0x" + "f" * 5000 + "\n}\n",
    "vcpus": f"scenario s : restore {{\n  vcpus {BIG}\n}}\n",
    "vcpus-2^32": "scenario s : restore {\n  vcpus 4294967296\n}\n",
    "vcpus-20000-counts": "scenario s : restore {\n  vcpus " + ", ".join(map(str, range(1, 20001))) + "\n}\n",
    "host-threads": f"scenario s : restore {{\n  host_threads {BIG}\n}}\n",
    "cost": f"scenario s : restore {{\n  cost ioctl {BIG}us\n}}\n",
    "cost-4000-digits": "scenario s : restore {\n  cost ioctl " + "9" * 4000 + "ns\n}\n",
    "budget": f"scenario s : restore {{\n  budget serialized {BIG}\n}}\n",
    "budget-blackout": f"scenario s : restore {{\n  budget blackout {BIG}ms\n}}\n",
    "oversized-width-with-reset": f"register R {{\n  width {BIG}\n  reset 3\n}}\n",
    "oversized-bit-without-width": (
        "interface one_reg : vcpu {\n  get G\n  set S\n  list L\n}\n"
        f"register R {{\n  scope vcpu\n  via one_reg\n  migrate yes\n  reset all\n  bits {{\n    {BIG} A\n  }}\n}}\n"
        "scenario s : restore {\n  vcpus 1\n}\n"
    ),
}
INJECTED = (
    'api "kvm/arm64" version "6.1"\n'
    "# todo: x\r::error file=ci.yml,line=1::injected \x1b]0;title\x07\x1b[2J\x1b]8;;http://x\x1b\\\n"
    "register R {\n  scope vcpu\n  width 64\n  reserved ignore\n  bits {\n    0 A\n  }\n"
    '  doc "x\r\r## Verdict\r\r**PASS** <img src=x onerror=alert(1)> [a](javascript:alert(1))"\n}\n'
)


def _no_raw_controls(outcome: Outcome) -> None:
    for raw in (b"\x1b", b"\r", b"\x07"):
        assert raw not in outcome.stdout, f"raw {raw!r} reached the output"


def _markdown_has_one_verdict(outcome: Outcome) -> None:
    """Rendered by a CommonMark renderer, as a forge renders it: one verdict, no HTML or links
    from the spec."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(outcome.stdout.decode())
    assert html.count("<h2>Verdict</h2>") == 1
    assert html.count("<strong>PASS</strong>") + html.count("<strong>FAIL</strong>") == 1
    assert "<img" not in html and 'href="javascript:' not in html


def _output_file(name: str, kind: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        _file(folder, "s.uapi", "lock l : vm\n")
        if kind == "fifo":
            os.mkfifo(folder / name)
        elif kind == "read-only":
            _file(folder, name, "keep").chmod(0o444)
        elif kind == "link":
            _file(folder, "target.txt", "old")
            (folder / name).symlink_to("target.txt")
        return ["check", "s.uapi", "-o", name]

    return setup


def _git_repository(folder: Path) -> None:
    _file(folder, "spec/s.uapi", "lock l : vm\n")
    for argv in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(folder), *argv], check=True, capture_output=True)


def _git(rev: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        _git_repository(folder)
        return ["check", "spec", "--baseline", f"git:{rev}"]

    return setup


def _header(text: str | bytes) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        _file(folder, "s.uapi", "lock l : vm\n")
        _file(folder, "h.h", text)
        return ["crosscheck", "s.uapi", "--header", "h.h"]

    return setup


def _exploding_header() -> str:
    lines = ["#define KVM_REG_ARM64 0x6000000000000000ULL", "#define A0(x) (x|x)"]
    lines += [f"#define A{i}(x) A{i - 1}(A{i - 1}(x))" for i in range(1, 60)]
    return "\n".join([*lines, "#define KVM_REG_ARM_X (KVM_REG_ARM64 | A59(1))"]) + "\n"


def _lsp(*messages: dict, raw: bytes = b"") -> bytes:
    out = b""
    for message in messages:
        body = json.dumps(message).encode()
        out += b"Content-Length: %d\r\n\r\n" % len(body) + body
    return out + raw


_INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
_EXIT = ({"jsonrpc": "2.0", "id": 9, "method": "shutdown"}, {"jsonrpc": "2.0", "method": "exit"})


def _lsp_case(stdin: bytes) -> Callable[[Path], list[str]]:
    return lambda folder: ["lsp"]


def _include_cycle_through_links(folder: Path) -> list[str]:
    (folder / "a").symlink_to(".")
    (folder / "b").symlink_to(".")
    _file(folder, "t.uapi", 'include "a/t.uapi"\ninclude "b/t.uapi"\nlock l : vm\n')
    return ["check", "t.uapi"]


def _include_chain(count: int) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        for i in range(count):
            include = f'include "f{i + 1:05d}.uapi"\n' if i + 1 < count else ""
            _file(folder, f"chain/f{i:05d}.uapi", f"{include}lock l{i} : vm\n")
        return ["check", "chain"]

    return setup


def _sparse_header(folder: Path) -> list[str]:
    _file(folder, "s.uapi", "lock l : vm\n")
    with open(folder / "big.h", "wb") as handle:
        handle.truncate(1024**3)
    return ["crosscheck", "s.uapi", "--header", "big.h"]


def _separators(folder: Path) -> list[str]:
    # A form feed, a vertical tab, NEL and U+2028 earlier in the file: line numbers and the
    # `# allow:` target must count lines at LF only, as the lexer does.
    _file(
        folder,
        "s.uapi",
        "# a\x0cb\x0bc\x85d\u2028e\nlock l : vm\nlock l : vm  # allow: E103 -- kept on purpose\nlock m : vm\nlock m : vm\n",
    )
    return ["check", "s.uapi", "--format", "json"]


def _separators_check(outcome: Outcome) -> None:
    found = json.loads(outcome.stdout)["findings"]
    assert [(f["code"], f["line"], "suppressed" in f) for f in found] == [("E103", 3, True), ("E103", 5, False)]


CASES: list[Case] = [
    # 1. Symbolic links in a checked folder.
    Case("symlink-environ", _linked("/proc/self/environ"), _is("E109"), raw_output=True),
    Case("symlink-passwd", _linked("/etc/passwd"), _is("E109"), raw_output=True),
    Case("symlink-outside", _linked("outside"), _is("E109"), raw_output=True),
    # 2. `# baseline:` confined.
    Case(
        "baseline-absolute", _baseline_directive("absolute"), lambda o: _codes(o) >= {"E109"} or None, raw_output=True
    ),
    Case("baseline-parent", _baseline_directive("outside"), lambda o: _codes(o) >= {"E109"} or None, raw_output=True),
    Case("baseline-environ", _baseline_directive("/proc/self/environ"), raw_output=True),
    Case("baseline-passwd", _baseline_directive("/etc/passwd"), raw_output=True),
    Case("header-outside", _spec("# header: ../outside/secret.uapi\nlock l : vm\n"), _is("E109")),
    Case("include-outside", _spec('include "../outside/secret.uapi"\nlock l : vm\n'), _is("E109")),
    # 3, 4. Terminal, CI-log and Markdown injection.
    Case("terminal-injection", _spec(INJECTED), _no_raw_controls),
    Case("github-injection", lambda f: [*_spec(INJECTED)(f), "--format", "github"], _no_raw_controls),
    Case(
        "email-injection",
        lambda f: [*["review", _file(f, "s.uapi", INJECTED).name, "--format", "email"]],
        _no_raw_controls,
    ),
    Case("markdown-injection", lambda f: ["review", _file(f, "s.uapi", INJECTED).name], _markdown_has_one_verdict),
    Case(
        "junit-controls",
        lambda f: [*_spec(INJECTED)(f), "--format", "junit"],
        lambda o: __import__("xml.etree.ElementTree").etree.ElementTree.fromstring(o.stdout) is not None or None,
        raw_output=True,
    ),
    Case("error-line-controls", lambda f: ["check", "no\x1b[2Jsuch.uapi"], _no_raw_controls, codes=(2,)),
    # 5. Code generated from input.
    Case(
        "import-api-injection",
        lambda f: [
            "import",
            "--header",
            str(ROOT / "spec/rules/H901-register-missing-from-spec/kvm.h"),
            "--prefix",
            "KVM_REG_ARM_SMCCC",
            "--api",
            'x"\nregister EVIL {',
        ],
        _one_line_error,
        codes=(2,),
    ),
    # 6. Outputs that must not be replaced.
    Case("output-dev-null", lambda f: [*_spec("lock l : vm\n")(f), "-o", "/dev/null"], _one_line_error, codes=(2,)),
    Case("output-fifo", _output_file("out.fifo", "fifo"), _one_line_error, codes=(2,)),
    Case("output-read-only", _output_file("ro.txt", "read-only"), _one_line_error, codes=(2,)),
    Case(
        "output-link",
        _output_file("link.txt", "link"),
        lambda o: (o.folder / "link.txt").is_symlink() or None,
        codes=(0,),
        written=("target.txt",),
    ),
    Case("output-is-input", lambda f: [*_spec("lock l : vm\n")(f), "-o", "s.uapi"], _one_line_error, codes=(2,)),
    Case(
        "output-format-is-input",
        lambda f: [*_spec("lock l : vm\n")(f), "--output-format", "sarif=s.uapi"],
        _one_line_error,
        codes=(2,),
    ),
    # 7. fmt keeps meaning.
    Case(
        "fmt-cr-in-comment",
        lambda f: ["fmt", _file(f, "s.uapi", '# note\rinclude "missing.uapi"\nlock   l : vm\n').name],
        lambda o: (o.folder / "s.uapi").read_bytes().startswith(b'# note\rinclude "missing.uapi"\n') or None,
        codes=(0,),
        written=("s.uapi",),
    ),
    Case(
        "fmt-bom",
        lambda f: ["fmt", _file(f, "s.uapi", b"\xef\xbb\xbflock   l : vm\n").name],
        codes=(0,),
        written=("s.uapi",),
    ),
    # 8. Integers in every position, for check and review.
    *[Case(f"integer-{name}", _spec(text), _is("E10")) for name, text in INTEGER_POSITIONS.items()],
    *[
        Case(f"review-integer-{name}", lambda f, t=text: ["review", _file(f, "s.uapi", t).name])
        for name, text in INTEGER_POSITIONS.items()
    ],
    Case(
        "simulate-vcpus-1e8",
        lambda f: ["simulate", _file(f, "s.uapi", "lock l : vm\n").name, "--vcpus", "100000000"],
        _one_line_error,
        codes=(2,),
    ),
    Case(
        "simulate-vcpus-1e9",
        lambda f: ["simulate", _file(f, "s.uapi", "lock l : vm\n").name, "--vcpus", "1000000000"],
        _one_line_error,
        codes=(2,),
    ),
    # 9, 15, 16. C headers.
    Case("header-octal", _header("#define KVM_REG_ARM64 0x6000000000000000ULL\n#define X 00000100\n")),
    Case("header-5000-digits", _header("#define X " + "9" * 5000 + "\n")),
    Case("header-exploding-macro", _exploding_header and _header(_exploding_header())),
    Case("header-unterminated-comment", _header("/* x\n" * 20000)),
    Case("header-1-gb", _sparse_header, _one_line_error, codes=(2,)),
    Case("header-not-utf8", _header(b"#define X 1\n\xff\xfe\n")),
    # 10. Configuration.
    Case(
        "pyproject-tool-string",
        lambda f: [
            _file(f, "pyproject.toml", 'tool = "uapi-validator"\n') and "check",
            _file(f, "s.uapi", "lock l : vm\n").name,
        ],
        codes=(0,),
    ),
    Case(
        "pyproject-table-number",
        lambda f: [
            _file(f, "pyproject.toml", "[tool]\nuapi-validator = 5\n") and "check",
            _file(f, "s.uapi", "lock l : vm\n").name,
        ],
        _one_line_error,
        codes=(2,),
    ),
    Case(
        "pyproject-deep",
        lambda f: [
            _file(f, "pyproject.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n") and "check",
            _file(f, "s.uapi", "lock l : vm\n").name,
        ],
        _one_line_error,
        codes=(2,),
    ),
    # 11. Streams and signals.
    Case(
        "user-template-raises",
        lambda f: [
            "review",
            _file(f, "s.uapi", "lock l : vm\n").name,
            "--template-dir",
            str(_file(f, "t/review.md.j2", "{{ 1 // 0 }}").parent),
        ],
        _one_line_error,
        codes=(2,),
    ),
    # 12. The language server.
    Case("lsp-huge-length", _lsp_case(b""), stdin=b"Content-Length: 99999999999\r\n\r\n{}", codes=(2,)),
    Case("lsp-negative-length", _lsp_case(b""), stdin=b"Content-Length: -5\r\n\r\n{}", codes=(2,)),
    Case("lsp-word-length", _lsp_case(b""), stdin=b"Content-Length: abc\r\n\r\n{}", codes=(2,)),
    Case("lsp-endless-header", _lsp_case(b""), stdin=b"X" * 100000, codes=(2,)),
    Case(
        "lsp-hover-unopened-stdin",
        _lsp_case(b""),
        lambda o: (b'"id": 2, "jsonrpc": "2.0", "result": null' in o.stdout) or None,
        stdin=_lsp(
            _INIT,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "textDocument/hover",
                "params": {"textDocument": {"uri": "file:///proc/self/fd/0"}, "position": {"line": 0, "character": 0}},
            },
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "textDocument/hover",
                "params": {"textDocument": {"uri": "file:///dev/zero"}, "position": {"line": 0, "character": 0}},
            },
            *_EXIT,
        ),
        codes=(0,),
        raw_output=True,
    ),
    Case(
        "lsp-50-mb-document",
        _lsp_case(b""),
        lambda o: (b"not analysed" in o.stdout) or None,
        stdin=_lsp(
            _INIT,
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": "file:///tmp/big.uapi",
                        "languageId": "uapi",
                        "version": 1,
                        "text": "lock l : vm\n" * 1_500_000,
                    }
                },
            },
            *_EXIT,
        ),
        codes=(0,),
        raw_output=True,
    ),
    # 13, 14, 17. Hangs and blow-ups.
    Case("include-cycle-through-links", _include_cycle_through_links, _is("E109")),
    Case("include-chain-1000", _include_chain(1000), lambda o: (o.seconds < 15) or None, codes=(0,)),
    Case(
        "allow-5000-codes",
        _spec("lock l : vm  # allow: " + ", ".join(f"X{i}" for i in range(5000)) + " -- r\n"),
        lambda o: (len(o.stdout) < 20_000_000) or None,
    ),
    Case(
        "export-check-dev-zero",
        lambda f: ["export", "reglist", _file(f, "s.uapi", "lock l : vm\n").name, "--check", "/dev/zero"],
        _one_line_error,
        codes=(2,),
    ),
    Case(
        "export-check-fifo",
        lambda f: [
            os.mkfifo(f / "list.fifo") or "export",
            "reglist",
            _file(f, "s.uapi", "lock l : vm\n").name,
            "--check",
            "list.fifo",
        ],
        _one_line_error,
        codes=(2,),
    ),
    Case(
        "export-check-wide-id",
        lambda f: [
            "export",
            "reglist",
            _file(f, "s.uapi", "lock l : vm\n").name,
            "--check",
            _file(f, "l.txt", "0x" + "f" * 40 + "\n").name,
        ],
        _one_line_error,
        codes=(2,),
    ),
    # 19, 20. Line counting and the small things.
    Case("line-separators", _separators, _separators_check, raw_output=True),
    Case(
        "include-a-folder",
        lambda f: [(f / "dir.uapi").mkdir() or "check", _file(f, "s.uapi", 'include "dir.uapi"\n').name],
        _is("not a regular file"),
    ),
    Case(
        "include-a-fifo",
        lambda f: [os.mkfifo(f / "p.uapi") or "check", _file(f, "s.uapi", 'include "p.uapi"\n').name],
        _is("not a regular file"),
    ),
    Case("empty-path", lambda f: ["check", ""], _one_line_error, codes=(2,)),
    Case("nul-in-path", lambda f: ["check", "a\x01b"], _one_line_error, codes=(2,)),
    # What held already, kept held.
    Case("git-rev-option", _git("--output=/tmp/x"), _one_line_error, codes=(2,)),
    Case("git-rev-shell", _git("HEAD;touch pwned"), _one_line_error, codes=(2,)),
    Case("git-rev-range", _git("HEAD..HEAD"), _one_line_error, codes=(2,)),
    Case("header-absolute", _spec("# header: /etc/passwd\nlock l : vm\n"), _is("E109")),
    Case("include-absolute", _spec('include "/etc/passwd"\n'), _is("E109")),
    Case(
        "html-review-injection",
        lambda f: ["review", _file(f, "s.uapi", INJECTED).name, "--format", "html"],
        lambda o: (b"<img src" not in o.stdout) or None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_input(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "root"
    folder.mkdir()
    outcome = run_case(case, folder)
    stderr = outcome.stderr.decode(errors="replace")
    assert outcome.code in case.codes, f"exit {outcome.code}: {stderr[-400:]}"
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr[-400:]
    assert len(stderr.splitlines()) <= 1, stderr[-400:]
    assert SECRET.encode() not in outcome.stdout and SECRET not in stderr
    assert outcome.seconds < TIME_LIMIT
    if not case.raw_output:
        assert b"\x1b" not in outcome.stdout and b"\x1b" not in outcome.stderr
    case.check(outcome)


def test_the_corpus_covers_every_item_of_the_issue() -> None:
    assert len(CASES) >= 70 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("redirect", ["closed", "/dev/full"])
def test_a_closed_or_full_stdout_is_one_line(tmp_path, redirect) -> None:
    spec = _file(tmp_path, "s.uapi", "lock l : vm\nlock l : vm\n")
    shell = f"{sys.executable} -m validator check {spec} " + (">&-" if redirect == "closed" else "> /dev/full")
    result = subprocess.run(["sh", "-c", shell], capture_output=True, text=True, cwd=ROOT, timeout=TIME_LIMIT)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "standard output" in result.stderr


def test_a_closed_stdin_for_the_language_server(tmp_path) -> None:
    result = subprocess.run(
        ["sh", "-c", f"{sys.executable} -m validator lsp <&-"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=TIME_LIMIT,
    )
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr


def test_a_second_interrupt_prints_no_traceback(tmp_path) -> None:
    import signal

    spec = _file(tmp_path, "big.uapi", "".join(f"lock l{i} : vm\n" for i in range(200_000)))
    process = subprocess.Popen(
        [sys.executable, "-m", "validator", "check", str(spec)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIME_LIMIT)
    assert b"Traceback" not in stderr and process.returncode in (130, -signal.SIGINT)
