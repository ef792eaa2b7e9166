"""The console's sessions and guards against the real MongoDB (Flask test client): the cookie, CSRF and origin
checks, a key that stops authenticating ending its sessions, who sees which page, and the console acting
through the same use cases as the JSON API (its refusals included)."""
import re

import pytest

from services.survey import create_app
from services.survey.console.store import COOKIE
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise
from tests.harness import poll

BASE = "http://localhost"


@pytest.fixture
def app(config):
    app = create_app(config, background=False)
    yield app
    app.extensions["manyi"].outbox.stop()


@pytest.fixture
def county(app, config):
    api, admin = FlaskApi(app), config.admin_key
    for code in ("market", "tax"):
        ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": f"县{code}局"}), 201)
    keys = {d: ok(api("POST", "/api/v1/keys", admin, {"role": "department", "name": d, "department": d}), 201)
            for d in ("market", "tax")}
    keys["cadre"] = ok(api("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "干部"}), 201)
    ent = enterprise()
    ok(api("POST", "/api/v1/enterprises", admin, ent), 201)
    visit = ok(api("POST", "/api/v1/visits", keys["cadre"]["key"], {
        "enterprise": ent["code"], "visited_at": "2026-11-20T10:00:00+08:00",
        "demands": [{"department": "market", "category": "审批", "text": "许可证"},
                    {"department": "tax", "category": "税务", "text": "退税"}]}), 202)
    return {"api": api, "admin": admin, "keys": keys, "demands": visit["demand_ids"], "enterprise": ent}


def signed_in(app, key):
    client = app.test_client()
    reply = client.post("/console/login", data={"key": key}, headers={"Origin": BASE})
    assert reply.status_code == 303, reply.get_data(as_text=True)[:300]
    return client, reply


def csrf_of(client, path):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def test_sign_in_sets_a_strict_http_only_cookie_and_logout_ends_the_session(app, county):
    client, reply = signed_in(app, county["admin"])
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert reply.headers["Location"] == "/console/"
    assert client.get("/console/demands").status_code == 200
    token = csrf_of(client, "/console/demands")
    assert client.post("/console/logout", data={"csrf": token}, headers={"Origin": BASE}).status_code == 303
    assert client.get("/console/demands").status_code == 303  # back to the sign-in page


def test_a_wrong_key_or_a_portal_key_is_refused_and_next_stays_inside_the_console(app, county):
    client = app.test_client()
    assert client.post("/console/login", data={"key": "mk_nope"}, headers={"Origin": BASE}).status_code == 401
    portal = ok(county["api"]("POST", "/api/v1/keys", county["admin"], {"role": "portal", "name": "p"}), 201)["key"]
    assert client.post("/console/login", data={"key": portal}, headers={"Origin": BASE}).status_code == 403
    reply = client.post("/console/login", data={"key": county["admin"], "next": "//evil.test/x"},
                        headers={"Origin": BASE})
    assert reply.headers["Location"] == "/console/"
    assert client.post("/console/login", data={"key": county["admin"]},
                       headers={"Origin": "http://evil.test"}).status_code == 403


def test_a_post_without_the_csrf_token_or_from_another_origin_changes_nothing(app, county):
    client, _ = signed_in(app, county["admin"])
    demand = county["demands"][0]
    token = csrf_of(client, f"/console/demands/{demand}")
    form = {"department": "market"}
    assert client.post(f"/console/demands/{demand}/assign", data=form, headers={"Origin": BASE}).status_code == 403
    assert client.post(f"/console/demands/{demand}/assign", data={**form, "csrf": "forged"},
                       headers={"Origin": BASE}).status_code == 403
    assert client.post(f"/console/demands/{demand}/assign", data={**form, "csrf": token},
                       headers={"Origin": "http://127.0.0.1:1"}).status_code == 403
    status = ok(county["api"]("GET", f"/api/v1/demands/{demand}", county["admin"]), 200)["status"]
    assert status == "received"
    done = client.post(f"/console/demands/{demand}/assign", data={**form, "csrf": token}, headers={"Origin": BASE})
    assert done.status_code == 303
    assert ok(county["api"]("GET", f"/api/v1/demands/{demand}", county["admin"]), 200)["status"] == "assigned"


def test_a_key_revoked_in_the_console_ends_its_sessions(app, county):
    key = county["keys"]["market"]
    client, _ = signed_in(app, key["key"])
    assert client.get("/console/queue").status_code == 200
    admin, _ = signed_in(app, county["admin"])
    assert key["id"] in admin.get("/console/keys").get_data(as_text=True)
    revoked = admin.post(f"/console/keys/{key['id']}/revoke", data={"csrf": csrf_of(admin, "/console/keys")},
                         headers={"Origin": BASE})
    assert revoked.status_code == 303
    listed = ok(county["api"]("GET", "/api/v1/keys", county["admin"]), 200)["keys"]
    assert next(k for k in listed if k["id"] == key["id"])["revoked"]
    # Within shared.keys.CACHE_SECONDS the session is refused, and so is the cookie on the API.
    poll(lambda: client.get("/console/queue").status_code == 303, 15, 0.5, "the revoked key's session ends")
    assert client.get("/api/v1/demands").status_code == 401


def test_a_department_sees_only_its_own_queue_and_no_admin_page(app, county):
    market, tax = county["demands"]
    for demand, department in ((market, "market"), (tax, "tax")):
        ok(county["api"]("POST", f"/api/v1/demands/{demand}/assign", county["admin"], {"department": department}), 200)
    client, _ = signed_in(app, county["keys"]["market"]["key"])
    queue = client.get("/console/queue").get_data(as_text=True)
    assert market in queue and tax not in queue
    assert client.get(f"/console/demands/{tax}").status_code == 404
    for path in ("/console/demands", "/console/enterprises", "/console/surveys", "/console/keys"):
        assert client.get(path).status_code == 403
    token = csrf_of(client, f"/console/demands/{market}")
    refused = client.post(f"/console/demands/{tax}/resolve", data={"resolution": "x", "csrf": token},
                          headers={"Origin": BASE})
    assert refused.status_code == 404
    assert ok(county["api"]("GET", f"/api/v1/demands/{tax}", county["admin"]), 200)["status"] == "assigned"
    # The API's own schema and rules refuse in the console too: an empty resolution, a callback by a department.
    empty = client.post(f"/console/demands/{market}/resolve", data={"resolution": "", "csrf": token},
                        headers={"Origin": BASE})
    assert empty.status_code == 400 and "必填" in empty.get_data(as_text=True)
    callback = client.post(f"/console/demands/{market}/callback", data={"level": "5", "csrf": token},
                           headers={"Origin": BASE})
    assert callback.status_code == 404


def test_an_illegal_step_is_refused_with_the_ledgers_reason(app, county):
    client, _ = signed_in(app, county["admin"])
    demand = county["demands"][0]
    token = csrf_of(client, f"/console/demands/{demand}")
    reply = client.post(f"/console/demands/{demand}/callback", data={"level": "4", "csrf": token},
                        headers={"Origin": BASE})
    assert reply.status_code == 409 and "诉求尚未办结，不能回访" in reply.get_data(as_text=True)


def test_the_cookie_reads_the_get_endpoints_only(app, county):
    client, _ = signed_in(app, county["admin"])
    assert client.get("/api/v1/enterprises/import-template.xlsx").status_code == 200
    assert client.post("/api/v1/departments", json={"code": "x", "name": "x"}).status_code == 401


def test_a_database_outage_is_a_503_page_not_a_500(app, county, monkeypatch):
    from pymongo.errors import ServerSelectionTimeoutError
    client, _ = signed_in(app, county["admin"])

    def down(token):
        raise ServerSelectionTimeoutError("no servers")
    monkeypatch.setattr(app.extensions["manyi.console"], "lookup", down)
    reply = client.get("/console/demands")
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "10"
    assert "数据库暂时无法访问" in reply.get_data(as_text=True)


def test_a_quarter_is_released_from_the_console_as_through_the_api(app, county):
    ok(county["api"]("POST", "/api/v1/surveys", county["admin"], {
        "code": "q", "title": "问卷", "period": "2026Q4",
        "questions": [{"id": "q1", "type": "rating5", "text": "服务", "department": "market"}]}), 201)
    client, _ = signed_in(app, county["admin"])
    page = client.get("/console/releases").get_data(as_text=True)
    assert 'data-period="2026Q4"' in page and 'data-period="2026"' in page and "未发布" in page
    token = csrf_of(client, "/console/releases")
    assert client.post("/console/releases/2026Q4", data={"csrf": token}, headers={"Origin": BASE}).status_code == 303
    periods = ok(county["api"]("GET", "/api/v1/periods", county["admin"]), 200)["periods"]
    assert [(p["period"], p["release"]) for p in periods] == [("2026Q4", 1)]
    assert "第 1 次" in client.get("/console/releases").get_data(as_text=True)
    department, _ = signed_in(app, county["keys"]["market"]["key"])
    assert department.get("/console/releases").status_code == 403


def test_bad_filters_on_the_reading_pages_are_refused_on_the_page_never_a_500(app, county):
    ok(county["api"]("POST", "/api/v1/surveys", county["admin"], {
        "code": "q", "title": "问卷", "period": "2026Q4",
        "questions": [{"id": "q1", "type": "rating5", "text": "服务", "department": "market"}]}), 201)
    client, _ = signed_in(app, county["admin"])
    assert client.get("/console/responses").status_code == 200
    for path in ("/console/responses?level=9", "/console/responses?from=2026-13-40", "/console/responses?cursor=zz",
                 "/console/comments?department=market&period=2026Q9", "/console/appeals?status=bogus",
                 "/console/flags?kind=bogus", "/console/flags?page=0"):
        reply = client.get(path)
        assert reply.status_code == 400 and "筛选条件有误" in reply.get_data(as_text=True), path
    department, _ = signed_in(app, county["keys"]["market"]["key"])
    assert "还没有通报发布的季度" in department.get("/console/figures?period=nonsense").get_data(as_text=True)
    for path in ("/console/responses", "/console/flags"):
        assert department.get(path).status_code == 403


def test_appeals_in_the_console_are_the_apis_own_each_department_its_own(app, county):
    api, admin = county["api"], county["admin"]
    bad = ok(api("POST", "/api/v1/visits", county["keys"]["cadre"]["key"], {
        "enterprise": county["enterprise"]["code"], "visited_at": "2026-11-26T10:00:00+08:00",
        "ratings": [{"department": "market", "level": 1, "comment": "窗口态度差"}]}), 202)["bad_rating_demand_ids"][0]
    tax, _ = signed_in(app, county["keys"]["tax"]["key"])
    token = csrf_of(tax, "/console/appeals")
    stolen = tax.post(f"/console/demands/{bad}/appeal", data={"reason": "不是我们", "csrf": token},
                      headers={"Origin": BASE})
    assert stolen.status_code == 404  # another department's 差评 is as good as absent
    market, _ = signed_in(app, county["keys"]["market"]["key"])
    token = csrf_of(market, f"/console/demands/{bad}")
    empty = market.post(f"/console/demands/{bad}/appeal", data={"reason": "", "csrf": token}, headers={"Origin": BASE})
    assert empty.status_code == 400 and "申诉理由" in empty.get_data(as_text=True)
    not_a_bad_rating = market.post(f"/console/demands/{county['demands'][0]}/appeal",
                                   data={"reason": "x", "csrf": token}, headers={"Origin": BASE})
    assert not_a_bad_rating.status_code == 400 and "只能对差评整改诉求申诉" in not_a_bad_rating.get_data(as_text=True)
    filed = market.post(f"/console/demands/{bad}/appeal", data={"reason": "企业所述与事实不符", "csrf": token},
                        headers={"Origin": BASE})
    assert filed.status_code == 303
    appeal_id = filed.headers["Location"].split("/")[-1].split("?")[0]
    again = market.post(f"/console/demands/{bad}/appeal", data={"reason": "再次", "csrf": token},
                        headers={"Origin": BASE})
    assert again.status_code == 409 and "只能申诉一次" in again.get_data(as_text=True)
    assert appeal_id in market.get("/console/appeals").get_data(as_text=True)
    assert appeal_id not in tax.get("/console/appeals").get_data(as_text=True)
    assert tax.get(f"/console/appeals/{appeal_id}").status_code == 404
    page = market.get(f"/console/appeals/{appeal_id}").get_data(as_text=True)
    assert "匿名" in page and county["enterprise"]["name"] not in page and 'id="decide"' not in page
    assert market.post(f"/console/appeals/{appeal_id}/decide", data={"decision": "upheld", "csrf": token},
                       headers={"Origin": BASE}).status_code == 403
    client, _ = signed_in(app, admin)
    assert appeal_id in client.get("/console/appeals").get_data(as_text=True)  # pending: the admin's queue
    token = csrf_of(client, f"/console/appeals/{appeal_id}")
    unknown = client.post(f"/console/appeals/{appeal_id}/decide", data={"decision": "maybe", "csrf": token},
                          headers={"Origin": BASE})
    assert unknown.status_code == 400
    rejected = client.post(f"/console/appeals/{appeal_id}/decide",
                           data={"decision": "rejected", "note": "差评属实", "csrf": token}, headers={"Origin": BASE})
    assert rejected.status_code == 303
    decided = ok(api("GET", f"/api/v1/appeals/{appeal_id}", admin), 200)
    assert decided["status"] == "rejected" and decided["note"] == "差评属实"
    twice = client.post(f"/console/appeals/{appeal_id}/decide", data={"decision": "upheld", "csrf": token},
                        headers={"Origin": BASE})
    assert twice.status_code == 409 and ok(api("GET", f"/api/v1/appeals/{appeal_id}", admin), 200)["status"] == \
        "rejected"
    assert appeal_id not in client.get("/console/appeals").get_data(as_text=True)  # no longer pending
    assert appeal_id in client.get("/console/appeals?status=rejected").get_data(as_text=True)


def test_a_key_with_an_expiry_in_the_past_is_refused_with_the_apis_reason(app, county):
    client, _ = signed_in(app, county["admin"])
    token = csrf_of(client, "/console/keys")
    before = len(ok(county["api"]("GET", "/api/v1/keys", county["admin"]), 200)["keys"])
    reply = client.post("/console/keys", data={"role": "cadre", "name": "过期", "expires_at": "2020-01-01",
                                               "csrf": token}, headers={"Origin": BASE})
    assert reply.status_code == 400 and "有效期须晚于现在" in reply.get_data(as_text=True)
    assert len(ok(county["api"]("GET", "/api/v1/keys", county["admin"]), 200)["keys"]) == before


def test_answers_page_by_the_apis_cursor_twenty_at_a_time(app, county):
    api, admin = county["api"], county["admin"]
    questions = [{"id": "q1", "type": "rating5", "text": "服务", "department": "market"}]
    _, tokens, ents = setup_survey(api, admin, questions, [enterprise() for _ in range(21)], code="paged")
    for e in ents:
        ok(api("POST", "/api/v1/responses", None, {"token": tokens[e["code"]], "answers": {"q1": 4}}), 202)
    client, _ = signed_in(app, admin)
    first = client.get("/console/responses").get_data(as_text=True)
    assert first.count('class="answer"') == 20 and "回到第一页" not in first
    following = re.search(r'href="\?([^"]*cursor=[0-9a-f]+[^"]*)" id="next-page"', first)[1].replace("&amp;", "&")
    second = client.get(f"/console/responses?{following}").get_data(as_text=True)
    assert second.count('class="answer"') == 1 and 'id="next-page"' not in second and "回到第一页" in second
    shown = set(re.findall(r'data-response="([0-9a-f]+)"', first + second))
    assert len(shown) == 21  # every answer once, none twice
