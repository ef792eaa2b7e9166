"""Departments (责任单位)."""
