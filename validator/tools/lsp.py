"""`uapi-validator lsp`: a Language Server over stdio (pygls).

Diagnostics as the user types (the findings, codes, hints and related locations of `check`),
hover (a rule's documentation on its code; a declaration's resolved facts, with what a
generic VMM pays for a register at 512 vCPUs), go-to-definition (locks, interfaces,
capabilities, features, registers, includes) and document symbols.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from lsprotocol import types as t
from pygls import uris
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace.position_codec import PositionCodec

from validator import TOOL_NAME, __version__, collector
from validator.frontend.layout import LayoutError, ioctl_number, ioctl_size, lay_out
from validator.frontend.load import load_text_unit
from validator.frontend.parse import StatementCache
from validator.frontend.resolve import KIND_WORD, ResolvedSpec
from validator.frontend.sources import InputError
from validator.frontend.textfile import MAX_FILE_BYTES, FileProblem
from validator.model import spec as m
from validator.model.findings import ERROR, INFO, WARNING, Finding
from validator.model.spans import Span
from validator.model.words import describe
from validator.pipeline.config import ConfigError, config_for
from validator.pipeline.engine import Report, check_units, directive_baseline
from validator.rules import lookup

HOVER_VCPUS = 512
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEVERITY = {
    ERROR: t.DiagnosticSeverity.Error,
    WARNING: t.DiagnosticSeverity.Warning,
    INFO: t.DiagnosticSeverity.Information,
}
_SYMBOL = {
    m.Register: t.SymbolKind.Field,
    m.Interface: t.SymbolKind.Interface,
    m.Lock: t.SymbolKind.Key,
    m.Capability: t.SymbolKind.Constant,
    m.Feature: t.SymbolKind.EnumMember,
    m.Scenario: t.SymbolKind.Event,
    m.Struct: t.SymbolKind.Struct,
    m.Flags: t.SymbolKind.Enum,
    m.IoctlDecl: t.SymbolKind.Function,
}


def _range(span: Span) -> t.Range:
    """LSP positions are 0-based; ours are 1-based (end exclusive in both). Columns here are
    code points; `Positions` turns them into the units the client negotiated."""
    return t.Range(t.Position(span.line - 1, span.column - 1), t.Position(span.end_line - 1, span.end_column - 1))


class Positions:
    """Code-point positions (ours) to and from the client's units (utf-16 unless the client
    offered utf-8 or utf-32 in `general.positionEncodings`), by the lines of each file."""

    def __init__(self, codec: PositionCodec | None, texts: Mapping[str, str]) -> None:
        self.codec, self.texts = codec, texts
        self._lines: dict[str, list[str]] = {}
        self._plain: dict[str, bool] = {}

    def plain(self, path: str) -> bool:
        """Whether the client's units are code points throughout the file: no codec, or
        ASCII text (one unit a character in UTF-8, UTF-16 and UTF-32 alike)."""
        if self.codec is None:
            return True
        found = self._plain.get(path)
        if found is None:
            found = self._plain[path] = self.texts.get(path, "").isascii()
        return found

    def plain_everywhere(self) -> bool:
        return all(self.plain(path) for path in self.texts)

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            self._lines[path] = self.texts.get(path, "").splitlines()
        return self._lines[path]

    def out(self, span: Span) -> t.Range:
        return self.range_out(span.path, _range(span))

    def range_out(self, path: str, plain: t.Range) -> t.Range:
        """A code-point range of a file, in the client's units."""
        if self.codec is None or self.plain(path):
            return plain
        return self.codec.range_to_client_units(self.lines(path), plain)

    def into(self, path: str, position: t.Position) -> t.Position:
        if self.codec is None:
            return position
        found = self.codec.position_from_client_units(self.lines(path), position)
        return t.Position(found.line, found.character)


def analyse(uri: str, text: str, reuse: StatementCache | None = None) -> tuple[Report, ResolvedSpec]:
    path = uris.to_fs_path(uri) or uri
    try:  # the project's configuration, as `check` finds it
        config = config_for(Path(path))
    except ConfigError:
        config = None
    with collector.paused():
        report = check_units([load_text_unit(text, path, reuse)], config, directive_baseline)
    return report, report.specs[0]


def _texts(report: Report) -> dict[str, str]:
    return {path: spec_file.text for path, spec_file in report.files.items()}


