"""Bodies of the keys API."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain import ROLES
from shared.fields import StrictSchema
from shared.paging import PageFieldsSchema


class KeyCreateSchema(StrictSchema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    department = fields.String(load_default=None)
    expires_at = fields.AwareDateTime(load_default=None, metadata={"description": "optional; never by default"})

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
    expires_at = fields.DateTime(allow_none=True)


class KeySchema(Schema):
    """A key as the admin list shows it: everything but the key itself (only its digest is stored)."""
    id = fields.String()
    role = fields.String()
    name = fields.String()
    department = fields.String(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True, metadata={"description": "within a minute"})
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    revoked = fields.Boolean()


class KeyListSchema(PageFieldsSchema):
    keys = fields.List(fields.Nested(KeySchema))
