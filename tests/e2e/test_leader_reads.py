"""End to end over HTTP: segments and gaps, trends, NPS, the xlsx report, ETags and dashboard sessions.

Expected figures are recomputed here from the answers the test submitted, with `statistics` and
scipy's t (Welch–Satterthwaite written out below), independent of shared/scoring.py.
"""
import io
import math
import statistics

import pytest
from openpyxl import load_workbook
from scipy.stats import t as student_t

from tests.api import close, ok
from tests.e2e.leaders import DEPARTMENTS, PERIODS, RATING_QUESTIONS, SCALE, seed
from tests.factories import enterprise
from tests.harness import poll

pytestmark = pytest.mark.e2e
ATTRIBUTES = ("scale", "ownership", "capital", "township", "industry")
MIN_N = 5
Q2, Q3 = PERIODS


# --- the test's own arithmetic ----------------------------------------------------------------------
def scores(answers, department):
    """{enterprise: Σ w·p / Σ w} of one department's ratings."""
    out = {}
    for ent, a in answers.items():
        rated = [(RATING_QUESTIONS[q].get("weight", 1.0), SCALE[str(level)]) for q, level in a.items()
                 if q in RATING_QUESTIONS and RATING_QUESTIONS[q]["department"] == department]
        if rated:
            out[ent] = sum(w * p for w, p in rated) / sum(w for w, _ in rated)
    return out


def summary(values):
    n = len(values)
    if n < MIN_N:
        return {"n": n, "index": None, "sd": None, "ci95": None, "suppressed": True}
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = student_t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return {"n": n, "index": mean, "sd": sd, "ci95": [mean - half, mean + half], "suppressed": False}


def welch(a, b):
    """95% interval of mean(a) − mean(b) with Welch–Satterthwaite df."""
    va, vb = a["sd"] ** 2 / a["n"], b["sd"] ** 2 / b["n"]
    df = (va + vb) ** 2 / (va ** 2 / (a["n"] - 1) + vb ** 2 / (b["n"] - 1))
    diff, half = a["index"] - b["index"], student_t.ppf(0.975, df) * math.sqrt(va + vb)
    return [diff - half, diff + half]


def expected_segments(ents, answers, department, by):
    s = scores(answers, department)
    groups = {}
    for e in ents:
        if e["code"] in s:
            groups.setdefault(e[by], []).append(s[e["code"]])
    segments = [{"value": v, **summary(groups[v])} for v in sorted(groups)]
    shown = sorted((x for x in segments if not x["suppressed"]), key=lambda x: (-x["index"], x["value"]))
    if len(shown) < 2:
        gap = {"value": None, "high": None, "low": None, "ci95": None}
    else:
        gap = {"value": shown[0]["index"] - shown[-1]["index"], "high": shown[0]["value"], "low": shown[-1]["value"],
               "ci95": welch(shown[0], shown[-1])}
    return segments, gap



@pytest.fixture(scope="module")
def county(system):
    config, _, api, gw = system
    ents, answers, surveys = seed(config, api)
    want = {p: sum(1 for a in answers[p].values() if "q1" in a) for p in PERIODS}
    for p in PERIODS:
        poll(lambda p=p: next(d for d in gw("GET", f"/api/v1/indices?period={p}", config.admin_key).json["departments"]
                          if d["code"] == "g1")["n"] == want[p], 30, 0.2, f"every answer of {p} in the gateway")
    return ents, answers, surveys


