"""Malformed input of every kind gets a 4xx in the JSON error shape, never a 500 (issue 11)."""
import functools
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from gateway import create_app as create_gateway
from services.survey import create_app
from shared.domain import reporting_window_start, utcnow
from tests.api import FlaskApi, ok
from tests.factories import enterprise, uscc, xlsx
from tests.harness import ROOT

DEEP = ("[" * 3000 + "]" * 3000).encode()
SURROGATE = b'{"token": "\\ud800", "answers": {"q1": "\\udfff"}, "code": "\\ud800", "name": "\\ud800"}'


@pytest.fixture
def app(config):
    app = create_app(config, background=False)
    yield app
    app.extensions["manyi"].outbox.stop()


@pytest.fixture
def api(app):
    return FlaskApi(app)


def json_endpoints(app):
    """(method, path) of every operation of the OpenAPI document that takes a JSON body."""
    spec = app.test_client().get("/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                yield method.upper(), path.replace("{", "").replace("}", "")


def assert_json_error(reply, status=400):
    assert reply.status == status, reply
    assert "errors" in reply.json, reply


UNSAFE = [DEEP, SURROGATE, b'{"a": ' * 200 + b"1" + b"}" * 200, b'{"token": "t", "answers": {"q1": 99999999999999999999}}']


def test_every_json_endpoint_refuses_unsafe_json_with_400(app, api, config):
    endpoints = list(json_endpoints(app))
    assert ("POST", "/api/v1/responses") in endpoints and len(endpoints) > 10
    for body in UNSAFE:
        for method, path in endpoints:
            reply = api(method, path, config.admin_key, raw=body)
            # 404 when the path names no such resource (checked before the body); never a 5xx
            assert reply.status in (400, 404), (method, path, reply)
            assert "errors" in reply.json, (method, path, reply)


def test_a_huge_page_number_is_a_400_not_a_500(api, config):
    assert_json_error(api("GET", "/api/v1/demands?page=99999999999999999999", config.admin_key))
    assert_json_error(api("GET", "/api/v1/demands?page=100000000&per_page=500", config.admin_key))
    ok(api("GET", "/api/v1/demands?page=3", config.admin_key), 200)


def test_csv_field_over_the_csv_module_limit_is_a_400(app, config):
    big = "甲" * 140_000
    content = f"统一社会信用代码,企业名称,企业规模,所有制,内外资,乡镇,行业\n{uscc()},{big},大型,国有,内资,城关镇,制造业\n"
    r = app.test_client().post("/api/v1/enterprises/import", headers={"Authorization": f"Bearer {config.admin_key}"},
                               data={"file": (io.BytesIO(content.encode()), "名单.csv")},
                               content_type="multipart/form-data")
    assert r.status_code == 400, r.get_data()
    assert "errors" in r.get_json()


@functools.lru_cache(maxsize=1)
def zip_bomb():
    """A valid-looking workbook whose one sheet inflates to ~100 MiB of spaces (≈ 100 KiB deflated)."""
    raw = io.BytesIO(xlsx([["统一社会信用代码", "企业名称"], [uscc(), "甲公司"]]))
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data + b" " * (100 * 1024 * 1024)
            dst.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


def not_a_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


def test_uploads_that_are_not_workbooks_or_inflate_too_far_are_a_400(app, config):
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024
    for content in (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"PK\x03\x04broken zip", not_a_workbook(), bomb):
        for path in ("/api/v1/enterprises/import", "/api/v1/surveys/import"):
            r = app.test_client().post(path, headers={"Authorization": f"Bearer {config.admin_key}"},
                                       data={"file": (io.BytesIO(content), "a.xlsx")},
                                       content_type="multipart/form-data")
            assert r.status_code == 400, (path, content[:10], r.get_data()[:500])
            assert len(r.get_data()) < 64 * 1024  # never the whole inflated sheet echoed back
            assert "errors" in r.get_json()


def test_the_gateway_refuses_a_period_with_a_newline(config):
    client = create_gateway(config).test_client()
    for path in ("/api/v1/reports/2026Q4%0A.xlsx", "/api/v1/indices?period=2026Q4%0A",
                 "/api/v1/departments/x/trend?from=2026Q1%0A&to=2026Q4"):
        r = client.get(path, headers={"Authorization": f"Bearer {config.admin_key}"})
        assert r.status_code in (400, 404), (path, r.status_code, r.get_data()[:300])
        assert "errors" in r.get_json(), path


def test_a_deep_body_to_the_gateway_login_is_not_a_500(config):
    client = create_gateway(config).test_client()
    r = client.post("/dashboard/login", data=DEEP, content_type="application/json")
    assert r.status_code < 500


def test_a_chunked_body_over_the_limit_is_413(app, config):
    body = json.dumps({"token": "x" * 70_000, "answers": {}}).encode()
    r = app.test_client().post("/api/v1/responses", input_stream=io.BytesIO(body),
                               headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
                               environ_overrides={"wsgi.input_terminated": True})  # as gunicorn says of chunked
    assert r.status_code == 413, r.get_data()[:300]
    assert "errors" in r.get_json()


def test_405_names_the_allowed_methods_and_is_json(api):
    r = api("PUT", "/api/v1/responses")
    assert r.status == 405
    assert "POST" in r.headers.get("Allow", "")
    assert "errors" in r.json


def test_unknown_path_is_json_with_errors(api):
    assert_json_error(api("GET", "/api/v1/no-such-thing"), 404)


@pytest.fixture
def visit_setup(api, config):
    admin = config.admin_key
    ok(api("POST", "/api/v1/departments", admin, {"code": "market", "name": "县市场监督管理局"}), 201)
    firm = enterprise()
    ok(api("POST", "/api/v1/enterprises", admin, firm), 201)
    return admin, firm


def test_visits_outside_the_reporting_window_are_refused(api, visit_setup):
    admin, firm = visit_setup
    now = utcnow()
    window = reporting_window_start(now, 2)
    for when in ("0001-01-01T00:00:00+14:00", "1970-01-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00",
                 (window - timedelta(seconds=1)).isoformat(), (now + timedelta(days=2)).isoformat()):
        reply = api("POST", "/api/v1/visits", admin, {"enterprise": firm["code"], "visited_at": when,
                                                     "ratings": [{"department": "market", "level": 4}], "demands": []})
        assert_json_error(reply)
        assert "visited_at" in reply.json["errors"], (when, reply)
    ok(api("POST", "/api/v1/visits", admin, {"enterprise": firm["code"], "visited_at": window.isoformat(),
                                            "ratings": [{"department": "market", "level": 4}], "demands": []}), 202)


def test_reporting_window_is_the_current_and_previous_quarter_in_shanghai():
    from zoneinfo import ZoneInfo
    shanghai = ZoneInfo("Asia/Shanghai")
    assert reporting_window_start(datetime(2026, 11, 26, 8, tzinfo=UTC), 2) == datetime(2026, 7, 1, tzinfo=shanghai)
    assert reporting_window_start(datetime(2026, 2, 1, tzinfo=UTC), 2) == datetime(2025, 10, 1, tzinfo=shanghai)
    # 2026-03-31 17:00 UTC is already 2026Q2 in Shanghai
    assert reporting_window_start(datetime(2026, 3, 31, 17, tzinfo=UTC), 1) == datetime(2026, 4, 1, tzinfo=shanghai)


def test_assign_deadlines_far_from_now_are_refused(api, visit_setup):
    admin, firm = visit_setup
    visit = ok(api("POST", "/api/v1/visits", admin, {
        "enterprise": firm["code"], "visited_at": utcnow().isoformat(), "ratings": [],
        "demands": [{"department": "market", "category": "融资", "text": "贷款难", "urgency": "ordinary"}]}), 202)
    (demand_id,) = visit["demand_ids"]
    for deadline in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                     (utcnow() + timedelta(days=400)).isoformat()):
        reply = api("POST", f"/api/v1/demands/{demand_id}/assign", admin, {"department": "market", "deadline": deadline})
        assert_json_error(reply)
        assert "deadline" in reply.json["errors"]
    ok(api("POST", f"/api/v1/demands/{demand_id}/assign", admin,
           {"department": "market", "deadline": (utcnow() + timedelta(days=20)).isoformat()}), 200)


