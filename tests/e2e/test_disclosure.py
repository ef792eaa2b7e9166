"""End to end over HTTP, real processes (issue 12): the subtraction attack a portal would run on a released county
with small segments, and the dashboard's 通报 button in real Chromium.

The county is generated: skewed attributes leave segments of one or two enterprises in every department; one
department is rated by a single enterprise (a 差评), and one is the issue's own example (five domestic raters
5, 4, 4, 5, 3 and one foreign rater 1). The attack subtracts every published part of every breakdown from its
published whole and asserts that what is left is either nobody or at least MIN_N enterprises.
"""
import io
import random

import pytest
from openpyxl import load_workbook

from shared.domain import period_of, utcnow
from tests.api import ok
from tests.factories import enterprise
from tests.harness import poll

pytestmark = pytest.mark.e2e
MIN_N = 5
ATTRIBUTES = ("scale", "ownership", "capital", "township", "industry")
DEPARTMENTS = {f"d{i}": f"县第{i}局" for i in range(1, 7)} | {"solo": "县独评局", "issue": "县示例局"}
PERIOD = period_of(utcnow())


def skewed(rng, common, rare, p_rare):
    return rng.choice(rare) if rng.random() < p_rare else common


@pytest.fixture(scope="module")
def county(system):
    """Enterprises and their visit ratings (known to the test), released once; returns what the test knows."""
    config, _, api, gw = system
    admin = config.admin_key
    for code, name in DEPARTMENTS.items():
        ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": name}), 201)
    cadre = ok(api("POST", "/api/v1/keys", admin, {"role": "cadre", "name": "干部"}), 201)["key"]
    portal = ok(api("POST", "/api/v1/keys", admin, {"role": "portal", "name": "门户"}), 201)["key"]
    rng = random.Random(12)
    ents, ratings = [], {}  # ratings: enterprise code → {department: level}
    for _ in range(36):
        ents.append(enterprise(scale=skewed(rng, "small", ["large", "medium", "micro"], 0.2),
                               ownership=skewed(rng, "private", ["state", "collective", "other"], 0.15),
                               capital=skewed(rng, "domestic", ["foreign"], 0.1),
                               township=skewed(rng, "城关镇", ["城郊乡", "北山镇", "南河乡"], 0.25),
                               industry=skewed(rng, "制造业", ["建筑业", "批发零售", "软件"], 0.2)))
        ratings[ents[-1]["code"]] = {d: rng.randint(1, 5) for d in list(DEPARTMENTS)[:6] if rng.random() < 0.7}
    ratings[ents[0]["code"]]["solo"] = 1
    for ent, level in zip(ents[1:6], (5, 4, 4, 5, 3)):
        ent["capital"] = "domestic"
        ratings[ent["code"]]["issue"] = level
    ents[6]["capital"] = "foreign"
    ratings[ents[6]["code"]]["issue"] = 1
    for ent in ents:
        ok(api("POST", "/api/v1/enterprises", admin, ent), 201)
        body = {"enterprise": ent["code"], "visited_at": utcnow().isoformat(),
                "ratings": [{"department": d, "level": lv} for d, lv in ratings[ent["code"]].items()]}
        ok(api("POST", "/api/v1/visits", cadre, body), 202)
    raters = sum(1 for r in ratings.values() if "d1" in r)
    poll(lambda: next(d for d in gw("GET", f"/api/v1/indices?period={PERIOD}", admin).json["departments"]
                      if d["code"] == "d1")["n"] == raters, 30, 0.2, "every visit in the live figures")
    ok(api("POST", f"/api/v1/periods/{PERIOD}/release", admin), 202)
    poll(lambda: gw("GET", f"/api/v1/indices?period={PERIOD}", portal).status == 200, 30, 0.2, "the release")
    return {"ents": ents, "ratings": ratings, "portal": portal, "admin": admin}


def read(gw, key, path):
    return ok(gw("GET", path, key), 200)


def residual(whole, parts):
    """What subtraction leaves of a whole (n, index) once the published parts are taken away: (n, mean)."""
    shown = [p for p in parts if not p["suppressed"]]
    rest = whole["n"] - sum(p["n"] for p in shown)
    if rest <= 0:
        return 0, None
    return rest, (whole["n"] * whole["index"] - sum(p["n"] * p["index"] for p in shown)) / rest