# --- the story --------------------------------------------------------------------------------------
def test_every_segment_figure_and_gap_equals_the_recomputation(system, county):
    config, _, _, gw = system
    ents, answers, _ = county
    seen_gap = seen_null = 0
    for code in DEPARTMENTS:
        for by in ATTRIBUTES:
            body = ok(gw("GET", f"/api/v1/departments/{code}/segments?period={Q3}&by={by}", config.admin_key), 200)
            segments, gap = expected_segments(ents, answers[Q3], code, by)
            assert body["by"] == by
            assert [s["value"] for s in body["segments"]] == [s["value"] for s in segments], (code, by)
            for got, want in zip(body["segments"], segments):
                assert set(got) == {"value", "n", "index", "ci95", "suppressed"}
                for f in ("n", "index", "ci95", "suppressed"):
                    assert close(got[f], want[f]), (code, by, got["value"], f, got[f], want[f])
            for f in ("value", "high", "low", "ci95"):
                assert close(body["gap"][f], gap[f]), (code, by, f, body["gap"], gap)
            seen_gap += gap["value"] is not None
            seen_null += gap["value"] is None
    assert seen_gap and seen_null  # both kinds were exercised
    g1 = ok(gw("GET", f"/api/v1/departments/g1/segments?period={Q3}&by=ownership", config.admin_key), 200)
    assert g1["gap"]["high"] == "state" and g1["gap"]["low"] == "private"
    assert [s["suppressed"] for s in g1["segments"]] == [True, False, False]  # collective: 2 enterprises
    r = gw("GET", f"/api/v1/departments/g1/segments?period={Q3}&by=colour", config.admin_key)
    assert r.status == 400 and "by" in r.json["errors"]
    assert gw("GET", f"/api/v1/departments/nope/segments?period={Q3}&by=scale", config.admin_key).status == 404


def test_gaps_rank_departments_widest_first(system, county):
    config, _, _, gw = system
    ents, answers, _ = county
    body = ok(gw("GET", f"/api/v1/segments/gaps?period={Q3}&by=ownership", config.admin_key), 200)
    assert body["period"] == Q3 and body["by"] == "ownership"
    want = {code: expected_segments(ents, answers[Q3], code, "ownership")[1] for code in DEPARTMENTS}
    with_gap = sorted((c for c in want if want[c]["value"] is not None), key=lambda c: -want[c]["value"])
    got = [d["code"] for d in body["departments"]]
    assert got[:len(with_gap)] == with_gap
    for d in body["departments"]:
        assert close(d["gap"]["value"], want[d["code"]]["value"]) and close(d["gap"]["ci95"], want[d["code"]]["ci95"])
        ci = want[d["code"]]["ci95"]
        assert d["significant"] == (ci is not None and (ci[0] > 0 or ci[1] < 0))
    assert [d["rank"] for d in body["departments"][:len(with_gap)]] == list(range(1, len(with_gap) + 1))


def test_trend_lists_every_quarter_with_welch_changes(system, county):
    config, _, _, gw = system
    _, answers, _ = county
    body = ok(gw("GET", "/api/v1/departments/g1/trend?from=2025Q4&to=2026Q4", config.admin_key), 200)
    assert [p["period"] for p in body] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    q2, q3 = summary(list(scores(answers[Q2], "g1").values())), summary(list(scores(answers[Q3], "g1").values()))
    by = {p["period"]: p for p in body}
    for period in ("2025Q4", "2026Q1", "2026Q4"):
        assert by[period] == {"period": period, "n": 0, "index": None, "suppressed": True, "change": None,
                              "change_ci95": None, "change_significant": None}
    assert by[Q2]["n"] == q2["n"] and close(by[Q2]["index"], q2["index"]) and by[Q2]["change"] is None
    assert close(by[Q3]["index"], q3["index"])
    assert close(by[Q3]["change"], q3["index"] - q2["index"])
    ci = welch(q3, q2)
    assert close(by[Q3]["change_ci95"], ci) and by[Q3]["change_significant"] == (ci[0] > 0 or ci[1] < 0)
    assert by["2026Q4"]["change"] is None
    r = gw("GET", "/api/v1/departments/g1/trend?from=2026Q3&to=2026Q1", config.admin_key)
    assert r.status == 400 and "from" in r.json["errors"]
    assert gw("GET", "/api/v1/departments/g1/trend?from=2026Q1", config.admin_key).json["errors"].keys() == {"to"}
    assert gw("GET", "/api/v1/departments/nope/trend?from=2026Q1&to=2026Q3", config.admin_key).status == 404


