from flask import Response
from flask_smorest import Blueprint, abort

from services.survey.enterprises import importing as enterprise_import
from services.survey.schemas import EnterpriseListSchema, EnterpriseSchema, ImportedSchema, UploadSchema
from services.survey.web import accepts_upload, services
from shared.domain import utcnow
from shared.keys import require
from shared.paging import PageArgsSchema, paged, window

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1", description="Enterprises (企业)")


def enterprise_out(doc):
    return {k: doc[k] for k in ("name", "scale", "ownership", "capital", "township", "industry")} | {"code": doc["_id"]}


@blp.route("/enterprises", methods=["POST"])
@require("admin")
@blp.arguments(EnterpriseSchema)
@blp.response(201, EnterpriseSchema)
@blp.alt_response(200, schema=EnterpriseSchema, description="the enterprise existed and was updated")
def upsert(body):
    """Create an enterprise, or update it when its 统一社会信用代码 exists (201 created, 200 updated)."""
    fields = {k: v for k, v in body.items() if k != "code"}
    result = services().store.enterprises.update_one(
        {"_id": body["code"]}, {"$set": {**fields, "updated_at": utcnow()}}, upsert=True)
    return body, 201 if result.upserted_id is not None else 200


@blp.route("/enterprises", methods=["GET"])
@require("admin", "cadre")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, EnterpriseListSchema)
def list_(query):
    """Enterprises by code, a page at a time (`page`, `per_page`; `total` and a `Link` header say what is left)."""
    store = services().store
    skip, limit = window(query)
    docs = store.enterprises.find({}).sort("_id", 1).skip(skip).limit(limit)
    return paged("enterprises", [enterprise_out(d) for d in docs], store.enterprises.count_documents({}), query)


@blp.route("/enterprises/<code>", methods=["GET"])
@require("admin", "cadre")
@blp.response(200, EnterpriseSchema)
def get(code):
    doc = services().store.enterprises.find_one({"_id": code})
    if doc is None:
        abort(404, message=f"no enterprise {code}")
    return enterprise_out(doc)


@blp.route("/enterprises/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(200, ImportedSchema)
def import_(files):
    """Import an enterprise list (.xlsx or .csv, Chinese or English headers).

    All-or-nothing: 400 names every bad row and field, or 200 with the counts."""
    upload = files["file"]
    try:
        enterprises = enterprise_import.parse(upload.filename, upload.read())
    except enterprise_import.ImportRefused as refused:
        abort(400, message=refused.message, errors=refused.errors)
    store = services().store
    return enterprise_import.write(store.client, store.enterprises, enterprises, utcnow())


@blp.route("/enterprises/import-template.xlsx", methods=["GET"])
@require("admin")
@blp.response(200, content_type=XLSX)
def import_template():
    """The import template: the Chinese header, an example row and a sheet of allowed values."""
    return Response(enterprise_import.template(), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=enterprise-import-template.xlsx"})
