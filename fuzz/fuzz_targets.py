"""Coverage-guided fuzzing (atheris) of the two readers of untrusted text: the spec parser and
the C header reader. Run by tests/test_fuzz.py for a bounded time in CI, or by hand:

    python fuzz/fuzz_targets.py spec -max_total_time=60
    python fuzz/fuzz_targets.py header -max_total_time=60

A target fails only on an exception the reader does not promise: a spec always parses to a
model or a located E101; a header is read (preprocessed, parsed, laid out) or refused with
one HeaderError.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from validator.frontend.parse import parse_file
    from validator.kernel.cfront import HeaderError, read_c_headers
    from validator.kernel.crosscheck import header_registers


def spec_target(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    spec = parse_file(text, "fuzz.uapi")
    for declaration in spec.declarations:
        assert declaration.span.line >= 1 and declaration.span.column >= 1
    if spec.syntax_error is not None:
        assert spec.syntax_error.span.line >= 1 and not spec.declarations


def header_target(data: bytes) -> None:
    # The header is served from memory (any #include reads the same bytes, so includes
    # nest until the depth limit): the target reads no file.
    try:
        headers = read_c_headers(["fuzz.h"], [], "x86_64", read=lambda path: data)
    except HeaderError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
        return
    header_registers(headers)


TARGETS = {"spec": spec_target, "header": header_target}

if __name__ == "__main__":
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
