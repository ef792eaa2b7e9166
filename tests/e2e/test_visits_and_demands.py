"""End to end over HTTP: a visit, its demands through their whole life with three roles' keys, the
gateway's demand figures and the report's 诉求办理 sheet; a 差评 in a survey answer; and the cadre's
`/visit` page in a phone browser.

The expected figures are recomputed here from the ledger's own history (as the survey service returns
it), with a plain implementation of DESIGN §6, independent of shared/demand_figures.py.
"""
import io
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from services.survey.demands.rules import bad_rating_deadline
from shared.domain import period_of, utcnow
from tests.api import ok
from tests.e2e.conftest import running_system, screenshot
from tests.factories import enterprise
from tests.harness import poll

pytestmark = pytest.mark.e2e
MIN_N = 2
REPORT_COLUMNS = {"受理诉求": "received", "1日内交办": "assigned_within_1_day", "已办结": "resolved",
                  "按时办结": "resolved_on_time", "按时办结率": "on_time_rate", "未结案": "open", "超期未结案": "overdue", "回访数": "callback_n",
                  "回访满意度指数": "callback_index"}
DEPARTMENTS = {"market": "县市场监督管理局", "tax": "县税务局", "land": "县自然资源局"}


@pytest.fixture(scope="module")
def county(mongo_server):
    """The three real processes (callback index shown from 2 callbacks), departments, keys, enterprises."""
    with running_system(mongo_server, MANYI_MIN_N=str(MIN_N), MANYI_OVERDUE_SWEEP_SECONDS="1") as system:
        config, procs, survey, gateway = system
        admin = config.admin_key
        for code, name in DEPARTMENTS.items():
            ok(survey("POST", "/api/v1/departments", admin, {"code": code, "name": name}), 201)
        ents = [enterprise(name=name) for name in ("豫丰食品有限公司", "中原精密机械有限公司")]
        for ent in ents:
            ok(survey("POST", "/api/v1/enterprises", admin, ent), 201)
        keys = {"admin": admin}
        for name, role, department in (("cadre", "cadre", None), ("market", "department", "market"),
                                       ("tax", "department", "tax"), ("portal", "portal", None)):
            body = {"role": role, "name": name, **({"department": department} if department else {})}
            keys[name] = ok(survey("POST", "/api/v1/keys", admin, body), 201)["key"]
        yield {"procs": procs, "survey": survey, "gateway": gateway, "keys": keys, "enterprises": ents}


# --- an independent recomputation of the demand figures (DESIGN §6) ------------------------------------
def parse(value):
    return datetime.fromisoformat(value) if value else None


def expected_figures(demands, now, min_n):
    out = {}
    for d in demands:
        f = out.setdefault(d["department"], {"received": 0, "assigned_within_1_day": 0, "resolved": 0,
                                             "resolved_on_time": 0, "open": 0, "overdue": 0, "callbacks": []})
        received = parse(d["received_at"])
        assigns = [h for h in d["history"] if h["action"] == "assign"]
        resolves = [h for h in d["history"] if h["action"] == "resolve"]
        callbacks = [h for h in d["history"] if h["action"] == "callback"]
        f["received"] += 1
        if assigns and parse(assigns[0]["at"]) - received <= timedelta(days=1):
            f["assigned_within_1_day"] += 1
        if resolves:
            f["resolved"] += 1
            first = parse(resolves[0]["at"])
            terms = [h for h in d["history"] if h.get("deadline") and parse(h["at"]) <= first]
            f["resolved_on_time"] += first <= parse(terms[-1]["deadline"])
        if d["status"] != "closed":
            f["open"] += 1
            f["overdue"] += parse(d["deadline"]) < now if d["deadline"] else 0
        if callbacks:
            f["callbacks"].append(callbacks[-1]["level"])
    for f in out.values():
        levels = f.pop("callbacks")
        f["on_time_rate"] = f["resolved_on_time"] / f["resolved"] if f["resolved"] else None
        f["callback_n"] = len(levels)
        f["suppressed"] = len(levels) < min_n
        f["callback_index"] = None if f["suppressed"] else sum((lv - 1) * 25 for lv in levels) / len(levels)
    return out