def diagnostics(
    report: Report,
    path: str,
    positions: Positions | None = None,
    reuse: dict[Finding, t.Diagnostic] | None = None,
) -> list[t.Diagnostic]:
    """The report's findings in `path` as LSP diagnostics. With `reuse` (the last publish's
    conversions, by finding), a finding found again is not converted again where positions
    need no conversion (a keystroke leaves most findings as they were); `reuse` is left
    holding this publish's."""
    positions = positions or Positions(None, {})
    # Only conversions made where code points are the client's units are kept and reused:
    # elsewhere the same finding's range depends on the characters before it.
    plain = positions.plain_everywhere()
    previous = dict(reuse) if reuse is not None and plain else {}
    if reuse is not None:
        reuse.clear()
    keep = reuse if plain else None
    # Many findings point at the same places (a lock, a scenario): each is converted once.
    ranges: dict[Span, t.Range] = {}
    locations: dict[Span, t.Location] = {}
    file_uris: dict[str, str] = {}

    def range_of(span: Span) -> t.Range:
        found = ranges.get(span)
        if found is None:
            found = ranges[span] = positions.out(span)
        return found

    def location_of(span: Span) -> t.Location:
        found = locations.get(span)
        if found is None:
            uri = file_uris.get(span.path)
            if uri is None:
                uri = file_uris[span.path] = uris.from_fs_path(span.path) or span.path
            found = locations[span] = t.Location(uri, range_of(span))
        return found

    out = []
    for finding in report.findings:
        if finding.span.path != path or finding.suppressed is not None:
            continue
        diagnostic = previous.get(finding)
        if diagnostic is None:
            related = [t.DiagnosticRelatedInformation(location_of(r.span), r.message) for r in finding.related]
            message = finding.message + (f"\nfix: {finding.hint}" if finding.hint else "")
            diagnostic = t.Diagnostic(
                range_of(finding.span),
                message,
                severity=_SEVERITY[finding.severity],
                code=finding.code,
                source=TOOL_NAME,
                related_information=related or None,
            )
        if keep is not None:
            keep[finding] = diagnostic
        out.append(diagnostic)
    return out


def _word_at(text: str, position: t.Position) -> str | None:
    lines = text.splitlines()
    if position.line >= len(lines):
        return None
    for found in _WORD.finditer(lines[position.line]):
        if found.start() <= position.character <= found.end():
            return found.group()
    return None


def _declaration(spec: ResolvedSpec, name: str) -> m.Declaration | None:
    for table in (
        spec.registers,
        spec.interfaces,
        spec.locks,
        spec.capabilities,
        spec.scenarios,
        spec.types,
        spec.ioctls,
    ):
        if name in table:
            return table[name]
    return None


def hover_text(spec: ResolvedSpec, word: str) -> str | None:
    rule = lookup(word) if re.fullmatch(r"[A-Z]\d{3}", word) else None
    if rule is not None:
        sections = "\n\n".join(
            f"**{title}**\n\n{rule.section(title)}"
            for title in ("What it finds", "Why it matters", "How to fix")
            if rule.section(title)
        )
        return f"**{rule.code} {rule.name}** ({rule.severity})\n\n{rule.summary}\n\n{sections}"
    decl = _declaration(spec, word)
    if decl is None:
        return None
    if isinstance(decl, m.Register):
        return _register_hover(spec, decl)
    if isinstance(decl, m.Struct):
        return _struct_hover(spec, decl)
    lines = [f"**{KIND_WORD[type(decl)]} {decl.name}**"]
    scope = getattr(decl, "scope", None)
    if scope:
        lines.append(f"scope: {scope}")
    if isinstance(decl, m.IoctlDecl) and decl.nr is not None:
        with contextlib.suppress(LayoutError):
            numbers = [
                f"0x{ioctl_number(decl.dir or 'none', decl.nr, ioctl_size(dict(spec.types), decl, abi)):08x} on {abi}"
                for abi in spec.abis
            ]
            lines.append("number: " + ", ".join(numbers))
    if isinstance(decl, m.Interface):
        lines.append("ioctls: " + ", ".join(f"{i.role} {i.name.text}" for i in decl.ioctls))
        lines.append(
            "enumerable (a generic VMM walks it)" if decl.enumerable else "not enumerable: VMMs need code for it"
        )
    doc = getattr(decl, "doc", None)
    if doc:
        lines.append(str(doc))
    return "\n\n".join(lines)


