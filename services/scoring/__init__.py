"""The scoring worker: consumes events from `scoring.events` and maintains `manyi_scores` (DESIGN §5)."""
