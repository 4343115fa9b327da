"""A keystroke in a 1000-register document, to the diagnostics of that version: the language
server's latency as an editor sees it.

The document is one file (the synthetic spec's declarations, 1000 registers and a restore
scenario). Each round changes one character of a register's doc string, sends the whole text
(`textDocument/didChange`), and waits for the `publishDiagnostics` of that version. Printed:
min / median / max over the rounds, and the time of the first analysis (on open).

    python bench/lsp_keystroke.py [--registers 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py, beside this file)


class Server:
    """`uapi-validator lsp` over pipes, Content-Length framed."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "validator", "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.messages: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
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
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def diagnostics_of(self, version: int) -> dict:
        while True:
            message = self.messages.get(timeout=60)
            params = message.get("params") or {}
            if message.get("method") == "textDocument/publishDiagnostics" and params.get("version") == version:
                return message

    def close(self) -> None:
        self.send({"id": 99, "method": "shutdown", "params": None})
        self.send({"method": "exit", "params": None})
        self.process.wait(timeout=10)


def document(registers: int) -> str:
    body = "".join(generate.uapi_register(generate.register(i)) + "\n" for i in range(registers))
    scenario = "scenario migrate : restore {\n  vmm   generic\n  vcpus 1, 64, 512\n}\n"
    return generate.COMMON + "\n" + body + scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    text = document(args.registers)
    marker = 'doc      "'
    at = text.index(marker, len(text) // 2) + len(marker)
    uri = (Path.cwd() / "keystroke.uapi").as_uri()
    server = Server()
    server.send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    server.send({"method": "initialized", "params": {}})
    start = time.perf_counter()
    opened = {"uri": uri, "languageId": "uapi", "version": 1, "text": text}
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": opened}})
    server.diagnostics_of(1)
    first = time.perf_counter() - start
    times = []
    for version in range(2, args.rounds + 2):
        text = text[:at] + "abcdefghij"[version % 10] + text[at + 1 :]
        start = time.perf_counter()
        changed = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}
        server.send({"method": "textDocument/didChange", "params": changed})
        server.diagnostics_of(version)
        times.append(time.perf_counter() - start)
    server.close()
    ms = sorted(t * 1000 for t in times)
    print(
        f"lsp keystroke, {args.registers} registers ({len(text) // 1024} KiB), {args.rounds} rounds: "
        f"min {ms[0]:.0f} / median {statistics.median(ms):.0f} / max {ms[-1]:.0f} ms "
        f"(target: median < 100 ms); first analysis on open {first * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
