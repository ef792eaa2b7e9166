"""Test data: valid 统一社会信用代码, enterprises, events, surveys, workbooks."""
import io
import random
import uuid

from openpyxl import Workbook

from shared import messages
from shared.domain import USCC_CHARS, uscc_check_char


def uscc(rng=random):
    head = "91410" + "".join(rng.choice(USCC_CHARS) for _ in range(12))
    return head + uscc_check_char(head)


def enterprise(code=None, **attrs):
    return {"code": code or uscc(), "name": f"测试企业{uuid.uuid4().hex[:4]}", "scale": "small",
            "ownership": "private", "capital": "domestic", "township": "城关镇", "industry": "制造业", **attrs}


def snapshot(ent):
    return {k: ent[k] for k in ("code", "scale", "ownership", "capital", "township", "industry")}


def rating(department, level, indicator="general", weight=1.0, points=None):
    return {"department": department, "indicator": indicator, "weight": weight, "level": level,
            "points": (level - 1) * 25.0 if points is None else points}


def ratings_event(ent, ratings, period="2026Q4", channel="survey", nps=None, id_=None):
    source = id_ or uuid.uuid4().hex
    return messages.envelope(
        messages.RESPONSE_SUBMITTED if channel == "survey" else messages.VISIT_RECORDED,
        {"source_id": source, "channel": channel, "period": period, "enterprise": snapshot(ent),
         "ratings": ratings, "nps": nps}, id_=source)


def department_event(code, name):
    return messages.envelope(messages.DEPARTMENT_CHANGED, {"code": code, "name": name})


def xlsx(rows):
    """An .xlsx file (bytes) holding `rows` on its first sheet."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