def test_a_visit_s_demands_through_their_life_and_the_gateway_figures(county):
    s, k = county["survey"], county["keys"]
    ent = county["enterprises"][0]
    visit = ok(s("POST", "/api/v1/visits", k["cadre"], {
        "enterprise": ent["code"], "visited_at": utcnow().isoformat(),
        "ratings": [{"department": "market", "level": 5}, {"department": "tax", "level": 1, "comment": "退税太慢"}],
        "demands": [{"department": "market", "category": "融资", "text": "流动资金贷款难", "urgency": "ordinary"},
                    {"department": "tax", "category": "政策兑现", "text": "研发费用加计扣除未兑现", "urgency": "major"}]}), 202)
    on_time, late = visit["demand_ids"]
    (bad,) = visit["bad_rating_demand_ids"]

    # 交办: one with the default 7 days, one with a deadline already past (a paper ledger entered late)
    assert ok(s("POST", f"/api/v1/demands/{on_time}/assign", k["admin"], {"department": "market"}), 200)["status"] == "assigned"
    past = (utcnow() - timedelta(hours=2)).isoformat()
    ok(s("POST", f"/api/v1/demands/{late}/assign", k["admin"], {"department": "tax", "deadline": past}), 200)
    # the department keys: progress and 办结, each only on its own department's demands
    assert s("POST", f"/api/v1/demands/{on_time}/resolve", k["tax"], {"resolution": "越权"}).status == 403
    ok(s("POST", f"/api/v1/demands/{on_time}/progress", k["market"], {"note": "已对接三家银行"}), 200)
    ok(s("POST", f"/api/v1/demands/{on_time}/resolve", k["market"], {"resolution": "已发放贷款 200 万元"}), 200)
    ok(s("POST", f"/api/v1/demands/{late}/resolve", k["tax"], {"resolution": "已兑现"}), 200)
    ok(s("POST", f"/api/v1/demands/{bad}/resolve", k["tax"], {"resolution": "已简化退税流程"}), 200)
    assert s("POST", f"/api/v1/demands/{bad}/resolve", k["tax"], {"resolution": "again"}).status == 409
    # 回访: satisfied closes; a 差评 of the handling reopens
    assert ok(s("POST", f"/api/v1/demands/{on_time}/callback", k["cadre"], {"level": 4}), 200)["status"] == "closed"
    reopened = ok(s("POST", f"/api/v1/demands/{late}/callback", k["admin"], {"level": 2, "comment": "仍未到账"}), 200)
    assert reopened["status"] == "assigned" and reopened["overdue"] is False
    ok(s("POST", f"/api/v1/demands/{bad}/callback", k["cadre"], {"level": 5}), 200)

    ledger = ok(s("GET", "/api/v1/demands?per_page=500", k["admin"]), 200)["demands"]
    assert {d["id"] for d in ledger} == {on_time, late, bad}
    period = period_of(parse(ledger[0]["received_at"]))
    want = expected_figures(ledger, utcnow(), MIN_N)
    # hand values: market 1 demand, on time, closed at 4; tax: the late one (reopened at 2) and the 差评 (5)
    assert want["market"] | {"code": "market"} == {
        "code": "market", "received": 1, "assigned_within_1_day": 1, "resolved": 1, "resolved_on_time": 1,
        "on_time_rate": 1.0, "open": 0, "overdue": 0, "callback_n": 1, "callback_index": None, "suppressed": True}
    assert want["tax"] == {"received": 2, "assigned_within_1_day": 2, "resolved": 2, "resolved_on_time": 1,
                           "on_time_rate": 0.5, "open": 1, "overdue": 0, "callback_n": 2, "callback_index": 62.5,
                           "suppressed": False}

    def gateway_figures():
        reply = ok(county["gateway"]("GET", f"/api/v1/demands/stats?period={period}", k["admin"]), 200)
        got = {d.pop("code"): d for d in reply["departments"]}
        return got if got["tax"]["callback_n"] == 2 and got["market"]["callback_n"] == 1 else None
    got = poll(gateway_figures, 30, 0.2, "the gateway's demand figures")
    assert got["market"] == want["market"] and got["tax"] == want["tax"]
    assert got["land"]["received"] == 0
    # the ranking report's 诉求办理 sheet: the same figures, as numbers
    report = county["gateway"]("GET", f"/api/v1/reports/{period}.xlsx", k["admin"])
    assert report.status == 200
    ws = load_workbook(io.BytesIO(report.raw))["诉求办理"]
    header = [c.value for c in ws[1]]
    sheet = {row[0].value: dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=2)}
    assert sheet.keys() == got.keys()
    for code, figures in got.items():
        row = sheet[code]
        assert row["单位名称"] == DEPARTMENTS[code] and row["说明"] == ("样本不足" if figures["suppressed"] else None)
        assert {field: row[col] for col, field in REPORT_COLUMNS.items()} == \
            {field: figures[field] for field in REPORT_COLUMNS.values()}
    # the visit's ratings are in the indices through channel `visit`
    index = ok(county["gateway"]("GET", f"/api/v1/departments/tax/index?period={period_of(utcnow())}", k["admin"]), 200)
    assert index["channels"]["visit"] == 1


