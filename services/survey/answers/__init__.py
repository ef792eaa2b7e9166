"""Answers: the respondent's page and POST /api/v1/responses, accepted durably with their event."""
