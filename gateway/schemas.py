"""Bodies of the gateway's API (DESIGN §6): the single source of truth for its OpenAPI document."""
from marshmallow import Schema, fields, validate

from shared.domain import PERIOD_RE

Interval = fields.List(fields.Float(), allow_none=True, metadata={"description": "[low, high]; null when n < 2 or suppressed"})


class PeriodQuerySchema(Schema):
    period = fields.String(required=True, validate=validate.Regexp(PERIOD_RE, error="a quarter YYYYQn"))




class DepartmentIndexSchema(Schema):
    code = fields.String()
    name = fields.String()
    n = fields.Integer(metadata={"description": "enterprises that rated the department"})
    index = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    ci95 = Interval
    levels = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    satisfied_rate = fields.Float(allow_none=True)
    bad_rate = fields.Float(allow_none=True)
    rank = fields.Integer(allow_none=True)
    laggard = fields.Boolean(metadata={"description": "落后单位"})
    suppressed = fields.Boolean()


class IndicesSchema(Schema):
    period = fields.String()
    min_n = fields.Integer()
    departments = fields.List(fields.Nested(DepartmentIndexSchema))


class IndicatorIndexSchema(Schema):
    indicator = fields.String()
    n = fields.Integer()
    index = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    ci95 = Interval
    suppressed = fields.Boolean()


class DepartmentDetailSchema(DepartmentIndexSchema):
    period = fields.String()
    indicators = fields.List(fields.Nested(IndicatorIndexSchema))
    channels = fields.Dict(keys=fields.String(), values=fields.Integer())


class PeriodsSchema(Schema):
    periods = fields.List(fields.String())