def test_a_bad_rating_in_a_survey_answer_opens_a_rectification_demand(county):
    s, k = county["survey"], county["keys"]
    ent = county["enterprises"][1]
    questions = [{"id": "q1", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land", "required": True}]
    survey = ok(s("POST", "/api/v1/surveys", k["admin"], {"code": "bad-rating", "title": "测试", "period": "2026Q4",
                                                          "questions": questions}), 201)
    ok(s("POST", f"/api/v1/surveys/{survey['id']}/open", k["admin"], {}), 200)
    (invitation,) = ok(s("POST", f"/api/v1/surveys/{survey['id']}/invitations", k["admin"],
                         {"enterprises": [ent["code"]]}), 201)["invitations"]
    response_id = ok(s("POST", "/api/v1/responses", body={"token": invitation["token"], "answers": {"q1": 2}}), 202)["response_id"]
    (demand,) = ok(s("GET", "/api/v1/demands?category=bad_rating&department=land", k["admin"]), 200)["demands"]
    assert demand["status"] == "assigned" and demand["source"] == {
        "kind": "response", "id": response_id, "survey": survey["id"], "question": "q1"}
    assert "不动产登记办理的满意度" in demand["text"] and demand["enterprise"] == ent["code"]
    assert parse(demand["deadline"]) == bad_rating_deadline(parse(demand["received_at"]), 15)
    # a resend of the identical answer opens nothing more
    ok(s("POST", "/api/v1/responses", body={"token": invitation["token"], "answers": {"q1": 2}}), 202)
    assert ok(s("GET", "/api/v1/demands?category=bad_rating&department=land", k["admin"]), 200)["total"] == 1
    period = period_of(parse(demand["received_at"]))
    poll(lambda: next(d for d in ok(county["gateway"]("GET", f"/api/v1/demands/stats?period={period}", k["admin"]),
                                    200)["departments"] if d["code"] == "land")["received"] == 1,
         30, 0.2, "the 差评 demand in the gateway's figures")


def test_the_visit_page_on_a_phone(county, phone):
    s, k = county["survey"], county["keys"]
    ent = county["enterprises"][1]
    phone.goto(county["procs"].survey_url + "/visit")
    phone.wait_for_selector("#login:not([hidden])")
    screenshot(phone, "visit-1-key")
    phone.fill("#key", "mk_wrong")
    phone.click("#save-key")
    phone.wait_for_selector("#login-error:text('密钥无效')")
    phone.fill("#key", k["cadre"])
    phone.click("#save-key")
    phone.wait_for_selector("#visit:not([hidden])")
    phone.fill("#search", "有限公司")
    assert phone.locator("#matches button").count() == 2
    screenshot(phone, "visit-2-search")
    phone.fill("#search", "精密")
    phone.click("#matches button:has-text('中原精密机械有限公司')")
    assert ent["code"] in phone.text_content("#chosen")
    phone.click("[data-department=market] button[data-level='4']")
    phone.click("[data-department=tax] button[data-level='2']")
    phone.fill("[data-department=tax] [name=comment]", "发票申领要跑三次")
    phone.click("#add-demand")
    phone.select_option("#demands .demand [name=department]", "land")
    phone.select_option("#demands .demand [name=category]", "要素保障")
    phone.select_option("#demands .demand [name=urgency]", "major")
    phone.fill("#demands .demand [name=text]", "扩建用地指标尚未落实")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    screenshot(phone, "visit-3-form")
    phone.click("#submit")
    phone.wait_for_selector("#done:not([hidden])")
    assert "诉求 1 条" in phone.text_content("#done-text") and "差评整改 1 条" in phone.text_content("#done-text")
    screenshot(phone, "visit-4-done")

    listed = ok(s("GET", "/api/v1/demands?department=land&category=" + quote("要素保障"), k["admin"]), 200)["demands"]
    assert [(d["text"], d["urgency"], d["status"], d["enterprise"]) for d in listed] == [
        ("扩建用地指标尚未落实", "major", "received", ent["code"])]
    bad = ok(s("GET", "/api/v1/demands?department=tax&category=bad_rating", k["admin"]), 200)["demands"]
    assert any("发票申领要跑三次" in d["text"] for d in bad)
    # the key is remembered: a reload goes straight to the form
    phone.reload()
    phone.wait_for_selector("#visit:not([hidden])")
