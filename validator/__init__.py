"""uapi-validator: a design checker for Linux kernel userspace APIs (KVM first)."""

from __future__ import annotations

__version__ = "0.1.0"
TOOL_NAME = "uapi-validator"
