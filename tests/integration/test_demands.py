"""Visits and the demand ledger through the real RabbitMQ and MongoDB: survey app → worker → gateway."""
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from gateway.app import create_app as create_gateway
from services.survey.demands import ledger
from shared import amqp, messages
from shared.domain import period_of, utcnow
from tests.api import FlaskApi, ok
from tests.factories import enterprise
from tests.harness import poll

DEPARTMENTS = ("market", "tax")


@pytest.fixture
def county(config, survey_app, worker):
    """The survey app (Flask client), a worker thread, the gateway (Flask client), departments, one enterprise."""
    app = survey_app
    survey, admin = FlaskApi(app), config.admin_key
    for code in DEPARTMENTS:
        ok(survey("POST", "/api/v1/departments", admin, {"code": code, "name": f"县{code}局"}), 201)
    ent = enterprise()
    ok(survey("POST", "/api/v1/enterprises", admin, ent), 201)
    keys = {role: ok(survey("POST", "/api/v1/keys", admin, {"role": role, "name": role, **extra}), 201)["key"]
            for role, extra in (("cadre", {}), ("department", {"department": "market"}), ("portal", {}))}
    keys["tax"] = ok(survey("POST", "/api/v1/keys", admin, {"role": "department", "name": "税务",
                                                             "department": "tax"}), 201)["key"]
    return {"app": app, "survey": survey, "gateway": FlaskApi(create_gateway(config)), "admin": admin, "keys": keys,
            "enterprise": ent, "scores": worker}


def visit(c, ratings, demands, visited_at=None):
    body = {"enterprise": c["enterprise"]["code"], "visited_at": (visited_at or utcnow()).isoformat(),
            "ratings": ratings, "demands": demands}
    return ok(c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], body), 202)


def stats(c, period):
    reply = ok(c["gateway"]("GET", f"/api/v1/demands/stats?period={period}", c["admin"]), 200)
    return {d["code"]: d for d in reply["departments"]}


def test_a_visit_and_its_demands_reach_the_gateway_figures(county):
    c, admin, dept = county, county["admin"], county["keys"]["department"]
    period = period_of(utcnow())
    done = visit(c, [{"department": "market", "level": 4}, {"department": "tax", "level": 2, "comment": "退税慢"}],
                 [{"department": "market", "category": "融资", "text": "贷款难", "urgency": "ordinary"}])
    assert len(done["demand_ids"]) == 1 and len(done["bad_rating_demand_ids"]) == 1
    listed, bad = done["demand_ids"][0], done["bad_rating_demand_ids"][0]
    bad_demand = ok(c["survey"]("GET", f"/api/v1/demands/{bad}", admin), 200)
    assert (bad_demand["category"], bad_demand["status"], bad_demand["department"]) == ("bad_rating", "assigned", "tax")
    assert "退税慢" in bad_demand["text"]

    ok(c["survey"]("POST", f"/api/v1/demands/{listed}/assign", admin, {"department": "market"}), 200)
    ok(c["survey"]("POST", f"/api/v1/demands/{listed}/progress", dept, {"note": "已对接银行"}), 200)
    ok(c["survey"]("POST", f"/api/v1/demands/{listed}/resolve", dept, {"resolution": "已放贷"}), 200)
    closed = ok(c["survey"]("POST", f"/api/v1/demands/{listed}/callback", c["keys"]["cadre"], {"level": 5}), 200)
    assert closed["status"] == "closed" and closed["version"] == 5
    assert [h["action"] for h in closed["history"]] == ["receive", "assign", "progress", "resolve", "callback"]

    def figures():
        got = stats(c, period)
        return got if got["market"]["callback_n"] == 1 and got["tax"]["received"] == 1 else None
    got = poll(figures, what="the demand figures")
    assert got["market"] == {"code": "market", "received": 1, "assigned_within_1_day": 1, "resolved": 1,
                             "resolved_on_time": 1, "on_time_rate": 1.0, "open": 0, "overdue": 0, "callback_n": 1,
                             "callback_index": None, "suppressed": True}
    assert got["tax"]["open"] == 1 and got["tax"]["assigned_within_1_day"] == 1 and got["tax"]["resolved"] == 0
    # the visit ratings count in the department indices as channel `visit`
    index = ok(c["gateway"]("GET", f"/api/v1/departments/tax/index?period={period}", c["admin"]), 200)
    assert index["n"] == 1 and index["channels"] == {"survey": 0, "visit": 1}
    # and the gateway's store holds no enterprise identity for demands
    assert c["enterprise"]["code"] not in repr(list(c["scores"].demands.find({})))


