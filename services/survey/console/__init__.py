"""The console at /console (issue 15): the 营商办 administrator's, the departments' and the cadres' pages.

Importing the page modules registers their routes on the one `console` blueprint.
"""
from services.survey.console import auth, cadre, demands, enterprises, keys, releases, surveys  # noqa: F401  (routes)
from services.survey.console.web import page

__all__ = ["page"]
