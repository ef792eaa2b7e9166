"""Bodies of the keys API."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain import ROLES
from shared.fields import StrictSchema


class KeyCreateSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    department = fields.String(load_default=None)

    @validates_schema
    def department_for_department_role(self, data, **kwargs):
        if data["role"] == "department" and not data.get("department"):
            raise ValidationError("a department key needs its department code", "department")


class KeyCreatedSchema(Schema):
    id = fields.String()
    role = fields.String()
    name = fields.String()
    department = fields.String(allow_none=True)
    key = fields.String(metadata={"description": "shown only this once"})
