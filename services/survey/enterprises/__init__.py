"""Enterprises (企业): the register and its Excel/CSV import."""
