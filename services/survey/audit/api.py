"""The audit log (admin, read only): `GET /api/v1/audit` (filters, paged) and `GET /api/v1/audit.xlsx`.

There is no route that edits or deletes an entry, for anyone: PUT, PATCH and DELETE are 405.
"""
import io

from services.survey.audit.records import ACTIONS
from services.survey.audit.schemas import AuditExportQuerySchema, AuditListSchema, AuditQuerySchema
from services.survey.web import services
from shared.domain import local_time, utcnow
from shared.keys import require
from shared.paging import paged, window
from shared.web import XLSX, Blueprint, download
from shared.xlsx_stream import BOLD, SheetWriter

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Audit log (审计日志, admin, append-only)")
COLUMNS = (("时间", 20), ("操作", 12), ("对象", 36), ("操作人", 16), ("角色", 10), ("密钥编号", 18), ("理由/说明", 40),
           ("详情", 50))


@blp.route("/audit", methods=["GET"])
@require("admin")
@blp.arguments(AuditQuerySchema, location="query")
@blp.response(200, AuditListSchema)
def list_(query):
    """Audit entries, newest first, filtered by action, actor (key id or name), target and time (from, to)."""
    entries, total = services().audit.page(query, *window(query))
    return paged("entries", entries, total, query)


@blp.route("/audit.xlsx", methods=["GET"])
@require("admin")
@blp.arguments(AuditExportQuerySchema, location="query")
@blp.response(200, description="审计日志 as an .xlsx workbook, one row per entry, with the list's filters")
def export(query):
    """The audit log as .xlsx (every entry matching the filters; cells neutralised by shared.sheets.cell)."""
    now, buffer = utcnow(), io.BytesIO()
    with SheetWriter(buffer, "审计日志", [w for _, w in COLUMNS], header_row=2) as sheet:
        sheet.append([f"审计日志（导出于 {local_time(now)}）"], style=BOLD)
        sheet.append([title for title, _ in COLUMNS], style=BOLD)
        for e in services().audit.all(query):
            actor = e.get("actor") or {}
            details = "；".join(f"{k}：{v}" for k, v in (e.get("details") or {}).items())
            sheet.append([local_time(e["at"]), ACTIONS.get(e["action"], e["action"]), e.get("target"),
                          actor.get("name"), actor.get("role"), actor.get("key"), e.get("why"), details])
    return download(buffer.getvalue(), XLSX, f"审计日志-{now:%Y%m%d}.xlsx", f"audit-{now:%Y%m%d}.xlsx")
