"""The cadre's mobile page `GET /visit`: record a visit (走访) on a phone, through `POST /api/v1/visits`.

The page (templates/visits/visit.html, static/visit.js and static/visit.css) is static; it talks to the
JSON API with the cadre's key. The key is typed once and kept in the phone's localStorage (the browser's
storage for this site only), so a cadre in the field is not asked again on every visit, and "退出" forgets it. Nothing else is loaded: no CDN, no third-party
script that could read the key, and every text from the server is inserted as text, never as HTML.
"""
from flask import Blueprint, render_template

page = Blueprint("visit_page", __name__)


@page.get("/visit")
def visit_page():
    """The cadre's visit page (Chinese, for phones)."""
    return render_template("visits/visit.html")
