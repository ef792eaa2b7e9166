"""The ranking report for the 三挂钩 meeting: `GET /api/v1/reports/{period}.xlsx`.

Every figure is written as a number (unrounded, formatted for display), never as text. The
workbook is built from the same cached figures the JSON API serves, so the two always agree.
Extra sheets (the demand figures of gateway/demands.py) come in through
`GatewayServices.report_sheets`: callables `(figures, period) → Sheet`.
"""
import io
import re
from copy import copy
from dataclasses import dataclass
from itertools import chain, repeat

from flask import current_app, request
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from gateway.api import READERS, reading
from gateway.labels import ATTRIBUTE_NAMES, VALUE_NAMES
from shared.domain import SEGMENT_ATTRIBUTES, is_read_period
from shared.errors import Invalid, pair
from shared.exports import safe_row
from shared.keys import require
from shared.sheets import generated_at, print_setup
from shared.web import XLSX, Blueprint, download

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Ranking report (portal, admin)")
INDEX, RATE, COUNT = "0.00", "0.0%", "0"
SUPPRESSED = "样本不足"
LAGGARD_FILL = PatternFill("solid", fgColor="FDE2E1")
BOLD = Font(bold=True)


@dataclass
class Sheet:
    title: str
    columns: list  # [(header, number format or None)]
    rows: list     # lists of cell values, in column order
    marked: tuple = ()  # indices of rows to highlight (落后单位, departments with overdue demands)


def bounds(ci95):
    return (ci95[0], ci95[1]) if ci95 else (None, None)


def yes_no(flag):
    return None if flag is None else ("是" if flag else "否")


def excluded_note(excluded):
    """"经复核剔除 N 条" beside a department's figures, so a leader sees the ranking was not quietly edited."""
    return None if excluded is None else f"经复核剔除 {excluded} 条"


def ranking_sheet(figs, period):
    entries = sorted(figs.period(period)["departments"],
                     key=lambda e: (e["rank"] is None, e["rank"] or 0, e["code"]))
    rows, marked = [], []
    changes = figs.changes(period)
    for entry in entries:
        change = changes[entry["code"]]
        if entry["laggard"]:
            marked.append(len(rows))
        rows.append([entry["rank"], entry["code"], entry["name"], entry["index"], *bounds(entry["ci95"]), entry["n"],
                     entry["satisfied_rate"], entry["bad_rate"], change["change"], yes_no(change["change_significant"]),
                     "落后单位" if entry["laggard"] else None, SUPPRESSED if entry["suppressed"] else None,
                     excluded_note(entry.get("excluded"))])
    columns = [("排名", COUNT), ("单位代码", None), ("单位名称", None), ("满意度指数", INDEX), ("95%区间下限", INDEX),
               ("95%区间上限", INDEX), ("样本企业数", COUNT), ("满意率", RATE), ("差评率", RATE), ("较上期变化", INDEX),
               ("变化是否显著", None), ("落后单位", None), ("说明", None), ("复核剔除", None)]
    return Sheet("排名", columns, rows, tuple(marked))


def indicator_sheets(figs, period):
    by_indicator = {}
    for entry in figs.period(period)["departments"]:
        for ind in figs.department(period, entry["code"])["indicators"]:
            by_indicator.setdefault(ind["indicator"], []).append(
                [entry["code"], entry["name"], ind["n"], ind["index"], *bounds(ind["ci95"]),
                 SUPPRESSED if ind["suppressed"] else None])
    columns = [("单位代码", None), ("单位名称", None), ("样本企业数", COUNT), ("指标指数", INDEX), ("95%区间下限", INDEX),
               ("95%区间上限", INDEX), ("说明", None)]
    return [Sheet(f"指标 {indicator}", columns, rows) for indicator, rows in sorted(by_indicator.items())]


def gap_sheet(figs, period):
    rows = []
    for attribute in SEGMENT_ATTRIBUTES:
        for d in figs.gaps(period, attribute):
            gap = d["gap"]
            rows.append([ATTRIBUTE_NAMES[attribute], d["code"], d["name"], d["rank"], gap["value"],
                         VALUE_NAMES.get(gap["high"], gap["high"]), VALUE_NAMES.get(gap["low"], gap["low"]),
                         *bounds(gap["ci95"]), yes_no(d["significant"] if gap["value"] is not None else None),
                         None if gap["value"] is not None else "可比分群不足两个"])
    columns = [("分群维度", None), ("单位代码", None), ("单位名称", None), ("差距排名", COUNT), ("差距（最高−最低）", INDEX),
               ("最高分群", None), ("最低分群", None), ("95%区间下限", INDEX), ("95%区间上限", INDEX),
               ("差距是否显著", None), ("说明", None)]
    return Sheet("分群差距", columns, rows)


def segment_sheet(figs, period):
    rows = []
    for attribute in SEGMENT_ATTRIBUTES:
        for entry in figs.period(period)["departments"]:
            for s in figs.segments(period, entry["code"], attribute)["segments"]:
                rows.append([ATTRIBUTE_NAMES[attribute], entry["code"], entry["name"], VALUE_NAMES.get(s["value"], s["value"]),
                             s["n"], s["index"], *bounds(s["ci95"]), SUPPRESSED if s["suppressed"] else None])
    columns = [("分群维度", None), ("单位代码", None), ("单位名称", None), ("分群", None), ("样本企业数", COUNT),
               ("分群指数", INDEX), ("95%区间下限", INDEX), ("95%区间上限", INDEX), ("说明", None)]
    return Sheet("分群指数", columns, rows)


