"""C: compatibility — reset, reserved bits, enumeration and capabilities."""

from __future__ import annotations

import pytest

from tests.conftest import findings
from tests.rules._examples import assert_examples, rules_in


@pytest.mark.parametrize("rule", rules_in("compat"), ids=lambda r: r.code)
def test_examples(rule) -> None:
    assert_examples(rule)


def test_c501_names_the_dropped_bits(tmp_path) -> None:
    text = 'api "a" version "2.0"\nregister B {\n  width 64\n  reset 0b10\n  reserved reject EINVAL\n'
    text += '  bits {\n    0 OLD since "1.0"\n    1 KEPT since "1.0"\n    2 NEW since "2.0"\n  }\n  since "2.0"\n}\n'
    [c501] = [f for f in findings(text, tmp_path) if f.code == "C501"]
    assert "OLD (bit 0, since 1.0)" in c501.message and "KEPT" not in c501.message and "NEW" not in c501.message
