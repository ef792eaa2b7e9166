"""Webhook subscriptions on the survey service (issue 17); the sending is services/delivery."""
