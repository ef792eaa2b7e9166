"""The report workbook builder (gateway/reports.py): numbers stay numbers, titles stay legal."""
import io

from openpyxl import load_workbook

from gateway.reports import INDEX, RATE, Sheet, build_report, sheet_title


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
