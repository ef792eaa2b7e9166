"""One blueprint per resource of the survey service."""
from flask import current_app


def services():
    return current_app.extensions["manyi"]
