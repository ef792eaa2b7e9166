"""The console at /console (issue 15): the 营商办 administrator's, the departments' and the cadres' pages.

Importing the page modules registers their routes on the one `console` blueprint.
"""
from services.survey.console import (  # noqa: F401  (routes)
    auth,
    cadre,
    demands,
    enterprises,
    figures,
    integrity,
    keys,
    releases,
    responses,
    surveys,
)
from services.survey.console.web import page

__all__ = ["page"]
