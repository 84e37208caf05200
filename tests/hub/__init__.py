"""Hub tests (a package, so its conftest and module names do not shadow tests/conftest.py)."""
