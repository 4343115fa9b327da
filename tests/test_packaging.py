"""A non-editable install carries grammar/, templates/ and spec/ and works outside the tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from tests.conftest import ROOT

pytest.importorskip("hatchling")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [built] = out.glob("uapi_validator-*.whl")
    return built


def test_wheel_carries_the_data(wheel) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "validator/_data/grammar/uapi.lark" in names
    assert "validator/_data/templates/check.txt.j2" in names
    assert "validator/_data/spec/kvm/arm64/firmware.uapi" in names
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)


def test_installed_tool_checks_the_bundled_spec_from_anywhere(wheel, tmp_path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); import validator; "
        "assert validator.__file__.startswith(sys.argv[1]), validator.__file__; "
        "from validator.cli import main; sys.exit(main(['check', '--color', 'never']))"
    )
    result = subprocess.run(
        [sys.executable, "-P", "-c", program, str(target)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # the bundled scenarios' X701/X702
    assert "_data/spec/kvm/arm64/firmware.uapi" in result.stdout
    assert "warning[S202 serialized-restore]" in result.stdout
