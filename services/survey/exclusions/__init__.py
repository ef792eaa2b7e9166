"""Exclusions (经复核剔除): ratings, whole answers or whole visits left out of every figure, and restored."""
