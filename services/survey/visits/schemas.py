"""Bodies of `POST /api/v1/visits` (DESIGN §4): validation and the OpenAPI document."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from services.survey.demands.schemas import TEXT
from shared.domain import BAD_RATING, URGENCIES
from shared.fields import CODE, FullMatch, StrictSchema


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