def test_nps_and_periods(system, county):
    config, _, _, gw = system
    _, answers, _ = county
    body = ok(gw("GET", f"/api/v1/nps?period={Q3}", config.admin_key), 200)
    # an admin reads the live figures, marked as such (issue 12); the figures themselves are unchanged
    assert [body.pop(k) for k in ("released", "release", "released_at")] == [False, None, None]
    marks = [a["q7"] for a in answers[Q3].values()]
    promoters, detractors = sum(m >= 9 for m in marks), sum(m <= 6 for m in marks)
    assert body == {"period": Q3, "n": len(marks), "nps": pytest.approx(100 * (promoters - detractors) / len(marks)),
                    "promoters": promoters, "passives": len(marks) - promoters - detractors,
                    "detractors": detractors, "suppressed": False}
    empty = ok(gw("GET", "/api/v1/nps?period=2020Q1", config.admin_key), 200)
    assert [empty.pop(k) for k in ("released", "release", "released_at")] == [False, None, None]
    assert empty == {"period": "2020Q1", "n": 0, "nps": None, "promoters": None, "passives": None,
                     "detractors": None, "suppressed": True}
    assert {Q2, Q3} <= set(ok(gw("GET", "/api/v1/periods", config.admin_key), 200)["periods"])


def rows(ws):
    header = [c.value for c in ws[1]]
    return [dict(zip(header, [c.value for c in row])) for row in ws.iter_rows(min_row=2)]


def test_report_cells_equal_the_api(system, county):
    config, _, _, gw = system
    key = config.admin_key
    r = gw("GET", f"/api/v1/reports/{Q3}.xlsx", key)
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in r.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(r.raw))
    assert wb.sheetnames[0] == "排名" and {"分群差距", "分群指数", "指标 service", "指标 speed"} <= set(wb.sheetnames)
    api = {d["code"]: d for d in ok(gw("GET", f"/api/v1/indices?period={Q3}", key), 200)["departments"]}
    ranking = rows(wb["排名"])
    assert [row["单位代码"] for row in ranking if row["排名"] is not None] == \
        [c for c, _ in sorted(((c, d) for c, d in api.items() if d["rank"]), key=lambda x: (x[1]["rank"], x[0]))]
    for row in ranking:
        d = api[row["单位代码"]]
        trend = ok(gw("GET", f"/api/v1/departments/{d['code']}/trend?from={Q3}&to={Q3}", key), 200)[0]
        assert row["排名"] == d["rank"] and row["单位名称"] == d["name"] and row["样本企业数"] == d["n"]
        for col, value in (("满意度指数", d["index"]), ("满意率", d["satisfied_rate"]), ("差评率", d["bad_rate"]),
                           ("95%区间下限", d["ci95"] and d["ci95"][0]), ("95%区间上限", d["ci95"] and d["ci95"][1]),
                           ("较上期变化", trend["change"])):
            assert close(row[col], value), (d["code"], col, row[col], value)
            assert value is None or isinstance(row[col], (int, float))  # numbers, not text
        assert row["落后单位"] == ("落后单位" if d["laggard"] else None)
        assert row["说明"] == ("样本不足" if d["suppressed"] else None)
    assert any(row["落后单位"] for row in ranking) and any(row["说明"] for row in ranking)
    g1 = ok(gw("GET", f"/api/v1/departments/g1/index?period={Q3}", key), 200)
    # named as the survey's questions name them (the dashboard shows the name, the code in its tooltip)
    assert {i["indicator"]: i["name"] for i in g1["indicators"]} == {"service": "市场监管服务", "speed": "市场监管办事速度"}
    for ind in g1["indicators"]:
        row = next(x for x in rows(wb[f"指标 {ind['indicator']}"]) if x["单位代码"] == "g1")
        assert row["样本企业数"] == ind["n"] and close(row["指标指数"], ind["index"])
    gaps = {d["code"]: d for d in ok(gw("GET", f"/api/v1/segments/gaps?period={Q3}&by=ownership", key), 200)["departments"]}
    for row in (x for x in rows(wb["分群差距"]) if x["分群维度"] == "所有制"):
        gap = gaps[row["单位代码"]]
        assert row["差距排名"] == gap["rank"] and close(row["差距（最高−最低）"], gap["gap"]["value"])
        assert close(row["95%区间下限"], gap["gap"]["ci95"] and gap["gap"]["ci95"][0])
    assert gw("GET", f"/api/v1/reports/{Q3}.xlsx").status == 401
    assert gw("GET", "/api/v1/reports/2026Q9.xlsx", key).json["errors"].keys() == {"period"}


