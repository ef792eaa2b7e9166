"""The leader dashboard in Debian's headless Chromium, at a laptop and a phone viewport.

Log in with a key, switch period, drill into a 落后单位, read the charts through ECharts' own
instance API, export the report; screenshots land in tests/e2e/screenshots/ for a person to look at.
"""
import io

import pytest
from openpyxl import load_workbook

from tests.e2e.conftest import screenshot
from tests.e2e.leaders import PERIODS, seed
from tests.harness import poll

pytestmark = pytest.mark.e2e
Q2, Q3 = PERIODS


@pytest.fixture(scope="module")
def county(system):
    config, _, api, gw = system
    seed(config, api)
    return {p: poll(lambda: settled(gw, config.admin_key, p), 30, 0.3, f"{p} settled") for p in PERIODS}


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
    page.wait_for_selector("#ranking-chart canvas")


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
    assert [x for w in whiskers["data"] for x in w[1:]] == pytest.approx([x for d in ranked for x in d["ci95"]], abs=1e-9)
    suppressed = [d for d in figures["departments"] if d["suppressed"]]
    for d in suppressed:
        assert "样本不足" in page.locator(f"tr[data-code={d['code']}]").inner_text()
    return ranked


@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_dashboard_log_in_switch_period_drill_down_export(system, county, device, request, tmp_path):
    config, procs, _, _ = system
    page = request.getfixturevalue(device)
    page.goto(procs.gateway_url + "/dashboard")
    screenshot(page, f"dashboard-{device}-login")
    log_in(page, procs.gateway_url, config.admin_key)
    page.wait_for_selector(f"body[data-period='{Q3}']")
    assert page.locator("#period").input_value() == Q3
    check_ranking(page, county[Q3])
    assert page.locator("#nps-value").is_visible()
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