def test_a_redelivered_or_stale_demand_update_changes_nothing(county, config):
    c, admin = county, county["admin"]
    demand_id = visit(c, [], [{"department": "market", "category": "用工", "text": "招工难"}])["demand_ids"][0]
    ok(c["survey"]("POST", f"/api/v1/demands/{demand_id}/assign", admin, {"department": "market"}), 200)
    poll(lambda: (c["scores"].demands.find_one({"_id": demand_id}) or {}).get("version") == 2, what="version 2")
    before = c["scores"].demands.find_one({"_id": demand_id})
    store = c["app"].extensions["manyi"].store
    creation = store.demands.find_one({"_id": demand_id})["message"]  # version 1, older than stored
    assignment = store.outbox.find_one({"_id": f"{demand_id}:2"})["message"]
    publisher = amqp.Publisher(config.amqp_url)
    marker = messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "zz", "name": "标记"})
    assert publisher.publish([("demand.updated", assignment), ("demand.updated", creation),
                              ("demand.updated", assignment), ("department.changed", marker)], messages.encode)
    publisher.close()
    poll(lambda: c["scores"].processed.find_one({"_id": marker["id"]}), what="the marker")
    assert c["scores"].demands.find_one({"_id": demand_id}) == before
    assert c["scores"].processed.count_documents({"_id": {"$regex": f"^{demand_id}:"}}) == 2


def test_a_department_key_reaches_only_its_own_department(county):
    c, admin, market, tax = county, county["admin"], county["keys"]["department"], county["keys"]["tax"]
    ids = visit(c, [], [{"department": "market", "category": "审批", "text": "审批慢"},
                        {"department": "tax", "category": "政策兑现", "text": "补贴未到"}])["demand_ids"]
    for i, d in zip(ids, ("market", "tax")):
        ok(c["survey"]("POST", f"/api/v1/demands/{i}/assign", admin, {"department": d}), 200)
    assert c["survey"]("GET", f"/api/v1/demands/{ids[0]}", tax).status == 403
    assert c["survey"]("GET", f"/api/v1/demands/{ids[0]}", market).status == 200  # its own, yes
    assert c["survey"]("GET", f"/api/v1/demands/{ids[1]}", market).status == 403
    assert c["survey"]("POST", f"/api/v1/demands/{ids[0]}/resolve", tax, {"resolution": "x"}).status == 403
    assert c["survey"]("POST", f"/api/v1/demands/{ids[0]}/progress", tax, {"note": "x"}).status == 403
    assert c["survey"]("GET", "/api/v1/demands?department=market", tax).status == 403
    assert c["survey"]("POST", f"/api/v1/demands/{ids[1]}/assign", tax, {"department": "tax"}).status == 403
    own = ok(c["survey"]("GET", "/api/v1/demands", tax), 200)
    assert [d["id"] for d in own["demands"]] == [ids[1]] and own["total"] == 1
    assert ok(c["survey"]("GET", "/api/v1/demands", admin), 200)["total"] == 2
    stored = c["app"].extensions["manyi"].store.demands.find_one({"_id": ids[0]})
    assert stored["status"] == "assigned" and stored["version"] == 2  # nothing changed by the refused calls


def test_illegal_steps_are_409_with_the_reason_and_change_nothing(county):
    c, admin, dept = county, county["admin"], county["keys"]["department"]
    demand_id = visit(c, [], [{"department": "market", "category": "融资", "text": "贷款难"}])["demand_ids"][0]
    reply = c["survey"]("POST", f"/api/v1/demands/{demand_id}/resolve", dept, {"resolution": "x"})
    assert reply.status == 409 and "诉求尚未交办" in reply.json["message"] and reply.json["errors"]["status"]
    assert c["survey"]("POST", f"/api/v1/demands/{demand_id}/callback", admin, {"level": 4}).status == 409
    assert c["survey"]("POST", f"/api/v1/demands/{demand_id}/callback", c["keys"]["portal"], {"level": 4}).status == 403
    assert c["survey"]("POST", "/api/v1/demands/nope/assign", admin, {"department": "market"}).status == 404
    bad = c["survey"]("POST", f"/api/v1/demands/{demand_id}/assign", admin, {"department": "nope"})
    assert bad.status == 400 and "department" in bad.json["errors"]
    assert ok(c["survey"]("GET", f"/api/v1/demands/{demand_id}", admin), 200)["version"] == 1


