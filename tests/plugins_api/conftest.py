"""Fixtures shared with the plugin host's own tests."""

from tests.core.test_plugins import site  # noqa: F401  (a fixture: a temporary site folder)
