"""Invitation tracking (pure): one line per enterprise, the status filter, response rates by hand."""
from datetime import UTC, datetime, timedelta

from services.survey.invitations.tracking import invitation_rows, matches, progress

T0 = datetime(2026, 10, 1, tzinfo=UTC)


def inv(token, code, days):
    return {"_id": token, "enterprise": code, "created_at": T0 + timedelta(days=days),
            "expires_at": T0 + timedelta(days=days + 30)}


ENTS = {"A": {"name": "甲", "township": "城关镇", "scale": "small", "ownership": "state", "capital": "domestic",
              "industry": "制造业"},
        "B": {"name": "乙", "township": "城关镇", "scale": "large", "ownership": "private", "capital": "foreign",
              "industry": "建筑业"},
        "C": {"name": "丙", "township": "石桥镇", "scale": "small", "ownership": "private", "capital": "domestic",
              "industry": "制造业"}}


def rows(opened=None, answered=None):
    invitations = [inv("a-old", "A", 0), inv("a-new", "A", 40), inv("b-used", "B", 0), inv("b-new", "B", 40),
                   inv("c", "C", 0)]
    return invitation_rows(invitations, ENTS, opened or {}, answered or {}, lambda i: f"tok-{i['_id']}",
                           lambda t: f"https://x/s/{t}")


def test_one_line_per_enterprise_the_answered_invitation_else_the_latest():
    got = {r["enterprise"]: (r["id"], r["token"], r["url"], r["status"])
           for r in rows(opened={"c": T0}, answered={"b-used": T0})}
    assert got == {"A": ("a-new", "tok-a-new", "https://x/s/tok-a-new", "sent"),
                   "B": ("b-used", "tok-b-used", "https://x/s/tok-b-used", "answered"),
                   "C": ("c", "tok-c", "https://x/s/tok-c", "opened")}


def test_status_filter():
    lines = rows(opened={"c": T0}, answered={"b-used": T0})

    def pick(wanted):
        return sorted(r["enterprise"] for r in lines if matches(r, wanted))
    assert (pick("all"), pick("unanswered"), pick("answered"), pick("opened")) == (
        ["A", "B", "C"], ["A", "C"], ["B"], ["B", "C"])


def test_rates_overall_by_township_and_segment():
    p = progress("s", rows(opened={"c": T0}, answered={"b-used": T0, "c": T0}))
    assert (p["invited"], p["opened"], p["answered"]) == (3, 2, 2) and p["response_rate"] == 2 / 3
    assert p["by_township"] == [{"value": "城关镇", "invited": 2, "opened": 1, "answered": 1, "response_rate": 0.5},
                                {"value": "石桥镇", "invited": 1, "opened": 1, "answered": 1, "response_rate": 1.0}]
    assert {s["value"]: s["response_rate"] for s in p["segments"]["ownership"]} == {"private": 1.0, "state": 0.0}
    assert progress("s", [])["response_rate"] is None
