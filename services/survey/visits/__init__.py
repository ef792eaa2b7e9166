"""Visits (万人助万企 走访): the cadre's page and POST /api/v1/visits."""
