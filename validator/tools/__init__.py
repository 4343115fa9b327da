"""Authoring tools: the formatter and the language server."""
