"""Bodies of `POST /api/v1/responses`."""
from marshmallow import RAISE, Schema, fields, validate


class ResponseBodySchema(Schema):
    """`answers` maps question ids to values; each question's own rules are checked by forms.py."""
    class Meta:
        unknown = RAISE
    token = fields.String(required=True, validate=validate.Length(1, 200))
    answers = fields.Dict(keys=fields.String(), required=True)
    contact_ok = fields.Boolean(load_default=False, metadata={
        "description": "the enterprise agrees that a department it rated 1–2 (差评) may learn who it is and contact it "
                       "about the rectification (实名回访); false (default): the department sees the 差评 anonymously"})
    reasons = fields.Dict(keys=fields.String(), load_default=None, metadata={
        "description": "optional: why, for a rating of 1–2 ({question id: text ≤ 500}); the 差评 demand carries it"})


class ResponseAcceptedSchema(Schema):
    response_id = fields.String()
