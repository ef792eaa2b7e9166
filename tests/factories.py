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


def exclusion_event(ratings_message, indices=None, version=1, exclusion_id="x1"):
    """`rating.excluded` (version 1) or `rating.restored` (version 2) of ratings of a ratings event, as the
    survey service's exclusions use case publishes them; `indices` None: the whole answer or visit."""
    data = ratings_message["data"]
    named = [{"index": i, "question": r.get("question"), "department": r["department"]}
             for i, r in enumerate(data["ratings"]) if indices is None or i in indices]
    type_ = messages.RATING_EXCLUDED if version == 1 else messages.RATING_RESTORED
    return messages.envelope(type_, {
        "exclusion_id": exclusion_id, "version": version, "active": version == 1, "target": f"test:{data['source_id']}",
        "source_id": data["source_id"], "channel": data["channel"], "period": data["period"],
        "enterprise": data["enterprise"]["code"], "whole": indices is None, "ratings": named,
        "departments": sorted({r["department"] for r in named}), "appeal": None},
        id_=f"exclusion-{exclusion_id}-{version}")
