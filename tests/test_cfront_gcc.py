"""The header reader against gcc: every struct, union and evaluable macro of the installed
<linux/kvm.h> (with its <asm/kvm.h>) on x86_64, i386 and aarch64 must read as gcc reads it."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from tests import gcc_oracle
from validator.kernel.cfront import CHeaders, read_c_headers

# The headers as installed: the host's for x86 (the asm headers serve both x86 ABIs), the
# cross compiler's copies for aarch64.
INCLUDE_DIRS = {
    "x86_64": ["/usr/include", "/usr/include/x86_64-linux-gnu"],
    "i386": ["/usr/include", "/usr/include/x86_64-linux-gnu"],
    "aarch64": ["/usr/aarch64-linux-gnu/include"],
}
HEADERS = ["<linux/kvm.h>", "<asm/kvm.h>"]


def _skip_reason(abi: str) -> str | None:
    from pathlib import Path

    if not Path(INCLUDE_DIRS[abi][0], "linux", "kvm.h").is_file():
        return f"{INCLUDE_DIRS[abi][0]}/linux/kvm.h is not installed"
    return gcc_oracle.available(abi)


class Agreement(NamedTuple):
    abi: str
    headers: CHeaders  # what the reader read
    truth: dict[str, list[int]]  # what gcc evaluated, by entry key
    tags: set[str]  # every struct and union tag gcc -E shows


@pytest.fixture(scope="module", params=sorted(INCLUDE_DIRS))
def agreement(request, tmp_path_factory) -> Agreement:
    abi = request.param
    reason = _skip_reason(abi)
    if reason:
        pytest.skip(reason)
    headers = read_c_headers(HEADERS, INCLUDE_DIRS[abi], abi)
    workdir = tmp_path_factory.mktemp(abi)
    entries = [
        gcc_oracle.Entry(
            tag,
            (f"sizeof({tag})", f"_Alignof({tag})", *(f"offsetof({tag}, {m})" for m in layout.members)),
        )
        for tag, layout in headers.structs.items()
    ]
    names = list(headers.macros) + list(headers.not_integers)
    entries += [gcc_oracle.Entry(f"macro {name}", (name,)) for name in names]
    entries += [gcc_oracle.Entry(f"enum {name}", (name,)) for name in headers.enums]
    truth = gcc_oracle.evaluate(abi, HEADERS, entries, workdir)
    return Agreement(abi, headers, truth, gcc_oracle.tags(abi, HEADERS, workdir))


def test_every_struct_and_union_is_read(agreement) -> None:
    assert set(agreement.headers.structs) == agreement.tags
    assert agreement.headers.unreadable == {}


def test_every_layout_is_gccs(agreement) -> None:
    headers, truth = agreement.headers, agreement.truth
    differ = {}
    for tag, layout in headers.structs.items():
        ours = [layout.size, layout.align, *layout.members.values()]
        if truth.get(tag) != ours:
            differ[tag] = (ours, truth.get(tag))
    assert differ == {}
    assert len(headers.structs) > 100


def test_every_macro_gcc_evaluates_has_gccs_value_and_no_other_has_one(agreement) -> None:
    headers, truth = agreement.headers, agreement.truth
    gcc_macros = {key.removeprefix("macro "): values[0] for key, values in truth.items() if key.startswith("macro ")}
    ours = {name: value & (1 << 64) - 1 for name, value in headers.macros.items()}
    kvm = {name for name in gcc_macros if name.startswith("KVM_")}
    assert {name: ours.get(name) for name in kvm if ours.get(name) != gcc_macros[name]} == {}
    assert {name: ours.get(name) for name in gcc_macros if ours.get(name) != gcc_macros[name]} == {}
    assert set(ours) - set(gcc_macros) == set()
    assert len(kvm) > 600


def test_every_enumerator_is_gccs(agreement) -> None:
    headers, truth = agreement.headers, agreement.truth
    gcc_enums = {key.removeprefix("enum "): values[0] for key, values in truth.items() if key.startswith("enum ")}
    assert {n: v & (1 << 64) - 1 for n, v in headers.enums.items()} == gcc_enums
