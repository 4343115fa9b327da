"""I: ioctls and the structs they copy."""

from __future__ import annotations

import pytest

from tests.rules._examples import assert_examples, rules_in


@pytest.mark.parametrize("rule", rules_in("ioctls"), ids=lambda r: r.code)
def test_examples(rule) -> None:
    assert_examples(rule)