def test_every_page_and_error_of_both_services_carries_the_security_headers(app, config):
    survey, gateway = app.test_client(), create_gateway(config).test_client()
    answers = [survey.get("/s/no-such-token"), survey.get("/visit"), survey.get("/healthz"), survey.get("/docs"),
               survey.post("/api/v1/responses", data=b"{", content_type="application/json"),
               gateway.get("/dashboard"), gateway.get("/api/v1/indices?period=2026Q4"), gateway.get("/nowhere")]
    for r in answers:
        h = r.headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], r
        assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff", r
        assert h["Referrer-Policy"] in ("no-referrer", "same-origin"), r
    # the visit page (a cadre key in localStorage) runs only its own script files, nothing inline
    visit_csp = answers[1].headers["Content-Security-Policy"]
    assert "script-src 'self';" in visit_csp
    assert answers[0].headers["Referrer-Policy"] == "no-referrer"  # the token in the URL must not leak


def test_dashboard_tooltips_escape_department_names():
    js = (ROOT / "gateway/static/dashboard.js").read_text(encoding="utf-8")
    tooltips = [line for line in js.splitlines() if "formatter:" in line and "<br>" in line]
    assert len(tooltips) == 3
    for line in tooltips:  # ECharts renders these as HTML: every interpolated name goes through esc()
        assert "${d.name}" not in line and "${name(d.code)}" not in line and "${t.period}" not in line, line
