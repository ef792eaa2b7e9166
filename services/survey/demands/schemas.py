"""Bodies of visits and the demand ledger (DESIGN §4): validation and the OpenAPI document."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.survey.schemas import CODE, FullMatch, StrictSchema
from shared.domain import BAD_RATING, DEMAND_STATUSES, URGENCIES

TEXT = validate.Length(1, 2000)


class VisitRatingSchema(StrictSchema):
    department = fields.String(required=True, validate=CODE)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5),
                           metadata={"description": "5 非常满意 … 1 非常不满意; 1–2 opens a 差评 demand"})
    comment = fields.String(load_default=None, validate=TEXT)
    contact_ok = fields.Boolean(load_default=False, metadata={
        "description": "for a 1–2 rating: the enterprise agrees that the rated department may learn who it is and "
                       "contact it about the rectification (实名回访); false (default): anonymous to the department"})


class VisitDemandSchema(StrictSchema):
    department = fields.String(required=True, validate=CODE)
    category = fields.String(required=True, validate=validate.Length(1, 50),
                             metadata={"description": "e.g. 融资, 用工, 审批, 要素保障"})
    text = fields.String(required=True, validate=TEXT)
    urgency = fields.String(load_default="ordinary", validate=validate.OneOf(URGENCIES))

    @validates("category")
    def not_reserved(self, value, **kwargs):
        if value == BAD_RATING:
            raise ValidationError("bad_rating demands are opened by low ratings, not listed / 差评整改由评价自动生成")


class VisitSchema(StrictSchema):
    id = fields.String(load_default=None, validate=FullMatch(r"^[A-Za-z0-9-]{8,64}$"), metadata={
        "description": "optional, chosen by the client once per visit: a resend of the same visit is answered "
                       "with the same 202 instead of recording it twice"})
    enterprise = fields.String(required=True, metadata={"description": "统一社会信用代码"})
    visited_at = fields.AwareDateTime(required=True)
    ratings = fields.List(fields.Nested(VisitRatingSchema), load_default=list, validate=validate.Length(max=100))
    demands = fields.List(fields.Nested(VisitDemandSchema), load_default=list, validate=validate.Length(max=100))


class VisitAcceptedSchema(Schema):
    visit_id = fields.String()
    demand_ids = fields.List(fields.String(), metadata={"description": "the listed demands, in request order"})
    bad_rating_demand_ids = fields.List(fields.String(), metadata={"description": "差评 demands the ratings opened"})


class AssignSchema(StrictSchema):
    department = fields.String(required=True, validate=CODE)
    deadline = fields.AwareDateTime(load_default=None)


class ProgressNoteSchema(StrictSchema):
    note = fields.String(required=True, validate=TEXT)


class ResolveSchema(StrictSchema):
    resolution = fields.String(required=True, validate=TEXT)


class CallbackSchema(StrictSchema):
    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5),
                           metadata={"description": "3–5 closes the demand (销号); 1–2 reopens it"})
    comment = fields.String(load_default=None, validate=TEXT)


class DemandQuerySchema(Schema):
    department = fields.String(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(DEMAND_STATUSES))
    category = fields.String(load_default=None)
    overdue = fields.Boolean(load_default=None)
    sort = fields.String(load_default="deadline", validate=validate.OneOf(("deadline", "-deadline", "received_at",
                                                                            "-received_at")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class HistoryEntrySchema(Schema):
    action = fields.String()
    at = fields.DateTime()
    by = fields.Dict()
    status_from = fields.String(data_key="from", attribute="from", allow_none=True)
    status_to = fields.String(data_key="to", attribute="to")
    department = fields.String()
    deadline = fields.DateTime()
    note = fields.String()
    resolution = fields.String()
    level = fields.Integer()
    comment = fields.String()


class DemandSchema(Schema):
    id = fields.String(attribute="_id")
    department = fields.String()
    category = fields.String()
    urgency = fields.String()
    status = fields.String()
    text = fields.String()
    enterprise = fields.String(allow_none=True, metadata={
        "description": "统一社会信用代码; null for a department key on a 差评 whose enterprise did not consent"})
    contact_ok = fields.Boolean(metadata={"description": "差评 only: the enterprise agreed to be contacted (实名回访)"})
    anonymous = fields.Boolean(metadata={
        "description": "true when the enterprise's identity (code, response or visit id, exact times) is withheld "
                       "from this key: a department key reading a 差评 given without consent"})
    source = fields.Dict()
    period = fields.String()
    received_at = fields.DateTime()
    assigned_at = fields.DateTime(allow_none=True)
    deadline = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolution = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    callback_level = fields.Integer(allow_none=True)
    overdue = fields.Boolean()
    version = fields.Integer()
    history = fields.List(fields.Nested(HistoryEntrySchema))


class DemandListSchema(Schema):
    demands = fields.List(fields.Nested(DemandSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