def test_etag_304_until_new_data_arrives(system, county):
    config, _, api, gw = system
    key = config.admin_key
    first = gw("GET", f"/api/v1/indices?period={Q3}", key)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = gw("GET", f"/api/v1/indices?period={Q3}", key, headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw == b""
    other = gw("GET", f"/api/v1/departments/g1/segments?period={Q3}&by=scale", key)
    assert gw("GET", f"/api/v1/departments/g1/segments?period={Q3}&by=scale", key,
              headers={"If-None-Match": other.headers["ETag"]}).status == 304
    # A new answer in the period changes the figures: the old ETag no longer matches.
    late = enterprise(ownership="private")
    ok(api("POST", "/api/v1/enterprises", key, late), 201)
    token = ok(api("POST", f"/api/v1/surveys/{county[2][Q3]}/invitations", key,
                   {"enterprises": [late["code"]]}), 201)["invitations"][0]["token"]
    ok(api("POST", "/api/v1/responses", body={"token": token, "answers": {"q1": 1, "q3": 1}}), 202)
    changed = poll(lambda: (lambda r: r if r.status == 200 else None)(
        gw("GET", f"/api/v1/indices?period={Q3}", key, headers={"If-None-Match": etag})), 30, 0.2, "a new ETag")
    assert changed.headers["ETag"] != etag


def test_dashboard_session_cookie(system, county):
    config, procs, _, gw = system
    page = gw("GET", "/dashboard")
    assert page.status == 200 and "访问密钥".encode() in page.raw and b"<form" in page.raw
    assert gw("POST", "/dashboard/login", raw=b"key=mk_wrong",
              headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 401
    cross = gw("POST", "/dashboard/login", raw=f"key={config.admin_key}".encode(),
               headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
    assert cross.status == 403 and "Set-Cookie" not in cross.headers
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", procs.gateway_port, timeout=10)
    try:  # by hand: urllib would follow the 303 and hide the Set-Cookie
        conn.request("POST", "/dashboard/login", body=f"key={config.admin_key}",
                     headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": procs.gateway_url})
        r = conn.getresponse()
        r.read()
    finally:
        conn.close()
    assert r.status == 303 and r.getheader("Location").endswith("/dashboard")
    cookie = r.getheader("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and config.admin_key not in cookie
    session = cookie.split(";")[0]
    assert gw("GET", f"/api/v1/indices?period={Q3}", headers={"Cookie": session}).status == 200
    # the dashboard's demand panel reads the demand figures on the same session
    demands = gw("GET", f"/api/v1/demands/stats?period={Q3}", headers={"Cookie": session})
    assert demands.status == 200 and {d["code"] for d in demands.json["departments"]} == set(DEPARTMENTS)
    dash = gw("GET", "/dashboard", headers={"Cookie": session})
    assert dash.status == 200 and b"echarts.min.js" in dash.raw and "default-src 'self'" in dash.headers["Content-Security-Policy"]
    assert gw("GET", "/static/vendor/echarts/echarts.min.js").status == 200
    assert gw("GET", f"/api/v1/indices?period={Q3}", headers={"Cookie": "manyi_session=forged"}).status == 401
    gw("POST", "/dashboard/logout", headers={"Cookie": session, "Origin": procs.gateway_url})
    assert gw("GET", f"/api/v1/indices?period={Q3}", headers={"Cookie": session}).status == 401
    assert gw("GET", f"/api/v1/demands/stats?period={Q3}", headers={"Cookie": session}).status == 401


def test_openapi_documents_every_gateway_endpoint(system):
    _, _, _, gw = system
    paths = ok(gw("GET", "/openapi.json"), 200)["paths"]
    assert {"/api/v1/departments/{code}/segments", "/api/v1/segments/gaps", "/api/v1/departments/{code}/trend",
            "/api/v1/nps", "/api/v1/periods", "/api/v1/reports/{period}.xlsx"} <= set(paths)