def _struct_hover(spec: ResolvedSpec, struct: m.Struct) -> str:
    """The layout on each of the spec's ABIs, holes marked, as a table per ABI."""
    lines = [f"**{'union' if struct.union else 'struct'} {struct.name}**"]
    for abi in spec.abis:
        try:
            layout = lay_out(dict(spec.types), struct, abi)
        except LayoutError as exc:
            lines.append(f"{abi}: {exc}")
            continue
        holes = {offset: size for offset, size, _ in layout.holes()}
        rows = ["| offset | size | field |", "| ---: | ---: | --- |"]
        for placed in layout.fields:
            for offset in sorted(o for o in holes if o < placed.offset):
                rows.append(f"| {offset} | {holes.pop(offset)} | *hole* |")
            rows.append(f"| {placed.offset} | {placed.size} | {describe(placed.field)} |")
        rows += [f"| {offset} | {size} | *tail padding* |" for offset, size in sorted(holes.items())]
        lines.append(f"{abi}: {layout.size} bytes, aligned to {layout.align}\n\n" + "\n".join(rows))
    if struct.doc:
        lines.append(struct.doc)
    return "\n\n".join(lines)


def _register_hover(spec: ResolvedSpec, register: m.Register) -> str:
    paths = spec.interfaces_of(register)
    locks = spec.write_locks(register)
    generic = spec.generic_path(register)
    per_vcpu = spec.generic_writes_per_vcpu(register)
    writes = HOVER_VCPUS if per_vcpu else 1
    serialized = writes if any(lock.scope == "vm" for lock, _ in locks) else 0
    lines = [
        f"**register {register.name}**" + (f" `0x{register.id:x}`" if register.id is not None else ""),
        f"scope: {register.scope or 'unspecified'}",
        "access paths: "
        + (", ".join(f"{i.name} ({i.scope}{', listed' if i.enumerable else ''})" for i in paths) or "none"),
        "locks on write: " + (", ".join(f"{lock.name} ({lock.scope})" for lock, _ in locks) or "none"),
    ]
    if register.migrate and generic is not None:
        lines.append(
            f"a generic VMM at {HOVER_VCPUS} vCPUs: {writes} write{'s' if writes != 1 else ''} through "
            f"{generic.name}, {serialized} serialized on a VM lock"
        )
    if register.doc:
        lines.append(register.doc)
    return "\n\n".join(lines)


def definition(spec: ResolvedSpec, path: str, text: str, position: t.Position) -> t.Location | None:
    line = text.splitlines()[position.line] if position.line < len(text.splitlines()) else ""
    include = re.match(r'\s*include\s+"([^"]*)"', line)
    if include:
        target = Path(path).parent / include.group(1)
        return t.Location(uris.from_fs_path(str(target)) or str(target), t.Range(t.Position(0, 0), t.Position(0, 0)))
    word = _word_at(text, position)
    decl = _declaration(spec, word) if word else None
    if decl is None:
        return None
    return t.Location(uris.from_fs_path(decl.span.path) or decl.span.path, _range(decl.span))


def symbols(spec: ResolvedSpec, path: str) -> list[t.DocumentSymbol]:
    out = []
    for spec_file in spec.files:
        if spec_file.path != path:
            continue
        for decl in spec_file.declarations:
            last = max(
                (a.span for a in getattr(decl, "attrs", ())),
                default=decl.span,
                key=lambda s: (s.end_line, s.end_column),
            )
            whole = Span(
                decl.span.path,
                decl.span.line,
                decl.span.column,
                last.end_line + (1 if last is not decl.span else 0),
                2 if last is not decl.span else decl.span.end_column,
            )
            detail = str(getattr(decl, "scope", None) or getattr(decl, "kind", None) or "")
            out.append(
                t.DocumentSymbol(decl.name, _SYMBOL[type(decl)], _range(whole), _range(decl.span), detail=detail)
            )
    return out


# The fixes that are mechanical, by the rule whose finding they answer.
_ERRNO_AFTER_DEADLINE = ("L401", "I113")  # `before EVENT` with no `else ERRNO`
_RESERVED = "C502"  # undefined bits accepted


