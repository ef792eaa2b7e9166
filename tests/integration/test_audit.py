"""The audit log (审计日志, issue 16) through the real MongoDB and RabbitMQ: every act it covers leaves one entry,
written with the act; the admin reads it (filters, paging, .xlsx); nothing can change or delete an entry."""
import ast
import io
import pathlib
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from services.survey.exclusions import use_cases as exclusions
from shared.domain import period_of, utcnow
from tests.api import FlaskApi, ok, setup_survey

PERIOD = period_of(utcnow())
QUESTIONS = [{"id": "q1", "type": "rating5", "text": "您对市场监管局的服务是否满意？", "department": "market",
              "required": True}]
ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def county(config, survey_app, worker):
    survey, admin = FlaskApi(survey_app), config.admin_key
    _, tokens, ents = setup_survey(survey, admin, QUESTIONS, departments=("market",), period=PERIOD)
    return {"app": survey_app, "survey": survey, "admin": admin, "ents": ents, "tokens": tokens,
            "store": survey_app.extensions["manyi"].store, "services": survey_app.extensions["manyi"]}


def entries(c, query=""):
    return ok(c["survey"]("GET", f"/api/v1/audit{query}", c["admin"]), 200)


def test_each_act_leaves_one_entry_with_who_what_when_and_why(county):
    c, survey, admin = county, county["survey"], county["admin"]
    before = utcnow()
    market = ok(survey("POST", "/api/v1/keys", admin, {"role": "department", "name": "市场监管局",
                                                        "department": "market"}), 201)
    cadre = ok(survey("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "张干部"}), 201)
    assert survey("DELETE", f"/api/v1/keys/{cadre['id']}", admin).status == 204
    assert survey("DELETE", f"/api/v1/keys/{cadre['id']}", admin).status == 204  # again: no second entry
    ok(survey("POST", f"/api/v1/periods/{PERIOD}/release", admin), 202)
    # a visit's demand, assigned and called back
    visit = ok(survey("POST", "/api/v1/visits", admin, {
        "enterprise": c["ents"][0]["code"], "visited_at": utcnow().isoformat(), "ratings": [],
        "demands": [{"department": "market", "category": "融资", "text": "贷款难"}]}), 202)
    demand_id = visit["demand_ids"][0]
    ok(survey("POST", f"/api/v1/demands/{demand_id}/assign", admin, {"department": "market"}), 200)
    ok(survey("POST", f"/api/v1/demands/{demand_id}/resolve", market["key"], {"resolution": "已放贷"}), 200)
    ok(survey("POST", f"/api/v1/demands/{demand_id}/callback", admin, {"level": 4, "comment": "满意"}), 200)
    # an exclusion and its restoration (the use case behind POST/DELETE /api/v1/exclusions)
    response_id = ok(survey("POST", "/api/v1/responses", None, {"token": c["tokens"][c["ents"][1]["code"]],
                                                               "answers": {"q1": 3}}), 202)["response_id"]
    admin_key = {"_id": "env-admin", "role": "admin", "name": "营商办管理员"}
    excluded = exclusions.exclude(c["services"], f"response:{response_id}", "同一地址批量提交", admin_key)
    exclusions.restore(c["services"], excluded["_id"], "核实为正常答卷", admin_key)
    # an appeal filed and decided
    response_2 = ok(survey("POST", "/api/v1/responses", None, {"token": c["tokens"][c["ents"][2]["code"]],
                                                              "answers": {"q1": 1}}), 202)["response_id"]
    bad = c["store"].demands.find_one({"source.id": response_2})
    appeal = ok(survey("POST", "/api/v1/appeals", market["key"], {"demand": bad["_id"], "reason": "误评"}), 201)
    ok(survey("POST", f"/api/v1/appeals/{appeal['id']}/decide", admin, {"decision": "rejected", "note": "证据不足"}), 200)

    log = entries(c, "?per_page=100")
    got = sorted((e["action"], e["target"]) for e in log["entries"])
    assert got == sorted([
        ("key.create", f"key:{market['id']}"), ("key.create", f"key:{cadre['id']}"),
        ("key.revoke", f"key:{cadre['id']}"), ("period.release", f"period:{PERIOD}"),
        ("demand.assign", f"demand:{demand_id}"), ("demand.callback", f"demand:{demand_id}"),
        ("exclusion.create", f"response:{response_id}"), ("exclusion.restore", f"response:{response_id}"),
        ("appeal.file", f"appeal:{appeal['id']}"), ("appeal.decide", f"appeal:{appeal['id']}")])
    assert log["total"] == 10
    by = {(e["action"], e["target"]): e for e in log["entries"]}
    filed = by[("appeal.file", f"appeal:{appeal['id']}")]
    assert filed["actor"]["name"] == "市场监管局" and filed["actor"]["role"] == "department"
    assert filed["actor"]["key"] == market["id"] and filed["why"] == "误评"
    assert by[("appeal.decide", f"appeal:{appeal['id']}")]["why"] == "证据不足"
    assert by[("exclusion.restore", f"response:{response_id}")]["why"] == "核实为正常答卷"
    assert by[("demand.callback", f"demand:{demand_id}")]["details"]["level"] == 4
    assert by[("key.create", f"key:{cadre['id']}")]["details"]["name"] == "张干部"
    assert all(before <= _at(e) <= utcnow() for e in log["entries"])
    assert market["key"] not in repr(log) and cadre["key"] not in repr(log)  # never the key itself


def _at(entry):
    return datetime.fromisoformat(entry["at"])


def test_the_list_filters_and_pages_and_only_an_admin_reads_it(county):
    c, survey, admin = county, county["survey"], county["admin"]
    made = [ok(survey("POST", "/api/v1/keys", admin, {"role": "cadre", "name": f"干部{i}"}), 201) for i in range(5)]
    survey("DELETE", f"/api/v1/keys/{made[0]['id']}", admin)
    assert entries(c, "?action=key.revoke")["total"] == 1
    assert entries(c, f"?target=key:{made[3]['id']}")["entries"][0]["action"] == "key.create"
    assert entries(c, "?actor=env-admin")["total"] == 6 and entries(c, "?actor=nobody")["total"] == 0
    page = c["survey"]("GET", "/api/v1/audit?per_page=2&page=2", admin)
    assert page.status == 200 and len(page.json["entries"]) == 2 and page.json["total"] == 6
    assert 'rel="next"' in page.headers["Link"]
    newest_first = [e["target"] for e in entries(c)["entries"]]
    assert newest_first[0] == f"key:{made[0]['id']}"  # the revocation came last
    later = (utcnow() + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert entries(c, f"?from={later}")["total"] == 0 and entries(c, f"?to={later}")["total"] == 6
    assert c["survey"]("GET", "/api/v1/audit?action=nope", admin).status == 400
    dept = ok(survey("POST", "/api/v1/keys", admin, {"role": "department", "name": "部门", "department": "market"}),
              201)["key"]
    assert c["survey"]("GET", "/api/v1/audit", dept).status == 403
    assert c["survey"]("GET", "/api/v1/audit.xlsx", dept).status == 403


def test_the_export_lists_every_entry_with_formulas_neutralised(county):
    c, survey, admin = county, county["survey"], county["admin"]
    market = ok(survey("POST", "/api/v1/keys", admin, {"role": "department", "name": "=市场监管局",
                                                        "department": "market"}), 201)
    response_id = ok(survey("POST", "/api/v1/responses", None, {"token": c["tokens"][c["ents"][0]["code"]],
                                                               "answers": {"q1": 1}}), 202)["response_id"]
    bad = c["store"].demands.find_one({"source.id": response_id})
    reason = '=HYPERLINK("http://evil.example","申诉")'
    ok(survey("POST", "/api/v1/appeals", market["key"], {"demand": bad["_id"], "reason": reason}), 201)
    reply = c["survey"]("GET", "/api/v1/audit.xlsx", admin)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(reply.raw)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("时间", "操作", "对象") and len(rows) == 4
    by_action = {r[1]: r for r in rows[2:]}
    assert set(by_action) == {"创建密钥", "提出申诉"}
    assert by_action["提出申诉"][3] == "'=市场监管局" and by_action["提出申诉"][6] == "'" + reason
    assert all(not str(v).startswith("=") for r in rows for v in r if v is not None)
    only = list(load_workbook(io.BytesIO(c["survey"]("GET", "/api/v1/audit.xlsx?action=key.revoke", admin).raw))
                .active.iter_rows(values_only=True))
    assert len(only) == 2


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
def test_no_endpoint_edits_or_deletes_an_entry(county, method):
    c = county
    ok(c["survey"]("POST", "/api/v1/keys", c["admin"], {"role": "cadre", "name": "干部"}), 201)
    (entry,) = entries(c)["entries"]
    for path in ("/api/v1/audit", f"/api/v1/audit/{entry['id']}", "/api/v1/audit.xlsx"):
        reply = c["survey"](method, path, c["admin"], {"why": "改掉"})
        assert reply.status in (404, 405), (method, path, reply)
    assert c["survey"](method, "/api/v1/audit", c["admin"], {}).status == 405
    stored = c["store"].audit.find_one({"_id": entry["id"]})
    assert stored["why"] is None and c["store"].audit.count_documents({}) == 1
    # and no route of the app accepts a write on an audit path
    for rule in c["app"].url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_the_code_only_ever_appends_to_the_audit_collection():
    """Every write to `audit` in the product is `uow.add("audit", …)` (records.record): no update, replace or
    delete names the collection, and the store has no method that writes."""
    offenders = []
    for path in (ROOT / "services").rglob("*.py"):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name, args = node.func.attr, node.args
                names_audit = any(isinstance(a, ast.Constant) and a.value == "audit" for a in args[:1])
                on_audit = "audit" in ast.unparse(node.func.value)
                writes = name.startswith(("update", "replace", "delete", "find_one_and", "bulk_write", "drop",
                                          "insert", "remove"))
                if (names_audit and name != "add") or (on_audit and writes):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert offenders == []


def test_an_act_and_its_entry_are_written_together_or_not_at_all(county, monkeypatch):
    """The entry rides in the act's unit of work: when the entry cannot be written, the act is not either."""
    c, survey, admin = county, county["survey"], county["admin"]
    c["store"].audit.insert_one({"_id": "taken", "action": "key.create"})
    monkeypatch.setattr("services.survey.audit.records.uuid.uuid4", lambda: type("U", (), {"hex": "taken"})())
    refused = survey("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "不该存在的密钥"})
    assert refused.status == 409
    assert c["store"].keys.count_documents({"name": "不该存在的密钥"}) == 0
    release = survey("POST", f"/api/v1/periods/{PERIOD}/release", admin)
    assert release.status == 409 and c["store"].releases.count_documents({}) == 0
    assert c["store"].outbox.count_documents({"routing_key": "period.released"}) == 0
