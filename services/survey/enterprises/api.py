
from services.survey.enterprises import importing
from services.survey.enterprises.schemas import EnterpriseListSchema, EnterpriseSchema, ImportedSchema
from services.survey.web import UploadSchema, accepts_upload, services
from shared.domain import utcnow
from shared.errors import NotFound, pair
from shared.keys import require
from shared.paging import PageArgsSchema, paged, window
from shared.web import XLSX, Blueprint, download

blp = Blueprint("enterprises", __name__, url_prefix="/api/v1", description="Enterprises (企业)")


@blp.route("/enterprises", methods=["POST"])
@require("admin")
@blp.arguments(EnterpriseSchema)
@blp.response(201, EnterpriseSchema)
@blp.alt_response(200, schema=EnterpriseSchema, description="the enterprise existed and was updated")
def upsert(body):
    """Create an enterprise, or update it when its 统一社会信用代码 exists (201 created, 200 updated)."""
    created = services().enterprises.save(body, utcnow())
    return body, 201 if created else 200


@blp.route("/enterprises", methods=["GET"])
@require("admin", "cadre")
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, EnterpriseListSchema)
def list_(query):
    """Enterprises by code, a page at a time (`page`, `per_page`; `total` and a `Link` header say what is left)."""
    enterprises, total = services().enterprises.search(None, *window(query))
    return paged("enterprises", enterprises, total, query)


@blp.route("/enterprises/<code>", methods=["GET"])
@require("admin", "cadre")
@blp.response(200, EnterpriseSchema)
def get(code):
    enterprise = services().enterprises.get(code)
    if enterprise is None:
        raise NotFound(f"no enterprise {code}", {"code": pair("未知企业", "unknown enterprise")})
    return enterprise


@blp.route("/enterprises/import", methods=["POST"])
@require("admin")
@accepts_upload
@blp.arguments(UploadSchema, location="files")
@blp.response(200, ImportedSchema)
def import_(files):
    """Import an enterprise list (.xlsx or .csv, Chinese or English headers).

    All-or-nothing: 400 names every bad row and field, or 200 with the counts."""
    upload = files["file"]
    return importing.import_file(services(), upload.filename, upload.read())


@blp.route("/enterprises/import-template.xlsx", methods=["GET"])
@require("admin")
@blp.response(200, content_type=XLSX)
def import_template():
    """The import template: the Chinese header, an example row and a sheet of allowed values."""
    return download(importing.template(), XLSX, "enterprise-import-template.xlsx")
