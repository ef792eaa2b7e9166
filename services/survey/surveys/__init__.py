"""Surveys: definitions, versions, the form rules and XLSForm import."""
