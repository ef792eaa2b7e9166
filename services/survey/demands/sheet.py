"""The ledger as a workbook (问题台账): one row per demand with its history; overdue rows in red."""
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from services.survey.demands.rules import CLOSURES
from shared.domain import local_time
from shared.exports import safe_row

STATUS_ZH = {"received": "已受理", "assigned": "已交办", "resolved": "已办结", "closed": "已销号"}
ACTION_ZH = {"receive": "受理", "assign": "交办", "progress": "进展", "resolve": "办结", "callback": "回访",
             "appeal": "申诉", "appeal_upheld": "申诉成立", "appeal_rejected": "申诉驳回"}
URGENCY_ZH = {"ordinary": "一般", "major": "重大"}
CATEGORY_ZH = {"bad_rating": "差评整改"}
COLUMNS = [("编号", 34), ("责任单位", 22), ("类别", 12), ("紧急程度", 8), ("诉求内容", 50), ("企业", 36), ("状态", 8),
           ("受理时间", 17), ("办结时限", 17), ("办结时间", 17), ("办理结果", 40), ("回访评价", 8), ("是否逾期", 8),
           ("办理记录", 80)]
OVERDUE_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
OVERDUE_FONT = Font(color="9C0006")


def status_text(demand):
    """已销号（申诉成立） for a 差评 closed by an upheld appeal; 申诉中 beside the status while one is pending."""
    text = STATUS_ZH[demand["status"]]
    if demand.get("closure") in CLOSURES:
        return f"{text}（{CLOSURES[demand['closure']]}）"
    return f"{text}（申诉中）" if demand.get("appeal_pending") else text


def history_text(history, department_names):
    lines = []
    for h in history:
        to = department_names.get(h.get("department"), h.get("department") or "")
        detail = h.get("note") or h.get("resolution") or (f"{h['level']} 级" if "level" in h else "") or \
            (f"{to} 时限 {local_time(h['deadline'])}" if h.get("deadline") else "")
        lines.append(f"{local_time(h['at'])} {ACTION_ZH.get(h['action'], h['action'])}（{h['by'].get('name') or h['by']['role']}）"
                     f"{'：' + detail if detail else ''}")
    return "\n".join(lines)


def ledger_workbook(demands, department_names, enterprise_names):
    book = Workbook()
    sheet = book.active
    sheet.title = "问题台账"
    sheet.append([name for name, _ in COLUMNS])
    for i, (_, width) in enumerate(COLUMNS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for d in demands:
        enterprise = d.get("enterprise") or ("匿名（企业未同意实名回访）" if d.get("anonymous") else "")
        sheet.append(safe_row([d["_id"], department_names.get(d["department"], d["department"]),
                      CATEGORY_ZH.get(d["category"], d["category"]), URGENCY_ZH.get(d["urgency"], d["urgency"]), d["text"],
                      f"{enterprise_names[enterprise]}（{enterprise}）" if enterprise in enterprise_names else enterprise,
                      status_text(d), local_time(d["received_at"]), local_time(d.get("deadline")),
                      local_time(d.get("resolved_at")), d.get("resolution") or "", d.get("callback_level") or "",
                      "是" if d["overdue"] else "否", history_text(d["history"], department_names)]))
        for cell in sheet[sheet.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if d["overdue"]:
                cell.fill, cell.font = OVERDUE_FILL, OVERDUE_FONT
    return book
