"""The leader dashboard in Debian's headless Chromium, at a laptop and a phone viewport.

Log in with a key, switch period, drill into a 落后单位, read the charts through ECharts' own
instance API, export the report; then the current quarter's demand panel. Screenshots land in
tests/e2e/screenshots/ for a person to look at.
"""
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from shared.domain import period_of, utcnow
from tests.api import ok
from tests.e2e.conftest import screenshot
from tests.e2e.leaders import PERIODS, seed
from tests.factories import enterprise
from tests.harness import poll

pytestmark = pytest.mark.e2e
Q2, Q3 = PERIODS


@pytest.fixture(scope="module")
def county(system):
    config, _, api, gw = system
    seed(config, api)
    return {p: poll(lambda p=p: settled(gw, config.admin_key, p), 30, 0.3, f"{p} settled") for p in PERIODS}


def settled(gw, key, period):
    """The period's figures once all fourteen enterprises' answers are in (two reads agreeing)."""
    first = gw("GET", f"/api/v1/indices?period={period}", key).json
    second = gw("GET", f"/api/v1/indices?period={period}", key).json
    g1 = next(d for d in first["departments"] if d["code"] == "g1")
    return first if first == second and g1["n"] == 14 else None


def option(page, element_id):
    return page.evaluate(f"""() => {{
        const chart = echarts.getInstanceByDom(document.getElementById({element_id!r}));
        const o = chart.getOption();
        return {{series: o.series.map(s => ({{type: s.type, name: s.name, data: s.data}})),
                 categories: (o.yAxis[0].data || o.xAxis[0].data)}};
    }}""")


def log_in(page, gw_url, key):
    page.goto(gw_url + "/dashboard")
    assert page.locator("form input[name=key]").is_visible()
    page.fill("input[name=key]", "mk_not_a_key")
    page.click("button[type=submit]")
    assert "密钥无效" in page.locator(".error").inner_text()
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_selector("body[data-period]")


def check_ranking(page, figures):
    ranked = sorted((d for d in figures["departments"] if not d["suppressed"]), key=lambda d: (d["rank"], d["code"]))
    o = option(page, "ranking-chart")
    bars, whiskers = o["series"]
    assert bars["type"] == "bar" and bars["name"] == "满意度指数" and whiskers["type"] == "custom"
    assert o["categories"] == [d["name"] for d in ranked]
    assert [b["value"] for b in bars["data"]] == pytest.approx([d["index"] for d in ranked], abs=1e-9)
    colours = {b["itemStyle"]["color"] for b, d in zip(bars["data"], ranked) if d["laggard"]}
    others = {b["itemStyle"]["color"] for b, d in zip(bars["data"], ranked) if not d["laggard"]}
    assert colours and others and not colours & others  # 落后单位 in a colour of their own
    # The page clips an interval to the index's 0–100 scale for display (the API's figures are not clipped).
    shown = [x for d in ranked for x in (max(0.0, d["ci95"][0]), min(100.0, d["ci95"][1]))]
    assert [x for w in whiskers["data"] for x in w[1:]] == pytest.approx(shown, abs=1e-9)
    suppressed = [d for d in figures["departments"] if d["suppressed"]]
    for d in suppressed:
        assert "样本不足" in page.locator(f"tr[data-code={d['code']}]").inner_text()
    return ranked


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_dashboard_log_in_switch_period_drill_down_export(system, county, device, request, tmp_path):
    config, procs, _, gw = system
    page = request.getfixturevalue(device)
    page.goto(procs.gateway_url + "/dashboard")
    screenshot(page, f"dashboard-{device}-login")
    log_in(page, procs.gateway_url, config.admin_key)
    newest = ok(gw("GET", "/api/v1/periods", config.admin_key), 200)["periods"][-1]
    page.wait_for_selector(f"body[data-period='{newest}']")  # the newest rated quarter comes first
    page.select_option("#period", Q3)
    page.wait_for_selector(f"body[data-period='{Q3}']")
    check_ranking(page, county[Q3])
    assert page.locator("#nps-value").is_visible()
    assert "本季度没有受理诉求" in page.locator("#panel-demandPanel").inner_text()  # the seed's 差评 came in this quarter
    screenshot(page, f"dashboard-{device}-ranking")

    page.select_option("#period", Q2)
    page.wait_for_selector(f"body[data-period='{Q2}']")
    page.wait_for_selector("#ranking-chart canvas")
    check_ranking(page, county[Q2])
    page.select_option("#period", Q3)
    page.wait_for_selector(f"body[data-period='{Q3}']")

    laggard = next(d for d in sorted(county[Q3]["departments"], key=lambda d: -(d["rank"] or 0)) if d["laggard"])
    page.click(f"tr[data-code={laggard['code']}]")
    page.wait_for_selector("#segment-chart canvas")
    assert laggard["name"] in page.locator("#detail-title").inner_text()
    assert "落后单位" in page.locator("#detail").inner_text()
    trend = option(page, "trend-chart")
    assert trend["categories"][-2:] == [Q2, Q3] and trend["series"][0]["type"] == "line"
    assert trend["series"][0]["data"][-1] == pytest.approx(laggard["index"], abs=1e-9)
    assert trend["series"][0]["data"][0] is None  # an empty quarter is a gap in the line, not a zero
    segments = option(page, "segment-chart")
    assert segments["series"][0]["type"] == "bar" and len(segments["series"][0]["data"]) >= 1
    assert "差距" in page.locator("#gap").inner_text() or "不足两个" in page.locator("#gap").inner_text()
    screenshot(page, f"dashboard-{device}-drill")
    page.click("#detail .tabs button[data-by=scale]")
    page.wait_for_selector("#detail .tabs button[data-by=scale][aria-pressed=true]")
    assert "样本不足" in page.locator("#segments").inner_text()  # large/medium/micro: 3 enterprises or fewer
    screenshot(page, f"dashboard-{device}-drill-scale")

    with page.expect_download() as download:
        page.click("#export")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"满意度排名-{Q3}.xlsx"
    wb = load_workbook(io.BytesIO(path.read_bytes()))
    top = next(d for d in county[Q3]["departments"] if d["rank"] == 1)
    assert wb["排名"]["B2"].value == top["code"] and wb["排名"]["D2"].value == pytest.approx(top["index"])


