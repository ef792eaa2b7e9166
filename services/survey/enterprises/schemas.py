"""Bodies of the enterprises API."""
from marshmallow import Schema, ValidationError, fields, validate, validates

from shared.domain import CAPITALS, OWNERSHIPS, SCALES, uscc_is_valid
from shared.fields import StrictSchema
from shared.paging import PageFieldsSchema


class EnterpriseSchema(StrictSchema):
    code = fields.String(required=True, metadata={"description": "统一社会信用代码 (GB 32100-2015)"})
    name = fields.String(required=True, validate=validate.Length(1, 200))
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    ownership = fields.String(required=True, validate=validate.OneOf(OWNERSHIPS))
    capital = fields.String(required=True, validate=validate.OneOf(CAPITALS))
    township = fields.String(required=True, validate=validate.Length(1, 100))
    industry = fields.String(required=True, validate=validate.Length(1, 100))

    @validates("code")
    def check_digit(self, value, **kwargs):
        if not uscc_is_valid(value):
            raise ValidationError("not a valid 统一社会信用代码: wrong length, character or check digit")


class EnterpriseListSchema(PageFieldsSchema):
    enterprises = fields.List(fields.Nested(EnterpriseSchema))


class ImportedSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
