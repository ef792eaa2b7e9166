"""企业名录: search and page the register, view and edit one enterprise, import a list (all-or-nothing)."""
import re

from flask import abort, redirect, request, url_for
from marshmallow import ValidationError

from services.survey.console.web import for_roles, page, render
from services.survey.enterprises import importing
from services.survey.enterprises.schemas import EnterpriseSchema
from services.survey.enterprises.store import FIELDS
from services.survey.web import services
from shared.domain import CAPITALS, OWNERSHIPS, SCALES, utcnow

PER_PAGE = 50
CHOICES = {"scale": SCALES, "ownership": OWNERSHIPS, "capital": CAPITALS}


@page.get("/enterprises")
@for_roles("admin")
def enterprises():
    q = request.args.get("q", "").strip()
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    found, total = services().enterprises.search(re.escape(q), (page_no - 1) * PER_PAGE, PER_PAGE)
    return render("enterprises.html", enterprises=found, q=q, total=total, page_no=page_no,
                  pages=max((total + PER_PAGE - 1) // PER_PAGE, 1))


@page.get("/enterprises/<code>")
@for_roles("admin")
def enterprise(code, errors=None, values=None, status=200):
    stored = services().enterprises.get(code)
    if stored is None:
        abort(404)
    return render("enterprise.html", enterprise={**stored, **(values or {})}, stored_name=stored["name"],
                  errors=errors or {}, choices=CHOICES, saved=request.args.get("saved")), status


@page.post("/enterprises/<code>")
@for_roles("admin")
def enterprise_save(code):
    if services().enterprises.get(code) is None:
        abort(404)
    values = {f: request.form.get(f, "").strip() for f in FIELDS} | {"code": code}
    try:
        body = EnterpriseSchema().load(values)
    except ValidationError as invalid:
        return enterprise(code, errors=invalid.messages, values=values, status=400)
    services().enterprises.save(body, utcnow())  # as POST /api/v1/enterprises does
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
        imported = importing.import_file(services(), upload.filename, upload.read())
    except importing.ImportRefused as refused:
        return render("enterprise_import.html", refused=refused, imported=None, rows=rows_of(refused.errors),
                      filename=upload.filename), 400
    return render("enterprise_import.html", refused=None, imported=imported, filename=upload.filename)


def rows_of(errors):
    """The refusal as table rows: (where, field, 中文 reason), rows in the file's order."""
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