def sheet_title(title, taken):
    """Excel's limits: at most 31 characters, none of : \\ / ? * [ ], unique in the workbook."""
    base = re.sub(r"[:\\/?*\[\]\x00-\x1f\x7f]", "_", title).strip("'")[:31] or "_"
    name, i = base, 2
    while name in taken:
        suffix = f"~{i}"
        name, i = base[:31 - len(suffix)] + suffix, i + 1
    taken.add(name)
    return name


def build_report(sheets, heading=None):
    """An .xlsx workbook (bytes) with one worksheet per Sheet, headers bold and frozen, ready to print: A4
    (landscape when wide), fit to the page's width, the header row on every page, columns as wide as their
    contents, and `heading` (the period and generation time) atop every printed page. The table itself still
    starts in row 1, as scripts that read the report expect.

    Written in openpyxl's write-only mode: rows are streamed out as they are appended, styled before,
    so the time grows with the number of cells only (the ranking report at 300 departments has ~10^5).
    """
    wb = Workbook(write_only=True)
    taken, styles = set(), {}
    for sheet in sheets:
        ws = wb.create_sheet(sheet_title(sheet.title, taken))
        print_setup(ws, [column_width(header, [row[n] for row in sheet.rows if n < len(row)])
                         for n, (header, _) in enumerate(sheet.columns)], header_row=1)
        if heading:
            ws.oddHeader.center.text = f"{heading} · {sheet.title}"
            ws.oddFooter.center.text = "第 &P 页，共 &N 页"
        ws.append([styled(ws, header, font=BOLD, styles=styles) for header, _ in sheet.columns])
        marked = set(sheet.marked)
        for i, row in enumerate(sheet.rows):
            fill = LAGGARD_FILL if i in marked else None
            ws.append([styled(ws, value, fmt, fill=fill, styles=styles)
                       for (_, fmt), value in zip(chain(sheet.columns, repeat((None, None))), safe_row(row))])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def styled(ws, value, fmt=None, font=None, fill=None, styles=None):
    """A cell with its number format, font and fill. `styles` ({(fmt, font, fill): style} of one workbook): each
    combination is worked out once and copied (setting them cell by cell was a third of a large report's time)."""
    cell = WriteOnlyCell(ws, value=value)
    if not (fmt or font or fill):
        return cell
    key = (fmt, id(font), id(fill))
    if styles is not None and key in styles:
        cell._style = copy(styles[key])
        return cell
    if fmt:
        cell.number_format = fmt
    if font:
        cell.font = font
    if fill:
        cell.fill = fill
    if styles is not None:
        styles[key] = copy(cell._style)
    return cell


def column_width(header, values):
    """Wide enough for the header and the longest value (a Chinese character takes two widths), within 8–40."""
    def width(value):
        text = f"{value:.2f}" if isinstance(value, float) else str(value if value is not None else "")
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return min(40, max(8, width(header) + 2, *(width(v) + 2 for v in values)))


def period_report(figs, period, extra_sheets=()):
    sheets = [ranking_sheet(figs, period), *indicator_sheets(figs, period), gap_sheet(figs, period),
              segment_sheet(figs, period)]
    return build_report([*sheets, *(make(figs, period) for make in extra_sheets)],
                        heading=f"企业满意度排名报告 {period} · 生成时间 {generated_at()}（北京时间）")


def which(mark):
    """What the workbook holds, for its file name: a release (通报) is named; live figures keep the old name."""
    return f"-第{mark['release']}次通报" if mark["released"] else ""


@blp.route("/reports/<period>.xlsx", methods=["GET"])
@require(*READERS)
@blp.doc(responses={"200": {"description": "排名、分指标、分群差距、分群指数与诉求办理（Excel）",
                             "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
         parameters=[{"in": "query", "name": "release", "required": False, "schema": {"type": "integer", "minimum": 1},
                      "description": "an earlier release (通报) of the period; by default the latest. Portal keys "
                                     "read releases only (protected alike); an admin key without it, the live figures"}])
def report(period):
    """The ranking report of a period as an Excel workbook (Chinese headers, numbers as numbers); its file name
    says which release it holds (满意度排名-2026Q4-第1次通报.xlsx); an admin's live figures keep the plain name."""
    if not is_read_period(period):
        raise Invalid("period must be a quarter YYYYQn or a year YYYY",
                      {"period": pair("应为季度或年度，如 2026Q4、2026", "a quarter YYYYQn or a year YYYY")})
    figs, mark = reading(period, request.args.get("release", type=int))
    data = period_report(figs, period, current_app.extensions["manyi"].report_sheets)
    response = download(data, XLSX, f"满意度排名-{period}{which(mark)}.xlsx", f"ranking-{period}{which(mark)}.xlsx")
    response.headers["Cache-Control"] = "private, no-store"
    return response
