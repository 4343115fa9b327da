"""The kernel's own sources: C UAPI headers read as a compiler reads them, and the cross-check."""
