"""企业名录: search and page the list, view and edit one enterprise, import a list (all-or-nothing)."""
import re

from flask import abort, redirect, request, url_for
from marshmallow import ValidationError

from services.survey.console.web import for_roles, page, render, store
from services.survey.enterprises import api as enterprises_api
from services.survey.enterprises import importing
from services.survey.schemas import EnterpriseSchema
from shared.domain import CAPITALS, OWNERSHIPS, SCALES

PER_PAGE = 50
CHOICES = {"scale": SCALES, "ownership": OWNERSHIPS, "capital": CAPITALS}


@page.get("/enterprises")
@for_roles("admin")
def enterprises():
    q = request.args.get("q", "").strip()
    found = {}
    if q:
        pattern = {"$regex": re.escape(q), "$options": "i"}
        found = {"$or": [{"_id": pattern}, {"name": pattern}, {"township": pattern}, {"industry": pattern}]}
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    total = store().enterprises.count_documents(found)
    rows = store().enterprises.find(found).sort("_id", 1).skip((page_no - 1) * PER_PAGE).limit(PER_PAGE)
    return render("enterprises.html", enterprises=list(rows), q=q, total=total, page_no=page_no,
                  pages=max((total + PER_PAGE - 1) // PER_PAGE, 1))


@page.get("/enterprises/<code>")
@for_roles("admin")
def enterprise(code, errors=None, values=None, status=200):
    doc = store().enterprises.find_one({"_id": code})
    if doc is None:
        abort(404)
    return render("enterprise.html", enterprise={**enterprises_api.enterprise_out(doc), **(values or {})},
                  stored_name=doc["name"],
                  errors=errors or {}, choices=CHOICES, saved=request.args.get("saved")), status


@page.post("/enterprises/<code>")
@for_roles("admin")
def enterprise_save(code):
    if store().enterprises.find_one({"_id": code}, {"_id": 1}) is None:
        abort(404)
    values = {f: request.form.get(f, "").strip() for f in importing.FIELDS if f != "code"} | {"code": code}
    try:
        body = EnterpriseSchema().load(values)
    except ValidationError as invalid:
        return enterprise(code, errors=invalid.messages, values=values, status=400)
    enterprises_api.save(store(), body)
    return redirect(url_for("console.enterprise", code=code, saved=1), 303)


@page.get("/enterprises/import")
@for_roles("admin")
def enterprise_import():
    return render("enterprise_import.html", refused=None, imported=None)


@page.post("/enterprises/import")
@for_roles("admin")
def enterprise_import_post():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        refused = importing.ImportRefused("no file", {"file": ["请选择文件", "choose a file"]})
        return render("enterprise_import.html", refused=refused, imported=None), 400
    try:
        imported = enterprises_api.import_file(store(), upload.filename, upload.read())
    except importing.ImportRefused as refused:
        return render("enterprise_import.html", refused=refused, imported=None, rows=rows_of(refused.errors),
                      filename=upload.filename), 400
    return render("enterprise_import.html", refused=None, imported=imported, filename=upload.filename)


def rows_of(errors):
    """The refusal as table rows: (row, field, 中文 reason), rows in the file's order."""
    def order(item):
        label = item[0]
        return (0, int(label.split()[1])) if label.startswith("row ") else (-1, 0)
    rows = []
    for label, problem in sorted(errors.items(), key=order):
        where = f"第 {label.split()[1]} 行" if label.startswith("row ") else {"file": "文件", "header": "表头"}.get(label, label)
        if isinstance(problem, dict):
            rows += [(where, importing.HEADER_OF.get(f, f), p[0]) for f, p in problem.items()]
        else:
            rows.append((where, "", problem[0]))
    return rows
