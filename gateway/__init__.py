"""The gateway: read-only indices for portals and leaders (DESIGN §6)."""
from gateway.app import create_app

__all__ = ["create_app"]