# --- the demand panel -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demands(system, county):
    """The current quarter's demands: the seed answers' 差评 (g1 7, g3 3, g4 3, g2 2, g5 2), five of g1's
    rectified and called back, and a visit whose rating makes the quarter the newest period and whose
    two demands are assigned past their deadline, g4's then resolved late.

    From here on the current quarter is the dashboard's default.
    """
    config, _, api, gw = system
    admin, period = config.admin_key, period_of(utcnow())

    def received():
        return {d["code"]: d["received"]
                for d in ok(gw("GET", f"/api/v1/demands/stats?period={period}", admin), 200)["departments"]}
    poll(lambda: received() == {"g1": 7, "g2": 2, "g3": 3, "g4": 3, "g5": 2}, 30, 0.2, "the seed's 差评 demands")
    g1 = ok(api("GET", "/api/v1/demands?department=g1&category=bad_rating&sort=received_at", admin), 200)["demands"]
    for demand, level in zip(g1, (5, 4, 4, 3, 5)):
        ok(api("POST", f"/api/v1/demands/{demand['id']}/resolve", admin, {"resolution": "已整改"}), 200)
        ok(api("POST", f"/api/v1/demands/{demand['id']}/callback", admin, {"level": level}), 200)
    visitor = enterprise()
    ok(api("POST", "/api/v1/enterprises", admin, visitor), 201)
    visit = ok(api("POST", "/api/v1/visits", admin, {
        "enterprise": visitor["code"], "visited_at": utcnow().isoformat(), "ratings": [{"department": "g2", "level": 4}],
        "demands": [{"department": "g3", "category": "要素保障", "text": "扩建用地指标未落实", "urgency": "ordinary"},
                    {"department": "g4", "category": "审批", "text": "施工许可迟迟未批", "urgency": "ordinary"}]}), 202)
    past = (utcnow() - timedelta(hours=2)).isoformat()
    for demand_id, department in zip(visit["demand_ids"], ("g3", "g4")):
        ok(api("POST", f"/api/v1/demands/{demand_id}/assign", admin, {"department": department, "deadline": past}), 200)
    ok(api("POST", f"/api/v1/demands/{visit['demand_ids'][1]}/resolve", admin, {"resolution": "已批"}), 200)

    def settled():
        stats = {d["code"]: d for d in ok(gw("GET", f"/api/v1/demands/stats?period={period}", admin), 200)["departments"]}
        periods = ok(gw("GET", "/api/v1/periods", admin), 200)["periods"]
        done = stats["g1"]["callback_n"] == 5 and stats["g4"]["resolved"] == 1 and stats["g3"]["overdue"] == 1
        return stats if done and periods[-1] == period else None
    return period, poll(settled, 30, 0.2, "the current quarter's demand figures")


def demand_rows(page):
    return page.evaluate("""() => [...document.querySelectorAll('#panel-demandPanel tbody tr')].map(tr => ({
        code: tr.dataset.code, overdue: tr.classList.contains('overdue'),
        cells: [...tr.querySelectorAll('td')].map(td => td.textContent)}))""")


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_demand_panel(system, county, demands, device, request):
    config, procs, _, _ = system
    period, stats = demands
    page = request.getfixturevalue(device)
    log_in(page, procs.gateway_url, config.admin_key)
    page.wait_for_selector(f"body[data-period='{period}']")
    assert page.locator("#period").input_value() == period
    page.wait_for_selector("#demand-chart canvas")

    # by hand: g1 5 of 7 rectified on time, callbacks 5 4 4 3 5; g3 and g4 each one overdue visit demand,
    # g4's resolved late; nothing else resolved, so only g1 and g4 have an on-time rate
    rows = demand_rows(page)
    assert [r["code"] for r in rows] == ["g3", "g4", "g1", "g2", "g5"]  # overdue first
    assert [r["code"] for r in rows if r["overdue"]] == ["g3", "g4"]
    cells = {r["code"]: r["cells"] for r in rows}
    assert cells["g1"] == ["县市场监督管理局", "7", "7", "5", "5", "100.0%", "2", "0", "5", "80.0"]
    assert cells["g3"] == ["县自然资源局", "4", "4", "0", "0", "—", "4", "1", "0", "样本不足"]
    assert cells["g4"] == ["县住房和城乡建设局", "4", "4", "1", "0", "0.0%", "4", "1", "0", "样本不足"]
    for code, row in cells.items():  # and every row is what the API serves
        d = stats[code]
        assert row[1:5] == [str(d[k]) for k in ("received", "assigned_within_1_day", "resolved", "resolved_on_time")]
        assert row[6:9] == [str(d["open"]), str(d["overdue"]), str(d["callback_n"])]

    o = option(page, "demand-chart")  # open demands per department, the overdue part in red
    overdue, within = o["series"]
    assert (overdue["name"], within["name"]) == ("超期", "未超期") and overdue["type"] == within["type"] == "bar"
    assert o["categories"] == [cells[code][0] for code in ("g3", "g4", "g1", "g2", "g5")]
    assert overdue["data"] == [1, 1, 0, 0, 0] and within["data"] == [3, 3, 2, 2, 2]
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]  # the table scrolls
    screenshot(page, f"dashboard-{device}-demands")
