"""The front end: files to the resolved model (read, scan, parse, build, load, resolve)."""
