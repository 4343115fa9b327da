"""The language server, driven by a real LSP client session over stdio."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("pygls")

FIRMWARE = ROOT / "spec" / "kvm" / "arm64" / "firmware.uapi"


class Client:
    """A minimal LSP client: Content-Length framed JSON-RPC over the server's stdin/stdout."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "validator", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        self.messages: queue.Queue[dict] = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                key, _, value = line.decode().partition(":")
                headers[key.strip().lower()] = value.strip()
            if not headers:
                return
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == self.next_id)

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def wait(self, test, timeout: float = 30.0) -> dict:
        while True:
            message = self.messages.get(timeout=timeout)
            if test(message):
                return message

    def close(self) -> None:
        try:
            self.request("shutdown", None)  # type: ignore[arg-type]
            self.notify("exit", None)  # type: ignore[arg-type]
            self.process.wait(timeout=10)
        finally:
            self.process.kill()


@pytest.fixture(scope="module")
def session():
    client = Client()
    reply = client.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(), "capabilities": {}})
    assert reply["result"]["serverInfo"]["name"] == "uapi-validator"
    capabilities = reply["result"]["capabilities"]
    assert (
        capabilities["hoverProvider"] and capabilities["definitionProvider"] and capabilities["documentSymbolProvider"]
    )
    client.notify("initialized", {})
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": FIRMWARE.as_uri(), "languageId": "uapi", "version": 1, "text": FIRMWARE.read_text()}},
    )
    yield client
    client.close()


def position_of(text: str, needle: str, line_start: str) -> dict:
    lines = text.splitlines()
    line = next(i for i, value in enumerate(lines) if value.startswith(line_start))
    return {"line": line, "character": lines[line].index(needle) + 1}


def test_diagnostics_are_published_on_open(session) -> None:
    published = session.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    assert published["params"]["uri"] == FIRMWARE.as_uri()
    diagnostics = published["params"]["diagnostics"]
    codes = sorted(d["code"] for d in diagnostics)
    assert codes.count("S201") == 4 and codes.count("S202") == 3 and "X702" in codes
    s202 = next(d for d in diagnostics if d["code"] == "S202")
    assert (
        s202["severity"] == 2
        and s202["source"] == "uapi-validator"
        and "fix: reach it through the VM fd" in s202["message"]
    )
    assert s202["relatedInformation"][0]["location"]["uri"].endswith("firmware.uapi")
    assert s202["range"]["start"]["character"] == 0  # 0-based, at the register line


def test_diagnostics_follow_edits(session) -> None:
    text = FIRMWARE.read_text().replace("lock     config_lock", "lock     config_lokc", 1)
    session.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": FIRMWARE.as_uri(), "version": 2}, "contentChanges": [{"text": text}]},
    )
    published = session.wait(
        lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == 2
    )
    [e102] = [d for d in published["params"]["diagnostics"] if d["code"] == "E102"]
    assert "config_lokc" in e102["message"] and "did you mean config_lock?" in e102["message"]
    session.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": FIRMWARE.as_uri(), "version": 3}, "contentChanges": [{"text": FIRMWARE.read_text()}]},
    )
    session.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == 3)


def test_hover_on_a_rule_code_shows_its_documentation(session) -> None:
    text = FIRMWARE.read_text()
    reply = session.request(
        "textDocument/hover",
        {
            "textDocument": {"uri": FIRMWARE.as_uri()},
            "position": position_of(text, "S202", "register KVM_REG_ARM_STD_BMAP"),
        },
    )
    value = reply["result"]["contents"]["value"]
    assert value.startswith("**S202 serialized-restore** (warning)") and "**Why it matters**" in value


def test_hover_on_a_register_shows_scope_paths_locks_and_cost(session) -> None:
    text = FIRMWARE.read_text()
    reply = session.request(
        "textDocument/hover",
        {
            "textDocument": {"uri": FIRMWARE.as_uri()},
            "position": position_of(text, "STD_BMAP", "register KVM_REG_ARM_STD_BMAP"),
        },
    )
    value = reply["result"]["contents"]["value"]
    assert "scope: vm" in value and "one_reg (vcpu, listed)" in value and "config_lock (vm)" in value
    assert "a generic VMM at 512 vCPUs: 512 writes through one_reg, 512 serialized on a VM lock" in value


