"""Includes: relative to the including file, names resolve across the set, E109 at the edges."""

from __future__ import annotations

import os

from tests.conftest import at, check_files, codes, write


def test_names_resolve_across_includes(tmp_path) -> None:
    write(tmp_path, "common/locks.uapi", 'api "a" version "1"\nlock vm_lock : vm\n')
    root = write(tmp_path, "arm.uapi", 'include "common/locks.uapi"\nregister R {\n  lock vm_lock\n}\n')
    report = check_files(root)
    assert codes(report) == set()
    assert list(report.files) == sorted([str(root), str(tmp_path / "common/locks.uapi")])


def test_include_is_relative_to_the_including_file(tmp_path) -> None:
    write(tmp_path, "a/b/leaf.uapi", "lock deep : vm\n")
    write(tmp_path, "a/mid.uapi", 'include "b/leaf.uapi"\n')
    root = write(tmp_path, "root.uapi", 'include "a/mid.uapi"\nregister R {\n  lock deep\n}\n')
    assert codes(check_files(root)) == set()


def test_an_included_file_is_not_checked_again_as_a_root(tmp_path) -> None:
    write(tmp_path, "common.uapi", "lock vm_lock : vm\nlock vm_lock : vm\n")
    write(tmp_path, "a.uapi", 'include "common.uapi"\n')
    write(tmp_path, "b.uapi", 'include "common.uapi"\n')
    report = check_files(tmp_path)
    assert [f.code for f in report.findings] == ["E103"]  # once, though two roots include it


def test_missing_include_is_e102_at_the_path(tmp_path) -> None:
    root = write(tmp_path, "root.uapi", 'lock a : vm\ninclude "nope.uapi"\n')
    assert at(check_files(root).findings, "E102") == [(2, 9)]


def test_include_leaving_the_root_is_e109(tmp_path) -> None:
    write(tmp_path, "outside.uapi", "lock a : vm\n")
    root = write(tmp_path, "spec/root.uapi", 'include "../outside.uapi"\n')
    assert at(check_files(tmp_path / "spec").findings, "E109") == [(1, 9)]
    assert "leaves the spec root" in check_files(root).findings[0].message


def test_absolute_include_is_e109(tmp_path) -> None:
    target = write(tmp_path, "t.uapi", "lock a : vm\n")
    root = write(tmp_path, "root.uapi", f'include "{target}"\n')
    assert codes(check_files(root)) == {"E109"}


def test_symlink_out_of_the_root_is_e109(tmp_path) -> None:
    secret = write(tmp_path, "secret/x.uapi", "lock a : vm\n")
    spec = tmp_path / "spec"
    spec.mkdir()
    os.symlink(secret, spec / "link.uapi")
    write(tmp_path, "spec/root.uapi", 'include "link.uapi"\n')
    report = check_files(spec / "root.uapi")
    assert codes(report) == {"E109"}


def test_include_cycle_is_e109(tmp_path) -> None:
    write(tmp_path, "a.uapi", 'include "b.uapi"\n')
    write(tmp_path, "b.uapi", 'include "a.uapi"\n')
    report = check_files(tmp_path / "a.uapi")
    [finding] = report.findings
    assert finding.code == "E109" and "include cycle" in finding.message
    assert finding.span.path.endswith("b.uapi")


def test_diamond_includes_are_not_a_cycle(tmp_path) -> None:
    write(tmp_path, "base.uapi", "lock l : vm\n")
    write(tmp_path, "left.uapi", 'include "base.uapi"\n')
    write(tmp_path, "right.uapi", 'include "base.uapi"\n')
    root = write(tmp_path, "top.uapi", 'include "left.uapi"\ninclude "right.uapi"\n')
    assert codes(check_files(root)) == set()


def test_undefined_names_are_not_reported_when_an_included_file_does_not_parse(tmp_path) -> None:
    write(tmp_path, "broken.uapi", "lock vm_lock : vmm\n")
    root = write(tmp_path, "root.uapi", 'include "broken.uapi"\nregister R {\n  lock vm_lock\n}\n')
    assert codes(check_files(root)) == {"E101"}
