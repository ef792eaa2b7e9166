"""The survey service: keys, departments, enterprises, surveys, invitations, answers (DESIGN §3–4)."""
from services.survey.app import create_app

__all__ = ["create_app"]
