from flask import Response
from flask_smorest import Blueprint, abort

from services.survey.enterprises import importing as enterprise_import
from services.survey.schemas import EnterpriseListSchema, EnterpriseSchema, ImportedSchema, UploadSchema
from services.survey.web import accepts_upload, services
from shared.domain import utcnow
from shared.keys import require

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
    return body, 201 if save(services().store, body) else 200


def save(store, enterprise):
    """Create or update one enterprise (a checked EnterpriseSchema body); True when it was new."""
    fields = {k: v for k, v in enterprise.items() if k != "code"}
    result = store.enterprises.update_one({"_id": enterprise["code"]}, {"$set": {**fields, "updated_at": utcnow()}},
                                          upsert=True)
    return result.upserted_id is not None


def import_file(store, filename, content):
    """An Excel/CSV list, all-or-nothing: {"created", "updated"}, or ImportRefused naming every bad row."""
    enterprises = enterprise_import.parse(filename, content)
    return enterprise_import.write(store.client, store.enterprises, enterprises, utcnow())


@blp.route("/enterprises", methods=["GET"])
@require("admin", "cadre")
@blp.response(200, EnterpriseListSchema)
def list_():
    """All enterprises, by code."""
    return {"enterprises": [enterprise_out(d) for d in services().store.enterprises.find({}).sort("_id", 1)]}


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
        return import_file(services().store, upload.filename, upload.read())
    except enterprise_import.ImportRefused as refused:
        abort(400, message=refused.message, errors=refused.errors)


@blp.route("/enterprises/import-template.xlsx", methods=["GET"])
@require("admin")
@blp.response(200, content_type=XLSX)
def import_template():
    """The import template: the Chinese header, an example row and a sheet of allowed values."""
    return Response(enterprise_import.template(), mimetype=XLSX,
                    headers={"Content-Disposition": "attachment; filename=enterprise-import-template.xlsx"})
