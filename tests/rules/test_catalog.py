"""The catalog as a whole: one example folder per rule, and one test file per rule module."""

from __future__ import annotations

from pathlib import Path

from tests.rules._examples import EXAMPLES, module_of
from validator.rules import CATALOG

HERE = Path(__file__).resolve().parent


def test_every_rule_has_an_example_folder_and_no_folder_is_orphaned() -> None:
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    assert folders == {f"{r.code}-{r.name}" for r in CATALOG}


def test_every_rule_module_has_its_test_file_which_runs_its_examples() -> None:
    for module in sorted({module_of(r) for r in CATALOG}):
        test_file = HERE / f"test_{module}.py"
        assert test_file.is_file(), f"no tests/rules/test_{module}.py"
        assert f'rules_in("{module}")' in test_file.read_text(), test_file


def test_each_code_is_one_family_and_each_family_one_module() -> None:
    modules: dict[str, set[str]] = {}
    for rule in CATALOG:
        modules.setdefault(rule.family, set()).add(module_of(rule))
    # D803 judges `# todo:` comments: a directive, with D801/D802.
    assert all(len(found) == 1 for found in modules.values()), modules