def test_definition_of_a_lock_and_of_an_include(session) -> None:
    text = FIRMWARE.read_text()
    reply = session.request(
        "textDocument/definition",
        {
            "textDocument": {"uri": FIRMWARE.as_uri()},
            "position": position_of(text, "config_lock", "  lock     config_lock"),
        },
    )
    assert reply["result"]["uri"].endswith("common.uapi")
    common = (FIRMWARE.parent / "common.uapi").read_text().splitlines()
    assert common[reply["result"]["range"]["start"]["line"]].startswith("lock config_lock")
    reply = session.request(
        "textDocument/definition",
        {"textDocument": {"uri": FIRMWARE.as_uri()}, "position": position_of(text, "common", 'include "common.uapi"')},
    )
    assert Path(reply["result"]["uri"].removeprefix("file://")).name == "common.uapi"


def test_document_symbols(session) -> None:
    reply = session.request("textDocument/documentSymbol", {"textDocument": {"uri": FIRMWARE.as_uri()}})
    names = [s["name"] for s in reply["result"]]
    assert names[:2] == ["KVM_REG_ARM_PSCI_VERSION", "KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1"] and "migrate" in names


def test_hover_on_a_struct_shows_its_layout_per_abi_with_holes_and_an_ioctl_its_numbers() -> None:
    from validator.frontend.load import load_units
    from validator.frontend.resolve import resolve
    from validator.tools.lsp import hover_text, symbols

    path = str(ROOT / "spec/kvm/x86/ioctls.uapi")
    spec = resolve(load_units([path])[0])
    layout = hover_text(spec, "kvm_dirty_tlb") or ""
    assert "x86_64: 16 bytes, aligned to 8" in layout and "| 12 | 4 | *tail padding* |" in layout
    assert "i386: 12 bytes, aligned to 4" in layout
    assert "number: 0x4010aeaa on x86_64, 0x400caeaa on i386" in (hover_text(spec, "KVM_DIRTY_TLB") or "")
    names = {symbol.name: symbol.kind for symbol in symbols(spec, path)}
    assert names["kvm_dirty_tlb"] == 23 and names["KVM_DIRTY_TLB"] == 12  # Struct, Function


ENCODED = 'api "kvm/x86" version "6.1"\nlock l : vm "😀 é" junk\n'
ACTIONS = """api "kvm/x86" version "6.1"
interface one_reg : vcpu {
  get KVM_GET_ONE_REG
  set KVM_SET_ONE_REG
}
register R {  # "😀 é"
  id 0x6030_0000_0010_0000
  width 64
  scope vcpu
  via one_reg
  migrate no
  writable before first_run
  reserved ignore
  bits {
    0 A
  }
}
"""


def _session_with(encodings: list[str] | None, text: str, path: Path) -> tuple[Client, dict, dict]:
    client = Client()
    capabilities = {"general": {"positionEncodings": encodings}} if encodings is not None else {}
    reply = client.request("initialize", {"processId": None, "rootUri": None, "capabilities": capabilities})
    client.notify("initialized", {})
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": path.as_uri(), "languageId": "uapi", "version": 1, "text": text}},
    )
    published = client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    return client, reply["result"]["capabilities"], published["params"]


