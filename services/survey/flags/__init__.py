"""Suspicious-rating flags (issue 16): detectors, the scheduled scan, the admin list."""
