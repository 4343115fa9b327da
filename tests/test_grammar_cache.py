"""The analysed grammar kept in the user's cache directory: used when it is safe, rebuilt when
it is damaged, never required (validator/frontend/grammar.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from validator.frontend.grammar import NO_CACHE_VARIABLE, build_lark_parser, cache_file, grammar_text

SOURCE = 'api "a" version "1"\nregister R {\n  id 5\n  scope vm\n}\n'


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(NO_CACHE_VARIABLE, raising=False)
    return tmp_path


def _parses() -> bool:
    tree = build_lark_parser().parse(SOURCE)  # no transformer: a lark tree
    return tree.data == "start" and len(tree.children) >= 2


def _cached(home: Path) -> list[Path]:
    return sorted((home / "uapi-validator").glob("grammar-*.lark-cache"))


def test_the_tables_are_kept_and_read_back(cache_home: Path) -> None:
    assert _parses()
    [kept] = _cached(cache_home)
    written = kept.stat().st_mtime_ns
    assert _parses()
    assert kept.stat().st_mtime_ns == written  # read, not written again
    assert oct((cache_home / "uapi-validator").stat().st_mode & 0o777) == "0o700"


@pytest.mark.parametrize("keep_header", [False, True], ids=["foreign", "truncated"])
def test_a_damaged_cache_file_is_rebuilt_quietly(
    cache_home: Path, keep_header: bool, capfd: pytest.CaptureFixture[str]
) -> None:
    assert _parses()
    [kept] = _cached(cache_home)
    good = kept.read_bytes()
    damaged = (good.split(b"\n", 1)[0] + b"\n" if keep_header else b"not a cache file\n") + b"\x80\x04garbage"
    kept.write_bytes(damaged)
    assert _parses()
    rebuilt = kept.read_bytes()
    assert rebuilt != damaged and rebuilt.split(b"\n", 1)[0] == good.split(b"\n", 1)[0]
    assert capfd.readouterr() == ("", "")


def test_a_file_others_can_write_is_not_read(cache_home: Path) -> None:
    assert _parses()
    [kept] = _cached(cache_home)
    kept.chmod(0o666)
    assert cache_file(grammar_text(), "LineScanner") is False
    assert _parses()


def test_a_folder_others_can_write_is_not_used(cache_home: Path) -> None:
    folder = cache_home / "uapi-validator"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    assert cache_file(grammar_text(), "LineScanner") is False
    assert _parses()
    assert _cached(cache_home) == []


def test_no_cache_when_asked_or_when_the_folder_cannot_be_made(
    cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    assert cache_file(grammar_text(), "LineScanner") is False
    assert _parses()
    assert _cached(cache_home) == []
    monkeypatch.delenv(NO_CACHE_VARIABLE)
    blocker = cache_home / "file"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert cache_file(grammar_text(), "LineScanner") is False
    assert _parses()


def test_each_scanner_has_its_own_tables(cache_home: Path) -> None:
    assert cache_file(grammar_text(), "LineScanner") != cache_file(grammar_text(), "WordScanner")
    assert os.path.dirname(str(cache_file(grammar_text(), "LineScanner"))) == str(cache_home / "uapi-validator")


def test_runs_started_together_on_an_empty_cache_agree(cache_home: Path) -> None:
    # pre-commit starts several runs at once: one builds and writes the tables while the
    # others wait on the cache's lock, then read what it wrote.
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home)}
    command = [sys.executable, "-m", "validator", "check", "spec/kvm", "--format", "json", "--fail-on", "never"]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0] * 4
    assert len(set(outputs)) == 1 and '"findings"' in outputs[0]
    assert len(_cached(cache_home)) == 1
    assert _parses()
