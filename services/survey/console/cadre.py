"""The cadre's page: their recent visits, and the demands from them that wait for a callback (回访)."""
from flask import g

from services.survey.console.demands import departments
from services.survey.console.web import for_roles, page, render, store
from shared.mongo import find_in

RECENT = 100


@page.get("/cadre")
@for_roles("cadre")
def cadre():
    visits = list(store().visits.find({"by.key": g.key["_id"]}, {"message": 0}).sort("visited_at", -1).limit(RECENT))
    mine = [v["_id"] for v in store().visits.find({"by.key": g.key["_id"]}, {"_id": 1})]
    waiting = list(store().demands.find({"source.kind": "visit", "source.id": {"$in": mine}, "status": "resolved"},
                                        {"message": 0, "history": 0}).sort("resolved_at", 1))
    codes = list({v["enterprise"] for v in visits} | {d["enterprise"] for d in waiting if d.get("enterprise")})
    names = {e["_id"]: e["name"] for e in find_in(store().enterprises, "_id", codes, {"name": 1})}
    return render("cadre.html", visits=visits, waiting=waiting, names=names, departments=departments())
