"""Chinese names of segment attributes and their values, for the report and the dashboard (one copy in shared)."""
from shared.labels import ATTRIBUTE_NAMES, VALUE_NAMES

__all__ = ["ATTRIBUTE_NAMES", "VALUE_NAMES"]