def test_visit_validation_names_each_bad_field(county):
    c = county
    body = {"enterprise": "91410100MA0000000X", "visited_at": (utcnow() + timedelta(days=2)).isoformat(),
            "ratings": [{"department": "nope", "level": 3}], "demands": [{"department": "market", "category": "bad_rating",
                                                                         "text": "x"}]}
    reply = c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], body)
    assert reply.status == 400 and "category" in reply.json["errors"]["demands"]["0"]
    body["demands"] = []
    reply = c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], body)
    assert reply.status == 400 and set(reply.json["errors"]) == {"enterprise", "visited_at", "ratings"}
    assert c["survey"]("POST", "/api/v1/visits", c["keys"]["department"], body).status == 403
    assert c["app"].extensions["manyi"].store.visits.count_documents({}) == 0


def test_overdue_is_pushed_once_per_demand_and_red_in_the_ledger(county, config):
    c, admin = county, county["admin"]
    ids = visit(c, [], [{"department": "market", "category": "融资", "text": "逾期的"},
                        {"department": "market", "category": "融资", "text": "未逾期"}])["demand_ids"]
    past, future = utcnow() - timedelta(hours=1), utcnow() + timedelta(days=3)
    ok(c["survey"]("POST", f"/api/v1/demands/{ids[0]}/assign", admin, {"department": "market", "deadline": past.isoformat()}), 200)
    ok(c["survey"]("POST", f"/api/v1/demands/{ids[1]}/assign", admin, {"department": "market", "deadline": future.isoformat()}), 200)
    services = c["app"].extensions["manyi"]
    assert ledger.sweep_overdue(services) == 1
    services.store.demands.update_many({}, {"$unset": {"overdue_pushed": ""}})  # as if the flag were never set
    assert ledger.sweep_overdue(services) == 0
    poll(lambda: c["scores"].processed.find_one({"_id": f"{ids[0]}:overdue"}), what="demand.overdue consumed")
    assert c["scores"].processed.count_documents({"type": "demand.overdue"}) == 1

    listed = ok(c["survey"]("GET", "/api/v1/demands?overdue=true", c["keys"]["department"]), 200)
    assert [d["id"] for d in listed["demands"]] == [ids[0]] and listed["demands"][0]["overdue"]
    by_deadline = ok(c["survey"]("GET", "/api/v1/demands?sort=-deadline&per_page=1&page=2", admin), 200)
    assert [d["id"] for d in by_deadline["demands"]] == [ids[0]] and by_deadline["total"] == 2

    sheet = c["survey"]("GET", "/api/v1/demands/ledger.xlsx", admin)
    assert sheet.status == 200
    rows = list(load_workbook(io.BytesIO(sheet.raw)).active.iter_rows())
    assert rows[0][0].value == "编号" and len(rows) == 3
    red = {r[0].value: r[0].fill.start_color.rgb.endswith("FFC7CE") for r in rows[1:]}
    assert red == {ids[0]: True, ids[1]: False}
    row = next(r for r in rows[1:] if r[0].value == ids[0])
    assert row[5].value == f"{c['enterprise']['name']}（{c['enterprise']['code']}）"
    assert "受理" in row[13].value and "交办（" in row[13].value and "县market局 时限" in row[13].value


def test_a_resent_visit_with_its_client_id_is_recorded_once(county):
    c = county
    body = {"id": "a1b2c3d4e5f60718", "enterprise": c["enterprise"]["code"], "visited_at": utcnow().isoformat(),
            "ratings": [{"department": "tax", "level": 1}], "demands": [{"department": "market", "category": "融资",
                                                                       "text": "贷款难"}]}
    first = ok(c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], body), 202)
    assert ok(c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], body), 202) == first
    other = c["survey"]("POST", "/api/v1/visits", c["keys"]["cadre"], {**body, "demands": []})
    assert other.status == 409 and "id" in other.json["errors"]
    store = c["app"].extensions["manyi"].store
    assert store.visits.count_documents({}) == 1 and store.demands.count_documents({}) == 2
    # another key's client may pick the same id: a different visit, not a clash; neither id is the client's
    by_admin = ok(c["survey"]("POST", "/api/v1/visits", c["admin"], body), 202)
    assert by_admin["visit_id"] != first["visit_id"] and body["id"] not in (first["visit_id"], by_admin["visit_id"])
