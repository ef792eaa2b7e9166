"""Fault tests start the real processes and kill things; they are marked `faults` (`pytest -m faults`)."""
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