@pytest.mark.parametrize(
    "offered, negotiated, units",
    [
        (None, "utf-16", lambda s: len(s.encode("utf-16-le")) // 2),  # the protocol's default
        (["utf-8"], "utf-8", lambda s: len(s.encode())),  # Neovim 0.11 offers utf-8 first
        (["utf-32", "utf-16"], "utf-32", len),
    ],
)
def test_columns_follow_the_negotiated_position_encoding(offered, negotiated, units, tmp_path) -> None:
    client, capabilities, published = _session_with(offered, ENCODED, tmp_path / "e.uapi")
    try:
        assert capabilities.get("positionEncoding", "utf-16") == negotiated
        [diagnostic] = published["diagnostics"]
        line = ENCODED.splitlines()[1]
        assert diagnostic["range"]["start"] == {"line": 1, "character": units(line[: line.index("junk")])}
        assert diagnostic["range"]["end"]["character"] == units(line[: line.index("junk") + 4])
    finally:
        client.close()


def test_an_edit_that_moves_the_units_but_not_the_finding_moves_its_range(tmp_path) -> None:
    # The server keeps the last publish's diagnostics by finding; an ASCII character turned
    # into one outside the BMP leaves the finding's code-point columns as they were and moves
    # its UTF-16 columns: the diagnostic must be made again, not reused.
    plain = ENCODED.replace("😀 é", "a e")
    path = tmp_path / "e.uapi"
    client, _, published = _session_with(None, plain, path)
    try:
        [before] = published["diagnostics"]
        assert before["range"]["start"] == {"line": 1, "character": plain.splitlines()[1].index("junk")}
        for version, text in ((2, ENCODED.replace("é", "e")), (3, plain)):
            client.notify(
                "textDocument/didChange",
                {"textDocument": {"uri": path.as_uri(), "version": version}, "contentChanges": [{"text": text}]},
            )
            published = client.wait(
                lambda m, v=version: (
                    m.get("method") == "textDocument/publishDiagnostics" and m["params"].get("version") == v
                )
            )
            [after] = published["params"]["diagnostics"]
            line = text.splitlines()[1]
            units = len(line[: line.index("junk")].encode("utf-16-le")) // 2
            assert after["range"]["start"] == {"line": 1, "character": units}
            assert after["message"] == before["message"]
    finally:
        client.close()


def _apply(text: str, edits: list[dict]) -> str:
    """Apply LSP text edits given in utf-16 units (the default encoding)."""
    lines = text.splitlines(keepends=True)

    def offset(position: dict) -> int:
        line = lines[position["line"]] if position["line"] < len(lines) else ""
        units, index = 0, 0
        while units < position["character"] and index < len(line):
            units += len(line[index].encode("utf-16-le")) // 2
            index += 1
        return sum(len(x) for x in lines[: position["line"]]) + index

    for edit in sorted(
        edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True
    ):
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


def test_code_actions_fix_a_deadline_reject_undefined_bits_and_offer_an_allow(tmp_path) -> None:
    path = tmp_path / "a.uapi"
    client, capabilities, published = _session_with(None, ACTIONS, path)
    try:
        assert capabilities["codeActionProvider"]
        codes = {d["code"] for d in published["diagnostics"]}
        assert {"L401", "C502"} <= codes
        whole = {"start": {"line": 0, "character": 0}, "end": {"line": 20, "character": 0}}
        reply = client.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": path.as_uri()}, "range": whole, "context": {"diagnostics": []}},
        )
        actions = {a["title"]: a for a in reply["result"]}
        deadline = actions["Add `else EBUSY`"]
        reserved = actions["Reject undefined bits: `reserved reject EINVAL`"]
        fixed = _apply(ACTIONS, deadline["edit"]["changes"][path.as_uri()] + reserved["edit"]["changes"][path.as_uri()])
        assert "  writable before first_run else EBUSY\n" in fixed and "  reserved reject EINVAL\n" in fixed
        path.write_text(fixed)
        checked = json.loads(
            subprocess.run(
                [sys.executable, "-m", "validator", "check", str(path), "--format", "json"],
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
        )
        assert not {"L401", "C502"} & {f["code"] for f in checked["findings"]}
        allow = next(a for title, a in actions.items() if title.startswith("Allow L401"))
        [edit] = allow["edit"]["changes"][path.as_uri()]
        assert edit["newText"] == "# allow: L401 -- \n" and edit["range"]["start"] == {"line": 5, "character": 0}
    finally:
        client.close()


def test_exit_with_the_clients_end_still_open_ends_cleanly() -> None:
    """A client that sends `exit` and keeps its end of stdin open (as editors do until the
    process is gone): the server exits 0, with no fatal error from the blocked reader."""
    client = Client()
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    client.notify("initialized", {})
    client.request("shutdown", None)  # type: ignore[arg-type]
    client.notify("exit", None)  # type: ignore[arg-type]
    try:
        assert client.process.wait(timeout=20) == 0
        assert b"Fatal Python error" not in client.process.stderr.read()
    finally:
        client.process.kill()


KEYSTROKES = r"""
import gc, json, sys
sys.path.insert(0, "bench")
import generate
from validator.tools.lsp import make_server
server = make_server()
class Sink:
    def write(self, data): pass
    def close(self): pass
server.protocol.set_writer(Sink())
def send(message):
    body = json.dumps({"jsonrpc": "2.0", **message})
    server.protocol.handle_message(json.loads(body, object_hook=server.protocol.structure_message))
send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
send({"method": "initialized", "params": {}})
text = generate.COMMON + "".join(generate.uapi_register(generate.register(i)) + "\n" for i in range(100))
uri = "file:///tmp/keystrokes.uapi"
opened = {"uri": uri, "languageId": "uapi", "version": 1, "text": text}
send({"method": "textDocument/didOpen", "params": {"textDocument": opened}})
at = text.index('doc      "', len(text) // 2) + len('doc      "')
kept = []
for version in range(2, 27):
    text = text[:at] + "abcdefghij"[version % 10] + text[at + 1:]
    changed = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}
    send({"method": "textDocument/didChange", "params": changed})
    kept.append(gc.get_freeze_count())
print(json.dumps(kept))
"""


def test_keystrokes_leave_nothing_behind() -> None:
    # After each analysis the server collects and freezes what survives (collector.settle):
    # the objects alive after a keystroke must be as many as after the one before, or the
    # server grows for as long as the user types (pygls kept a future per notification).
    done = subprocess.run([sys.executable, "-c", KEYSTROKES], capture_output=True, text=True, cwd=ROOT, timeout=300)
    kept = json.loads(done.stdout.splitlines()[-1])
    assert kept[0] > 10_000  # the model, frozen
    assert kept[5:] == [kept[5]] * len(kept[5:]), kept


def _body(method: str, uri: str, version: object = None) -> bytes:
    document: dict[str, object] = {"uri": uri}
    if version is not None:
        document["version"] = version
    return json.dumps({"jsonrpc": "2.0", "method": method, "params": {"textDocument": document}}).encode()


def test_a_change_is_superseded_only_by_a_later_change_of_the_same_document() -> None:
    from validator.tools.lsp import Changes

    changes = Changes()
    changes.note(_body("textDocument/didChange", "file:///a", 5))
    assert changes.superseded("file:///a", 4) and not changes.superseded("file:///a", 5)
    assert not changes.superseded("file:///b", 1) and not changes.superseded("file:///a", None)
    for odd in (b"{", b"[" * 100_000 + b"textDocument/didChange", _body("textDocument/didChange", "file:///a", "9")):
        changes.note(odd)  # not JSON, too deep, a version that is no number: nothing noted
    assert not changes.superseded("file:///a", 5)
    changes.note(_body("textDocument/didClose", "file:///a"))  # reopened, versions start again
    assert not changes.superseded("file:///a", 1)
    changes.note(_body("textDocument/hover", "file:///a", 99))
    assert not changes.superseded("file:///a", 1)


def test_a_burst_of_changes_is_analysed_at_its_end(tmp_path) -> None:
    # Twenty versions written at once: the server may skip any version a later one already
    # waiting replaces, and must publish the last one's diagnostics.
    path = tmp_path / "burst.uapi"
    text = FIRMWARE.read_text()
    client = Client()
    try:
        client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        client.notify("initialized", {})
        opened = {"uri": path.as_uri(), "languageId": "uapi", "version": 1, "text": text}
        client.notify("textDocument/didOpen", {"textDocument": opened})
        client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
        frames = b""
        for version in range(2, 22):
            edited = text.replace("lock     config_lock", "lock     config_lokc", 1) if version == 21 else text
            change = {"textDocument": {"uri": path.as_uri(), "version": version}, "contentChanges": [{"text": edited}]}
            body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": change}).encode()
            frames += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        client.process.stdin.write(frames)
        client.process.stdin.flush()
        published = []
        while not published or published[-1]["params"]["version"] != 21:
            published.append(client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"))
        versions = [p["params"]["version"] for p in published]
        assert versions == sorted(versions) and len(versions) < 20, versions
        assert any(d["code"] == "E102" for d in published[-1]["params"]["diagnostics"])  # the last text's
    finally:
        client.close()
