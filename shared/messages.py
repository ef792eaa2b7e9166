"""Schemas of every event on `manyi.events`: the envelope and each type's `data` (DESIGN §2).

Messages carry everything scoring needs (event-carried state), so scoring never reads the survey
service's database. Readers are tolerant of added fields (EXCLUDE) and strict on the ones they use.
"""
import json
import uuid

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from shared.domain import CAPITALS, CHANNELS, DEMAND_STATUSES, OWNERSHIPS, SCALES, URGENCIES, utcnow
from shared.fields import Period

SCHEMA_VERSION = 1

RESPONSE_SUBMITTED = "response.submitted"
VISIT_RECORDED = "visit.recorded"
DEMAND_UPDATED = "demand.updated"
DEPARTMENT_CHANGED = "department.changed"
DEMAND_OVERDUE = "demand.overdue"
SURVEY_OPENED = "survey.opened"
SURVEY_CLOSED = "survey.closed"
PERIOD_RELEASED = "period.released"
APPEAL_FILED = "appeal.filed"
APPEAL_DECIDED = "appeal.decided"
RATING_EXCLUDED = "rating.excluded"
RATING_RESTORED = "rating.restored"
TYPES = (RESPONSE_SUBMITTED, VISIT_RECORDED, DEMAND_UPDATED, DEPARTMENT_CHANGED, DEMAND_OVERDUE, SURVEY_OPENED,
         SURVEY_CLOSED, PERIOD_RELEASED, RATING_EXCLUDED, RATING_RESTORED, APPEAL_FILED, APPEAL_DECIDED)

class EnterpriseSnapshotSchema(Schema):
    """The enterprise's segment attributes as they were when it answered."""
    class Meta:
        unknown = EXCLUDE
    code = fields.String(required=True)
    scale = fields.String(required=True, validate=validate.OneOf(SCALES))
    ownership = fields.String(required=True, validate=validate.OneOf(OWNERSHIPS))
    capital = fields.String(required=True, validate=validate.OneOf(CAPITALS))
    township = fields.String(required=True)
    industry = fields.String(required=True)


class RatingSchema(Schema):
    class Meta:
        unknown = EXCLUDE
    question = fields.String(load_default=None)
    department = fields.String(required=True, validate=validate.Length(min=1))
    indicator = fields.String(required=True, validate=validate.Length(min=1))
    # What readers call the indicator (the survey's indicator_name or question text); absent in older messages.
    indicator_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    weight = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))
    points = fields.Float(required=True, validate=validate.Range(0, 100))


class ChoiceSchema(Schema):
    """What an enterprise chose on one single- or multi-choice question, with the question as it was asked (its
    number, text and every option, so options nobody chose count 0): scoring counts options per question."""
    class Meta:
        unknown = EXCLUDE
    question = fields.String(required=True, validate=validate.Length(1, 200))
    number = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    text = fields.String(required=True, validate=validate.Length(max=500))
    type = fields.String(required=True, validate=validate.OneOf(("single", "multi")))
    options = fields.List(fields.String(validate=validate.Length(max=500)), required=True,
                          validate=validate.Length(max=200))
    chosen = fields.List(fields.String(validate=validate.Length(max=500)), required=True)


class RatingsEventSchema(Schema):
    """`response.submitted` and `visit.recorded`: ratings of departments by one enterprise."""
    class Meta:
        unknown = EXCLUDE
    source_id = fields.String(required=True)  # response_id or visit_id
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    period = Period(required=True)
    survey_id = fields.String(load_default=None)
    survey_title = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    enterprise = fields.Nested(EnterpriseSnapshotSchema, required=True)
    ratings = fields.List(fields.Nested(RatingSchema), required=True)
    nps = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(0, 10))
    # Survey answers only, absent in older messages: the single- and multi-choice questions answered.
    choices = fields.List(fields.Nested(ChoiceSchema), load_default=list)


class DepartmentChangedSchema(Schema):
    class Meta:
        unknown = EXCLUDE
    code = fields.String(required=True, validate=validate.Length(min=1))
    name = fields.String(required=True)


class DemandStateSchema(Schema):
    """`demand.updated`: a demand's state after a change (event-carried state; no enterprise, no texts).

    `version` rises with every change, so a reader keeps the newest state whatever the delivery order.
    """
    class Meta:
        unknown = EXCLUDE
    demand_id = fields.String(required=True, validate=validate.Length(min=1))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    department = fields.String(required=True, validate=validate.Length(min=1))
    category = fields.String(required=True, validate=validate.Length(min=1))
    urgency = fields.String(required=True, validate=validate.OneOf(URGENCIES))
    status = fields.String(required=True, validate=validate.OneOf(DEMAND_STATUSES))
    period = Period(required=True)
    received_at = fields.AwareDateTime(required=True)
    first_assigned_at = fields.AwareDateTime(load_default=None, allow_none=True)
    deadline = fields.AwareDateTime(load_default=None, allow_none=True)
    first_resolved_at = fields.AwareDateTime(load_default=None, allow_none=True)
    first_resolution_deadline = fields.AwareDateTime(load_default=None, allow_none=True)
    closed_at = fields.AwareDateTime(load_default=None, allow_none=True)
    callback_level = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 5))
    actions = fields.List(fields.String())  # what this change did: receive, assign, …
    # A pseudonym of the enterprise that raised it (a hash, never the code): the figures count how many
    # enterprises stand behind a department's demands, to withhold them below MANYI_MIN_N (DESIGN §9).
    # Never forwarded to webhook receivers (services/delivery/translate.py lists the fields it sends).
    raised_by = fields.String(load_default=None, allow_none=True)
    # Issue 16: a pending appeal (申诉) of the 差评 stops the overdue count; `closure` says why a demand closed
    # other than by a callback ("appeal_upheld": 申诉成立).
    appeal_pending = fields.Boolean(load_default=False)
    closure = fields.String(load_default=None, allow_none=True)


