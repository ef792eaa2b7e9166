"""Bodies of the departments API."""
from marshmallow import Schema, fields, validate

from shared.fields import CODE, StrictSchema


class DepartmentSchema(StrictSchema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=validate.Length(1, 100))


class DepartmentListSchema(Schema):
    departments = fields.List(fields.Nested(DepartmentSchema))
