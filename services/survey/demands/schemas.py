"""Bodies of the demand ledger (DESIGN §4): validation and the OpenAPI document."""
from marshmallow import Schema, fields, validate

from shared.domain import DEMAND_STATUSES
from shared.fields import CODE, StrictSchema

TEXT = validate.Length(1, 2000)


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
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))  # skip() must fit in 8 bytes
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
    appeal = fields.String()


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
    overdue = fields.Boolean(metadata={"description": "open, past its deadline, and no appeal (申诉) pending"})
    appeal_pending = fields.Boolean(load_default=False, dump_default=False, metadata={
        "description": "差评 only: the department's appeal (申诉) awaits the administrator; not overdue meanwhile"})
    appeal = fields.String(allow_none=True, metadata={"description": "the id of the appeal of this 差评, if any"})
    closure = fields.String(allow_none=True, metadata={
        "description": "why a closed demand closed other than by a callback: appeal_upheld (申诉成立)"})
    version = fields.Integer()
    history = fields.List(fields.Nested(HistoryEntrySchema))


class DemandListSchema(Schema):
    demands = fields.List(fields.Nested(DemandSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