def code_actions(report: Report, path: str, text: str, first_line: int, last_line: int) -> list[t.CodeAction]:
    """Quick fixes for the findings on lines first_line..last_line (0-based) of the document,
    in code points: `else EBUSY` after a deadline, `reserved reject EINVAL`, and an
    `# allow: CODE -- ` line above the finding for the user to give the reason."""
    lines = text.splitlines()
    actions: list[t.CodeAction] = []
    uri = uris.from_fs_path(path) or path
    for finding in report.findings:
        span = finding.span
        if span.path != path or finding.suppressed is not None or not first_line <= span.line - 1 <= last_line:
            continue
        if span.line - 1 >= len(lines):
            continue
        line = lines[span.line - 1]
        diagnostic = t.Diagnostic(_range(span), finding.message, code=finding.code, source=TOOL_NAME)

        def action(
            title: str, edit: t.TextEdit, preferred: bool = False, diagnostic: t.Diagnostic = diagnostic
        ) -> t.CodeAction:
            return t.CodeAction(
                title,
                kind=t.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=t.WorkspaceEdit(changes={uri: [edit]}),
                is_preferred=preferred or None,
            )

        # A hazard is reported at its declaration, the attribute lines that cause it related.
        candidates = [span.line - 1, *(r.span.line - 1 for r in finding.related if r.span.path == path)]
        attribute_lines = [(n, lines[n].split("#", 1)[0].rstrip()) for n in candidates if 0 <= n < len(lines)]
        if finding.code in _ERRNO_AFTER_DEADLINE:
            for number, attribute in attribute_lines:
                if re.search(r"\bbefore\s+\w+$", attribute):
                    at_end = t.Position(number, len(attribute))
                    edit = t.TextEdit(t.Range(at_end, at_end), " else EBUSY")
                    actions.append(action("Add `else EBUSY`", edit, True))
                    break
        if finding.code == _RESERVED:
            ignored = [(n, found) for n, a in attribute_lines if (found := re.match(r"(\s*)reserved\s+ignore\b", a))]
            if ignored:
                number, found = ignored[0]
                whole = t.Range(t.Position(number, 0), t.Position(number, found.end()))
                edit = t.TextEdit(whole, f"{found.group(1)}reserved reject EINVAL")
            else:
                below = t.Position(span.line, 0)
                edit = t.TextEdit(t.Range(below, below), "  reserved reject EINVAL\n")
            actions.append(action("Reject undefined bits: `reserved reject EINVAL`", edit, True))
        indent = line[: len(line) - len(line.lstrip())]
        above = t.Position(span.line - 1, 0)
        comment = f"{indent}# allow: {finding.code} -- \n"
        actions.append(action(f"Allow {finding.code} here, with a reason", t.TextEdit(t.Range(above, above), comment)))
    return actions


class _Protocol(LanguageServerProtocol):
    """pygls 2.1 keeps the future of each notification that one of its generator features
    handles (didOpen, didChange, didSave, didClose) in `_request_futures`, and takes out only
    requests': a long session kept one future, with its lock and callbacks, per keystroke.
    A notification's future is dropped when it is done."""

    def _check_handler_result(self, future: Any) -> None:
        super()._check_handler_result(future)
        kept = getattr(self, "_request_futures", None)
        if isinstance(kept, dict):
            for key in [key for key, value in kept.items() if value is future]:
                del kept[key]


class Changes:
    """The last version of each document the client has sent, as the stream's reader sees it
    ahead of the server: a change that a later one already waiting replaces is not analysed,
    so a burst of keystrokes costs one analysis, of its last version (an editor needs no
    diagnostics for a text that is gone). The reader thread writes; the server's reads."""

    _METHODS = (b"textDocument/didChange", b"textDocument/didOpen", b"textDocument/didClose")

    def __init__(self) -> None:
        self._sent: dict[str, int] = {}

    def note(self, body: bytes) -> None:
        """Read a message on its way to the server (only those that name a document's version)."""
        if not any(method in body for method in self._METHODS):
            return
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):
            return  # the server answers it
        params = message.get("params") if isinstance(message, dict) else None
        document = params.get("textDocument") if isinstance(params, dict) else None
        if not isinstance(document, dict) or not isinstance(document.get("uri"), str):
            return
        uri, version, method = document["uri"], document.get("version"), message.get("method")
        if method == "textDocument/didChange" and type(version) is int:
            self._sent[uri] = version
        elif method in ("textDocument/didOpen", "textDocument/didClose"):
            self._sent.pop(uri, None)  # versions start again

    def superseded(self, uri: str, version: int | None) -> bool:
        later = self._sent.get(uri)
        return version is not None and later is not None and later > version


