"""The cadre's page: their recent visits, and the demands from them that wait for a callback (回访)."""
from flask import g

from services.survey.console.demands import departments
from services.survey.console.web import for_roles, page, render
from services.survey.web import services

RECENT = 100


@page.get("/cadre")
@for_roles("cadre")
def cadre():
    svc = services()
    visits = svc.visits.by_key(g.key["_id"], RECENT)
    waiting = sorted(svc.demands.waiting_for_callback(svc.visits.ids_by_key(g.key["_id"])),
                     key=lambda d: d["resolved_at"])
    names = svc.enterprises.names({v["enterprise"] for v in visits} | {d["enterprise"] for d in waiting})
    return render("cadre.html", visits=visits, waiting=waiting, names=names, departments=departments())
