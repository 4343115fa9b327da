"""K: the running kernel contradicts the spec (`conform`); each example is asked of this
machine's KVM, and skipped with the reason where there is none."""

from __future__ import annotations

import pytest

from tests.rules._examples import assert_examples, rules_in


@pytest.mark.parametrize("rule", rules_in("kernel"), ids=lambda r: r.code)
def test_examples(rule) -> None:
    assert_examples(rule)