def make_server(changes: Changes | None = None) -> LanguageServer:
    """The server; with `changes` (kept by the reader of its stream), a change already replaced
    by a later one is not analysed."""
    server = LanguageServer(TOOL_NAME, __version__, protocol_cls=_Protocol)
    # The latest analysis of each open document, with the version it was made from: hover,
    # definition and symbols reuse what the diagnostics of that version already computed.
    # Only documents the client opened are served: pygls would otherwise read an unopened
    # URI from disk (file:///proc/self/fd/0, a FIFO, /dev/zero) and never return.
    latest: dict[str, tuple[int | None, Report, ResolvedSpec] | None] = {}
    # Each open document's statements as last parsed: a keystroke re-parses one statement.
    parsed: dict[str, StatementCache] = {}
    # Each open document's last diagnostics, by finding: a keystroke converts the new ones.
    converted: dict[str, dict[Finding, t.Diagnostic]] = {}

    def analysed(ls: LanguageServer, uri: str, *, fresh: bool = False) -> tuple[Report, ResolvedSpec] | None:
        if uri not in latest:
            return None
        document = ls.workspace.get_text_document(uri)
        cached = latest.get(uri)
        if fresh or cached is None or cached[0] != document.version:
            if len(document.source) > MAX_FILE_BYTES:
                latest[uri] = None
                return None
            try:
                cached = (document.version, *analyse(uri, document.source, parsed.setdefault(uri, StatementCache())))
            except (InputError, FileProblem, ConfigError):
                latest[uri] = None
                return None
            latest[uri] = cached
        return cached[1], cached[2]

    def publish(ls: LanguageServer, uri: str) -> None:
        with collector.paused():  # through the diagnostics' conversion and sending
            _publish(ls, uri)
        collector.settle()

    def _publish(ls: LanguageServer, uri: str) -> None:
        # Fresh on open, change and save: files the document includes may have changed too.
        analysis = analysed(ls, uri, fresh=True)
        document = ls.workspace.get_text_document(uri)
        path = uris.to_fs_path(uri) or uri
        if analysis is None:
            message = (
                f"not analysed: the document is over {MAX_FILE_BYTES} bytes"
                if len(document.source) > MAX_FILE_BYTES
                else "not analysed: a file it names cannot be read (run `uapi-validator check` for the reason)"
            )
            found = [t.Diagnostic(t.Range(t.Position(0, 0), t.Position(0, 0)), message, t.DiagnosticSeverity.Error)]
        else:
            texts = {**_texts(analysis[0]), path: document.source}
            positions = Positions(ls.workspace.position_codec, texts)
            found = diagnostics(analysis[0], path, positions, converted.setdefault(uri, {}))
        ls.text_document_publish_diagnostics(t.PublishDiagnosticsParams(uri, found, document.version))

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
        latest[params.text_document.uri] = None
        publish(ls, params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
        document = params.text_document
        if document.uri in latest and not (changes and changes.superseded(document.uri, document.version)):
            publish(ls, document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: t.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri in latest:
            publish(ls, params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: t.DidCloseTextDocumentParams) -> None:
        latest.pop(params.text_document.uri, None)
        parsed.pop(params.text_document.uri, None)
        converted.pop(params.text_document.uri, None)

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def hover(ls: LanguageServer, params: t.HoverParams) -> t.Hover | None:
        analysis = analysed(ls, params.text_document.uri)
        if analysis is None:
            return None
        document = ls.workspace.get_text_document(params.text_document.uri)
        path = uris.to_fs_path(params.text_document.uri) or ""
        position = Positions(ls.workspace.position_codec, {path: document.source}).into(path, params.position)
        word = _word_at(document.source, position)
        if word is None:
            return None
        text = hover_text(analysis[1], word)
        return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, text)) if text else None

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    def goto(ls: LanguageServer, params: t.DefinitionParams) -> t.Location | None:
        analysis = analysed(ls, params.text_document.uri)
        if analysis is None:
            return None
        document = ls.workspace.get_text_document(params.text_document.uri)
        path = uris.to_fs_path(params.text_document.uri) or ""
        positions = Positions(ls.workspace.position_codec, {**_texts(analysis[0]), path: document.source})
        found = definition(analysis[1], path, document.source, positions.into(path, params.position))
        if found is None:
            return None
        target = uris.to_fs_path(found.uri) or found.uri
        if target not in positions.texts:
            return found
        return t.Location(found.uri, positions.range_out(target, found.range))

    @server.feature(t.TEXT_DOCUMENT_CODE_ACTION, t.CodeActionOptions(code_action_kinds=[t.CodeActionKind.QuickFix]))
    def actions(ls: LanguageServer, params: t.CodeActionParams) -> list[t.CodeAction]:
        analysis = analysed(ls, params.text_document.uri)
        if analysis is None:
            return []
        document = ls.workspace.get_text_document(params.text_document.uri)
        path = uris.to_fs_path(params.text_document.uri) or ""
        positions = Positions(ls.workspace.position_codec, {path: document.source})
        first, last = positions.into(path, params.range.start).line, positions.into(path, params.range.end).line
        found = code_actions(analysis[0], path, document.source, first, last)
        for action in found:  # code points to the client's units
            for edits in (action.edit.changes or {}).values() if action.edit else ():
                for edit in edits:
                    edit.range = positions.range_out(path, edit.range)
            for diagnostic in action.diagnostics or ():
                diagnostic.range = positions.range_out(path, diagnostic.range)
        return found

    @server.feature(t.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(ls: LanguageServer, params: t.DocumentSymbolParams) -> list[t.DocumentSymbol]:
        analysis = analysed(ls, params.text_document.uri)
        if analysis is None:
            return []
        path = uris.to_fs_path(params.text_document.uri) or ""
        document = ls.workspace.get_text_document(params.text_document.uri)
        positions = Positions(ls.workspace.position_codec, {path: document.source})
        found = symbols(analysis[1], path)
        for symbol in found:
            symbol.range = positions.range_out(path, symbol.range)
            symbol.selection_range = positions.range_out(path, symbol.selection_range)
        return found

    return server


MAX_MESSAGE_BYTES = 4 * MAX_FILE_BYTES  # a document at the size limit, JSON-escaped
MAX_HEADER_LINES = 16
MAX_HEADER_LINE = 1024


class FramingError(Exception):
    pass


def _frames(stdin: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    """The messages of an LSP byte stream, each as its header and body, validated: a
    Content-Length that is not a whole number, or over the limit, ends the session (a stream
    whose framing is lost cannot be resynchronised) instead of wedging or exhausting memory."""
    while True:
        header, length = b"", None
        for _ in range(MAX_HEADER_LINES):
            line = stdin.readline(MAX_HEADER_LINE)
            if not line:
                if header:
                    raise FramingError("the stream ended inside a message header")
                return
            if not line.endswith(b"\n"):
                raise FramingError("a header line is too long or unterminated")
            header += line
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                text = value.strip()
                if not text.isdigit() or len(text) > 12:
                    raise FramingError(f"Content-Length {text[:20]!r} is not a byte count")
                length = int(text)
        else:
            raise FramingError("a message header has too many lines")
        if length is None:
            raise FramingError("a message has no Content-Length")
        if length > MAX_MESSAGE_BYTES:
            raise FramingError(f"a message of {length} bytes is over the limit of {MAX_MESSAGE_BYTES}")
        body = stdin.read(length)
        if len(body) != length:
            raise FramingError("the stream ended inside a message")
        yield header, body


def _forward(source: BinaryIO, sink: int, failures: list[str], changes: Changes | None = None) -> None:
    try:
        for header, body in _frames(source):
            if changes is not None:
                changes.note(body)
            view = memoryview(header + body)
            while view:
                view = view[os.write(sink, view) :]
    except FramingError as exc:
        failures.append(str(exc))
        sys.stderr.write(f"{TOOL_NAME} lsp: {exc}; the session ends\n")
    except OSError:
        pass  # the server went away
    finally:
        with contextlib.suppress(OSError):
            os.close(sink)


def serve() -> bool:
    """Serve over stdio, with the client's framing checked before pygls reads it; False when
    the session ended on broken framing."""
    read_end, write_end = os.pipe()
    failures: list[str] = []
    # A reader of its own on fd 0, not sys.stdin's: a client that sends `exit` and keeps
    # its end open leaves the forwarder blocked in a read, and the interpreter, shutting
    # down, would wait for sys.stdin's lock (a fatal error).
    source = io.BufferedReader(io.FileIO(sys.stdin.fileno(), closefd=False))
    changes = Changes()
    forwarder = threading.Thread(target=_forward, args=(source, write_end, failures, changes), daemon=True)
    forwarder.start()
    with os.fdopen(read_end, "rb") as checked:
        make_server(changes).start_io(checked, sys.stdout.buffer)
    forwarder.join(timeout=1)
    return not failures
