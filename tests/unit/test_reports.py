"""The report workbook builder (gateway/reports.py): numbers stay numbers, titles stay legal; the
诉求办理 sheet (gateway/demands.py) against figures computed by hand."""
import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from gateway.demands import demand_sheet
from gateway.reports import COUNT, INDEX, RATE, Sheet, build_report, sheet_title
from shared.demand_figures import demand_stats


def test_numbers_are_written_as_numbers_with_display_formats():
    sheet = Sheet("排名", [("单位名称", None), ("满意度指数", INDEX), ("满意率", RATE)],
                  [["县税务局", 78.61111111111111, 0.9583333333333334], ["县供电公司", None, None]], marked=(1,))
    wb = load_workbook(io.BytesIO(build_report([sheet])))
    ws = wb["排名"]
    assert [c.value for c in ws[1]] == ["单位名称", "满意度指数", "满意率"]
    assert ws["B2"].value == 78.61111111111111 and ws["B2"].number_format == INDEX  # unrounded
    assert ws["C2"].value == 0.9583333333333334 and ws["C2"].number_format == RATE
    assert ws["B3"].value is None and ws["A3"].fill.fgColor.rgb.endswith("FDE2E1")  # the marked row
    assert ws.freeze_panes == "A2"


def test_sheet_titles_obey_excel_limits_and_stay_unique():
    taken = set()
    assert sheet_title("指标 a/b:c", taken) == "指标 a_b_c"
    long = "指标 " + "x" * 40
    first, second = sheet_title(long, taken), sheet_title(long, taken)
    assert len(first) == 31 and len(second) == 31 and first != second and second.endswith("~2")


T0 = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)


def state(department, status, assigned_after=None, resolved_after=None, callback=None):
    """A demand state received at T0 with a 7-day deadline from its assignment."""
    deadline = T0 + assigned_after + 7 * D if assigned_after is not None else None
    return {"department": department, "status": status, "received_at": T0, "deadline": deadline,
            "first_assigned_at": T0 + assigned_after if assigned_after is not None else None,
            "first_resolved_at": T0 + resolved_after if resolved_after is not None else None,
            "first_resolution_deadline": deadline if resolved_after is not None else None, "callback_level": callback}


class CountyFigures:
    """Stands in for gateway.figures.Figures: the two reads the sheet makes, the demands held in memory."""

    def period(self, period):
        return {"departments": [{"code": "market", "name": "县市场监督管理局"}, {"code": "tax", "name": "县税务局"}]}

    def demands(self, period):
        states = [state("market", "closed", assigned_after=H, resolved_after=3 * D, callback=4),      # on time
                  state("market", "closed", assigned_after=2 * D, resolved_after=10 * D, callback=5),  # late
                  state("market", "assigned", assigned_after=H),                                       # overdue
                  state("tax", "received")]
        return demand_stats(states, ["market", "tax"], T0 + 20 * D, min_n=2)


def test_demand_sheet_cells_by_hand():
    wb = load_workbook(io.BytesIO(build_report([demand_sheet(CountyFigures(), "2026Q4")])))
    ws = wb["诉求办理"]
    assert [c.value for c in ws[1]] == ["单位代码", "单位名称", "受理诉求", "1日内交办", "已办结", "按时办结", "按时办结率",
                                        "未结案", "超期未结案", "回访数", "回访满意度指数", "说明"]
    assert [c.value for c in ws[2]] == ["market", "县市场监督管理局", 3, 2, 2, 1, 0.5, 1, 1, 2, (75 + 100) / 2, None]
    assert [c.value for c in ws[3]] == ["tax", "县税务局", 1, 0, 0, 0, None, 1, 0, 0, None, "样本不足"]
    assert (ws["C2"].number_format, ws["G2"].number_format, ws["K2"].number_format) == (COUNT, RATE, INDEX)
    assert ws["A2"].fill.fgColor.rgb.endswith("FDE2E1") and ws["A3"].fill.fgColor.rgb == "00000000"  # overdue marked


def test_the_report_prints_on_a4_fit_to_width_with_its_heading_and_sane_names():
    names = ["县市场监督管理局（食品药品安全）", "县自然资源和规划局"]
    sheet = Sheet("排名", [("单位名称", None), ("满意度指数", INDEX)] + [(f"列{n}", None) for n in range(8)],
                  [[n, 80.5] for n in names])
    ws = load_workbook(io.BytesIO(build_report([sheet], heading="企业满意度排名报告 2026Q4 · 生成时间 x"))).active
    assert [c.value for c in ws[1]][:2] == ["单位名称", "满意度指数"]  # the table still starts in row 1
    assert ws.column_dimensions["A"].width >= 2 * len(names[0])
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.page_setup.fitToWidth == 1 and ws.print_title_rows == "$1:$1"
    assert "2026Q4" in ws.oddHeader.center.text


def test_downloads_have_an_ascii_fallback_name():
    from shared.sheets import content_disposition
    value = content_disposition("满意度排名-2026Q4.xlsx", "ranking-2026Q4.xlsx")
    assert value.startswith('attachment; filename="ranking-2026Q4.xlsx"; ')
    assert "filename*=UTF-8''%E6%BB%A1" in value


def test_raw_answer_cells_are_never_formulas():
    from shared.sheets import cell
    assert cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")" and cell(5) == 5 and cell("意见\x07") == "意见"
