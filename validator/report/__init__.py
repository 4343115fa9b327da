"""Presentation: every output format, rendered through templates, and the one writer."""
