"""API keys: creating them (checking them is shared.keys)."""
