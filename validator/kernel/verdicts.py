"""What conform says of each claim: verified, contradicted, or not testable here and why.

Shared by the experiments that judge registers (validator.kernel.conform) and ioctl
arguments and capability deadlines (validator.kernel.arguments), and read by the K rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from validator.model.frozen import frozen
from validator.model.spans import Span

VERIFIED, CONTRADICTED, UNTESTABLE = "verified", "contradicted", "not testable here"
# The kinds of claim, each judged by one K rule.
LISTED, RESET, SCOPE, LIFECYCLE, UNIFORM, CAPABILITY, RESERVED, WIDTH = (
    "listed",
    "reset",
    "scope",
    "lifecycle",
    "uniform",
    "capability",
    "reserved",
    "width",
)
# Claims about ioctl arguments (flags' undefined bits, reserved space) and capability deadlines.
ARGUMENT, DEADLINE = "argument", "deadline"


@frozen
class Verdict:
    """What a real kernel said of one claim of the spec."""

    kind: str  # LISTED, RESET, ...
    subject: str  # register/NAME or capability/NAME
    span: Span  # the claim's attribute line
    claimed: str  # as the spec writes it
    observed: str  # what the kernel did, or why it could not be asked
    status: str  # VERIFIED, CONTRADICTED or UNTESTABLE
    errno_only: bool = False  # refused as claimed, with another errno


@frozen
class Conformance:
    """What the CONFORM-stage rules judge: every claim's verdict, and the kernel asked."""

    verdicts: tuple[Verdict, ...]
    kernel: str

    def contradicted(self, kind: str) -> Iterable[Verdict]:
        """Contradicted claims of a kind, but for those refused with another errno (K105's)."""
        return (v for v in self.verdicts if v.kind == kind and v.status == CONTRADICTED and not v.errno_only)

    def errno_contradicted(self) -> Iterable[Verdict]:
        return (v for v in self.verdicts if v.status == CONTRADICTED and v.errno_only)

    def counts(self) -> dict[str, int]:
        return {
            status: sum(v.status == status for v in self.verdicts) for status in (VERIFIED, CONTRADICTED, UNTESTABLE)
        }