def test_the_subtraction_attack_recovers_nobody_below_min_n(system, county):
    _, _, _, gw = system
    portal = county["portal"]
    checked, recovered = 0, []
    for code in DEPARTMENTS:
        whole = read(gw, portal, f"/api/v1/departments/{code}/index?period={PERIOD}")
        breakdowns = {"indicators": whole["indicators"]}
        for by in ATTRIBUTES:
            breakdowns[by] = read(gw, portal, f"/api/v1/departments/{code}/segments?period={PERIOD}&by={by}")["segments"]
        for name, parts in breakdowns.items():
            checked += 1
            assert all(p["n"] is None for p in parts if p["suppressed"]), (code, name, parts)  # no hidden n
            if whole["suppressed"]:
                assert all(p["suppressed"] for p in parts), (code, name, parts)
                continue
            rest, _ = residual(whole, parts)
            if 0 < rest < MIN_N:
                recovered.append((code, name, rest))
    print(f"subtraction attack: {checked} breakdowns of {len(DEPARTMENTS)} departments, recovered {recovered}")
    assert checked == len(DEPARTMENTS) * (1 + len(ATTRIBUTES)) and recovered == []

    # the issue's example: the lone foreign rater's 非常不满意 is not recoverable, nor is its segment's size
    issue = read(gw, portal, f"/api/v1/departments/issue/segments?period={PERIOD}&by=capital")["segments"]
    assert {s["value"]: (s["n"], s["suppressed"]) for s in issue} == {"domestic": (None, True), "foreign": (None, True)}
    # a department rated by one enterprise shows none of its profile: every value seen in the county, all hidden
    for by in ATTRIBUTES:
        solo = read(gw, portal, f"/api/v1/departments/solo/segments?period={PERIOD}&by={by}")["segments"]
        assert {s["value"] for s in solo} == {e[by] for e in county["ents"]} and all(s["n"] is None for s in solo)
    # nor does its demand count (its 差评) reach a portal; the admin's live figures still have it
    demands = {d["code"]: d for d in read(gw, portal, f"/api/v1/demands/stats?period={PERIOD}")["departments"]}
    assert demands["solo"]["received"] is None and demands["solo"]["suppressed"] is True
    live = {d["code"]: d for d in read(gw, county["admin"], f"/api/v1/demands/stats?period={PERIOD}")["departments"]}
    assert live["solo"]["received"] == 1
    for code, d in demands.items():  # any published demand figure stands on at least MIN_N enterprises
        raisers = sum(1 for r in county["ratings"].values() if r.get(code, 5) <= 2)
        assert d["received"] is None or raisers == 0 or raisers >= MIN_N, (code, d, raisers)


def test_the_report_a_portal_downloads_is_protected_alike(system, county):
    _, _, _, gw = system
    reply = gw("GET", f"/api/v1/reports/{PERIOD}.xlsx", county["portal"])
    assert reply.status == 200 and "%E9%80%9A%E6%8A%A5" in reply.headers.get("Content-Disposition", "")  # 通报
    sheet = load_workbook(io.BytesIO(reply.raw))["分群指数"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    hidden = [r for r in rows if r["说明"] == "样本不足"]
    assert hidden and all(r["样本企业数"] is None and r["分群指数"] is None for r in hidden)
    solo = [r for r in rows if r["单位代码"] == "solo"]
    assert solo and all(r["样本企业数"] is None for r in solo)


def test_an_admin_releases_from_the_dashboard_and_the_portal_view_follows(system, county, laptop):
    _, procs, _, gw = system
    page, admin = laptop, county["admin"]
    before = read(gw, admin, "/api/v1/periods")
    number = next(r["release"] for r in before["releases"] if r["period"] == PERIOD)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(procs.gateway_url + "/dashboard")
    page.fill("input[name=key]", admin)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-period]")
    state = page.locator("#release-state")
    assert "实时数据" in state.inner_text() and f"第 {number} 次通报" in state.inner_text()
    page.click("#release")
    page.wait_for_selector(f"#release-state[data-release='{number + 1}']", timeout=15000)
    assert f"第 {number + 1} 次通报" in state.inner_text()
    assert read(gw, county["portal"], f"/api/v1/indices?period={PERIOD}")["release"] == number + 1
    # a portal session sees the release state and no button
    portal_page = page.context.new_page()
    page.context.clear_cookies()
    portal_page.goto(procs.gateway_url + "/dashboard")
    portal_page.fill("input[name=key]", county["portal"])
    portal_page.click("button[type=submit]")
    portal_page.wait_for_selector("body[data-period]")
    assert f"第 {number + 1} 次通报" in portal_page.locator("#release-state").inner_text()
    assert portal_page.locator("#release").count() == 0