class DemandOverdueSchema(Schema):
    """`demand.overdue`: pushed once per demand when it passes its deadline still open."""
    class Meta:
        unknown = EXCLUDE
    demand_id = fields.String(required=True, validate=validate.Length(min=1))
    department = fields.String(required=True, validate=validate.Length(min=1))
    period = Period(required=True)
    deadline = fields.AwareDateTime(required=True)


class SurveyStatusSchema(Schema):
    """`survey.opened` and `survey.closed`: a survey's status changed (read by the webhook deliveries)."""
    class Meta:
        unknown = EXCLUDE
    survey_id = fields.String(required=True, validate=validate.Length(min=1))
    code = fields.String(required=True)
    version = fields.Integer(required=True)
    title = fields.String(load_default=None, allow_none=True)
    period = fields.String(load_default=None, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(("open", "closed")))


class PeriodReleasedSchema(Schema):
    """`period.released`: the administrator published a period's figures to portals (通报), as release `release`."""
    class Meta:
        unknown = EXCLUDE
    period = Period(required=True)
    release = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    released_at = fields.AwareDateTime(required=True)


class ExcludedRatingSchema(Schema):
    """One rating an exclusion names: its position in its answer's or visit's ratings (as scoring stores it)."""
    class Meta:
        unknown = EXCLUDE
    index = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    question = fields.String(load_default=None, allow_none=True)
    department = fields.String(required=True, validate=validate.Length(min=1))


class ExclusionStateSchema(Schema):
    """`rating.excluded` and `rating.restored`: an exclusion's state after a change (event-carried state).

    `version` 1 is the exclusion, 2 its restoration (a restored exclusion is final; excluding again makes a
    new exclusion), so a reader keeps the highest version whatever the delivery order. `active` says which.
    The ratings are named by `source_id` and index, as the ratings event carried them.
    """
    class Meta:
        unknown = EXCLUDE
    exclusion_id = fields.String(required=True, validate=validate.Length(min=1))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(1, 2))
    active = fields.Boolean(required=True)
    target = fields.String(required=True)
    source_id = fields.String(required=True, validate=validate.Length(min=1))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    period = Period(required=True)
    enterprise = fields.String(required=True)  # the code, as the ratings event carries it (scoring's voices)
    whole = fields.Boolean(load_default=False)  # the whole answer or visit
    ratings = fields.List(fields.Nested(ExcludedRatingSchema), required=True)
    departments = fields.List(fields.String(), required=True)
    appeal = fields.String(load_default=None, allow_none=True)


class AppealSchema(Schema):
    """`appeal.filed` and `appeal.decided`: a department's appeal (申诉) of a 差评 and the administrator's decision.

    Never the enterprise: the demand id names the 差评 (one 差评 demand per rating), the department its appellant.
    """
    class Meta:
        unknown = EXCLUDE
    appeal_id = fields.String(required=True, validate=validate.Length(min=1))
    demand_id = fields.String(required=True, validate=validate.Length(min=1))
    department = fields.String(required=True, validate=validate.Length(min=1))
    period = Period(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("pending", "upheld", "rejected")))
    filed_at = fields.AwareDateTime(required=True)
    decided_at = fields.AwareDateTime(load_default=None, allow_none=True)


DATA_SCHEMAS = {
    RESPONSE_SUBMITTED: RatingsEventSchema,
    VISIT_RECORDED: RatingsEventSchema,
    DEPARTMENT_CHANGED: DepartmentChangedSchema,
    DEMAND_UPDATED: DemandStateSchema,
    DEMAND_OVERDUE: DemandOverdueSchema,
    SURVEY_OPENED: SurveyStatusSchema,
    SURVEY_CLOSED: SurveyStatusSchema,
    PERIOD_RELEASED: PeriodReleasedSchema,
    RATING_EXCLUDED: ExclusionStateSchema,
    RATING_RESTORED: ExclusionStateSchema,
    APPEAL_FILED: AppealSchema,
    APPEAL_DECIDED: AppealSchema,
}


class EnvelopeSchema(Schema):
    class Meta:
        unknown = RAISE
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    id = fields.String(required=True, validate=validate.Length(min=1, max=200))
    occurred_at = fields.AwareDateTime(required=True)
    schema_version = fields.Integer(required=True, validate=validate.Equal(SCHEMA_VERSION))
    data = fields.Dict(required=True)


def envelope(type_, data, id_=None, occurred_at=None):
    """A message ready to serialize; `id` is the idempotency key."""
    return {"type": type_, "id": id_ or uuid.uuid4().hex,
            "occurred_at": (occurred_at or utcnow()).isoformat(),
            "schema_version": SCHEMA_VERSION, "data": data}


def encode(message):
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def decode(body):
    """Parse and validate a message body; raises ValidationError with the reason."""
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ValidationError("message is not a JSON object")
    message = EnvelopeSchema().load(raw)
    schema = DATA_SCHEMAS.get(message["type"])
    if schema is None:
        raise ValidationError(f"no handler for type {message['type']}")
    message["data"] = schema().load(message["data"])
    return message
