"""Review documents, design comparison and the catalog: content, escaping, determinism."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import EXAMPLES, ROOT, needs_examples, run_cli, write

HOSTILE = """api "evil<b>" version "1"
lock vm_lock : vm "<img src=x onerror=alert(1)>"
interface one_reg : vcpu {
  get G
  set S
  list L
}
register script {
  scope    vm
  via      one_reg
  lock     vm_lock
  migrate  yes
  uniform  last_wins
  doc      "<script>alert('doc')</script> & \\"quotes\\""
}
scenario s : restore {
  vcpus 1, 4
}
"""

ALL_SPECS = sorted((ROOT / "spec").rglob("*.uapi"))
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.uapi")) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("path", [*ALL_SPECS, *EXAMPLE_FILES], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_review_lists_exactly_the_findings_of_check(path) -> None:
    """Each spec and example: the review's finding headings are check's unsuppressed findings,
    code and line, one for one (the renderings themselves are golden files, test_golden.py)."""
    review = run_cli("review", str(path), "--format", "markdown")
    checked = json.loads(run_cli("check", str(path), "--format", "json").stdout)["findings"]
    headings = re.findall(r"^#### ([A-Z]\d{3}) [a-z0-9-]+ — `[^`]*:(\d+)`", review.stdout, re.M)
    expected = [(f["code"], str(f["line"])) for f in checked if "suppressed" not in f]
    assert sorted(headings) == sorted(expected)
    assert review.returncode == (1 if any(f["severity"] == "error" for f in checked if "suppressed" not in f) else 0)


@needs_examples
def test_review_sections_in_order() -> None:
    text = run_cli("review", str(EXAMPLES / "vcpu-features-asymmetric.uapi"), "--format", "markdown").stdout
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Under review",
        "## Verdict",
        "## Changes against the baseline",
        "## Findings",
        "## Reviewer checklist",
    ]
    assert "**FAIL**" in text
    assert "- `feature KVM_ARM_VCPU_PMU_V3: uniform enforced EINVAL as implementation -> none`" in text
    assert "#### A302 asymmetry-without-opt-in" in text
    assert "- [ ] Justify or revert the ABI breaks in: feature KVM_ARM_VCPU_PMU_V3" in text


@needs_examples
def test_review_quotes_lines_explains_and_fixes() -> None:
    text = run_cli("review", str(EXAMPLES / "hypercall-bitmaps.uapi"), "--format", "markdown").stdout
    assert "  15 | register KVM_REG_ARM_STD_BMAP {" in text
    assert "**Consequence for VMMs:** Writes under one VM-wide lock cannot run in parallel" in text
    assert "**Suggested fix:** reach it through the VM fd" in text
    assert "| 512 | 3073 | 1536 | 1536 | 4.61 ms |  |" in text


def test_suppressed_findings_are_listed_with_their_reason(tmp_path) -> None:
    text = HOSTILE.replace("register script {", "register script {  # allow: S201 -- per-VM by design")
    path = write(tmp_path, "s.uapi", text)
    review = run_cli("review", str(path), "--format", "markdown").stdout
    assert "## Suppressed findings" in review and "*reason:* per-VM by design" in review


def test_html_escapes_every_value_from_the_spec(tmp_path) -> None:
    path = write(tmp_path, "<i>name</i>.uapi", HOSTILE)
    html = run_cli("review", str(path), "--format", "html").stdout
    assert "<script>" not in html and "<img" not in html and "<i>name" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;doc&#39;)&lt;/script&gt; &amp; &#34;quotes&#34;" in html
    assert "&lt;i&gt;name&lt;/i&gt;.uapi" in html and "evil&lt;b&gt;" in html
    assert html.count("<script") == 0 and "javascript:" not in html


@needs_examples
@pytest.mark.parametrize(
    "command",
    [
        ("review", "hypercall-bitmaps.uapi", "--format", "html"),
        ("review", "vcpu-features-asymmetric.uapi", "--format", "email"),
        ("compare", "hypercall-bitmaps.uapi", "hypercall-bitmaps-vm-fd.uapi", "--format", "markdown"),
    ],
)
def test_documents_are_byte_identical_across_runs_and_hash_seeds(command) -> None:
    args = [str(EXAMPLES / a) if a.endswith(".uapi") else a for a in command]
    outputs = {run_cli(*args, env={"PYTHONHASHSEED": seed}).stdout for seed in ("0", "1", "12345")}
    assert len(outputs) == 1
    assert not re.search(r"20\d\d-\d\d-\d\d", outputs.pop())  # no date unless --date


def test_date_only_when_asked(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HOSTILE)
    assert "2026-11-25" in run_cli("review", str(path), "--date", "2026-11-25").stdout


@needs_examples
def test_email_is_plain_text_wrapped_at_72_with_quoted_lines() -> None:
    text = run_cli("review", str(EXAMPLES / "hypercall-bitmaps.uapi"), "--format", "email").stdout
    lines = text.splitlines()
    assert all(len(line) <= 72 for line in lines if not line.startswith("> "))
    assert "> register KVM_REG_ARM_STD_BMAP {          # expect: S201, S202, C503" in lines
    assert not re.search(r"\*\*|```|^#|`", text, re.MULTILINE)
    assert lines[-1].startswith("Summary: 1 error, 6 warnings, 3 info in 1 file; fail.")


def test_output_file_is_atomic_and_missing_folder_is_exit_2(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HOSTILE)
    out = tmp_path / "review.html"
    out.write_text("previous")
    bad = run_cli("review", str(path), "--template-dir", str(tmp_path / "none"), "-o", str(out))
    assert bad.returncode == 2 and out.read_text() == "previous"
    assert run_cli("review", str(path), "-o", str(tmp_path / "no" / "r.md")).returncode == 2
    assert run_cli("review", str(path), "--format", "html", "-o", str(out)).returncode in (0, 1)
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".uapi-validator-")] == []


def test_template_dir_overrides_one_template(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HOSTILE)
    custom = tmp_path / "templates"
    write(custom, "review.md.j2", "Our review of {{ apis[0].name }}: {{ 'pass' if verdict.passed else 'fail' }}\n")
    assert (
        run_cli("review", str(path), "--template-dir", str(custom)).stdout == "Our review of evil\\<b\\>: pass\n"
    )  # Markdown-escaped
    # Templates not overridden still come from the built-in set.
    assert run_cli("review", str(path), "--template-dir", str(custom), "--format", "email").stdout.startswith(
        "Review of"
    )


@needs_examples
def test_compare_shows_the_trade_off_of_the_three_bitmap_designs() -> None:
    designs = [str(EXAMPLES / f"hypercall-bitmaps{s}.uapi") for s in ("", "-vm-fd", "-write-once")]
    text = run_cli("compare", *designs).stdout
    assert (
        "- hypercall-bitmaps.uapi: restore serialization grows linearly with the vCPU count (1536 serialized writes at 512 vCPUs)"
        in text
    )
    assert (
        "- hypercall-bitmaps-vm-fd.uapi: serialized writes stay constant (1 at 512 vCPUs); VMMs must learn 1 new interface (fw_attr)"
        in text
    )
    assert "1 register carries a write-once hint that only hint-aware VMMs use" in text
    row = next(line for line in text.splitlines() if line.startswith("at 512 vCPUs"))
    assert row.split()[3:] == [
        "1536",
        "ser.",
        "/",
        "4.61",
        "ms",
        "1",
        "ser.",
        "/",
        "3",
        "us",
        "513",
        "ser.",
        "/",
        "1.54",
        "ms",
    ]
    for fmt in ("markdown", "html"):
        assert run_cli("compare", *designs, "--format", fmt).returncode == 0


def test_compare_needs_two_designs(tmp_path) -> None:
    path = write(tmp_path, "s.uapi", HOSTILE)
    assert run_cli("compare", str(path)).returncode == 2


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_catalog_renders_every_rule_from_the_registry(fmt) -> None:
    from validator.rules import CATALOG

    text = run_cli("catalog", "--format", fmt).stdout
    assert all(rule.code in text and rule.name in text for rule in CATALOG)
    assert text.count("Use instead") >= len([r for r in CATALOG if r.implemented])


# -- the HTML in a real browser ---------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str, profile) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@needs_examples
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_review_renders_in_headless_chromium(tmp_path) -> None:
    page = tmp_path / "review.html"
    run_cli("review", str(EXAMPLES / "hypercall-bitmaps.uapi"), "--format", "html", "-o", str(page))
    shot = tmp_path / "review.png"
    taken = chromium("--window-size=1000,2600", f"--screenshot={shot}", page.as_uri(), profile=tmp_path / "p1")
    assert shot.is_file() and shot.stat().st_size > 10_000, taken.stderr[-2000:]
    dom = chromium("--dump-dom", page.as_uri(), profile=tmp_path / "p2")
    charts = re.findall(r'<figure class="chart" data-chart="(\w+)">(.*?)</figure>', dom.stdout, re.S)
    assert [key for key, _ in charts] == ["serialized", "blackout_ns"]
    assert [len(re.findall(r'<circle class="point"', body)) for _, body in charts] == [3, 3]
    assert 'data-vcpus="512" data-value="1536"' in charts[0][1]
    logs = taken.stderr + dom.stderr
    assert "CONSOLE" not in logs and "Uncaught" not in logs
    if os.environ.get("UAPI_VALIDATOR_KEEP_SCREENSHOT"):  # to look at it by hand
        shutil.copy(shot, os.environ["UAPI_VALIDATOR_KEEP_SCREENSHOT"])


DENSE = """api "kvm/arm64" version "6.1"
lock config_lock : vm
interface one_reg : vcpu {
  get  KVM_GET_ONE_REG
  set  KVM_SET_ONE_REG
  list KVM_GET_REG_LIST
}
register KVM_REG_ARM_STD_BMAP {
  id       0x6030_0000_0016_0000
  width    64
  scope    vm
  via      one_reg
  lock     config_lock
  migrate  yes
  uniform  last_wins
  writable always
}
scenario dense : restore {
  vcpus  1, 2, 3, 4, 6, 8, 16, 64, 100, 128, 512
  budget serialized 64
}
"""
# Measures every label of the vCPU axis as the browser laid it out, and writes what overlaps.
_MEASURE = """<script>
window.addEventListener("load", () => {
  const found = [];
  for (const svg of document.querySelectorAll("figure.chart svg")) {
    const boxes = [...svg.querySelectorAll("text.tick")].filter(t => t.getAttribute("text-anchor") === "middle")
      .map(t => t.getBBox());
    for (let i = 1; i < boxes.length; i++)
      if (boxes[i].x < boxes[i - 1].x + boxes[i - 1].width) found.push(i);
  }
  document.body.setAttribute("data-overlaps", JSON.stringify(found));
  document.body.setAttribute("data-labels", String(document.querySelectorAll("figure.chart text.tick").length));
});
</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_chart_axis_labels_never_overlap_and_the_budget_and_axis_titles_are_drawn(tmp_path) -> None:
    spec = write(tmp_path, "dense.uapi", DENSE)
    page = tmp_path / "review.html"
    run_cli("review", str(spec), "--format", "html", "-o", str(page))
    html = page.read_text()
    assert "1 vCPU:" in html and "1 vCPUs" not in html  # the tooltip of one vCPU
    assert html.count('class="budget"') == 1 and "budget 64" in html  # serialized: a budget; blackout: none
    assert "vCPUs (log scale)" in html and ">writes</text>" in html and ">blackout (time)</text>" in html
    page.write_text(html.replace("</body>", _MEASURE + "</body>"))
    dom = chromium("--virtual-time-budget=3000", "--dump-dom", page.as_uri(), profile=tmp_path / "p")
    overlaps = re.search(r'data-overlaps="([^"]*)"', dom.stdout)
    assert overlaps is not None, dom.stderr[-2000:]
    assert json.loads(overlaps.group(1).replace("&quot;", '"')) == []
    # Labels were left out to get there: 11 vCPU counts, fewer labels under each axis.
    drawn = re.findall(r'<text class="tick" x="[\d.]+" y="\d+" text-anchor="middle">(\d+)</text>', html)
    assert 4 <= len(drawn) // 2 < 11 and drawn[:1] == ["1"]


@needs_examples
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_printed_review_keeps_each_group_heading_with_its_first_finding(tmp_path) -> None:
    pypdf = pytest.importorskip("pypdf")
    page = tmp_path / "review.html"
    run_cli("review", str(EXAMPLES / "hypercall-bitmaps.uapi"), "--format", "html", "-o", str(page))
    pdf = tmp_path / "review.pdf"
    printed = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(), profile=tmp_path / "p")
    assert pdf.is_file(), printed.stderr[-2000:]
    pages = [p.extract_text() for p in pypdf.PdfReader(str(pdf)).pages]
    assert len(pages) > 1
    heading = re.compile(r"^(Error|Warning|Info) \(\d+\)$")
    for text in pages[:-1]:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        assert lines and not heading.match(lines[-1]), lines[-3:]
    # Every group heading is on a page with a finding of its group after it.
    for text in pages:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for index, line in enumerate(lines):
            if heading.match(line) and not line.endswith("(0)"):
                assert index < len(lines) - 1
