"""Bodies of the gateway's API (DESIGN §6): the single source of truth for its OpenAPI document."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.domain import SEGMENT_ATTRIBUTES, is_year, period_range
from shared.fields import ReadPeriod

MAX_TREND_QUARTERS = 40

Interval = fields.List(fields.Float(), allow_none=True, metadata={"description": "[low, high]; null when n < 2 or suppressed"})


Release = fields.Integer(load_default=None, validate=validate.Range(min=1), metadata={
    "description": "an earlier release (通报) of the period, 1, 2, …; by default the latest. Portal keys read "
                   "releases only; an admin key without it reads the live figures"})


class PeriodQuerySchema(Schema):
    period = ReadPeriod(required=True)
    release = Release


class ReleaseMarkSchema(Schema):
    """Which figures these are: a release (what portals read) or the live, unreleased figures (admin keys)."""
    released = fields.Boolean(metadata={"description": "false: live figures that no portal sees (admin keys)"})
    release = fields.Integer(allow_none=True, metadata={"description": "number of the release served; null when live"})
    released_at = fields.DateTime(allow_none=True)



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
    excluded = fields.Integer(allow_none=True, metadata={
        "description": "ratings left out after review (经复核剔除, issue 16); null when the figures are withheld"})


class IndicesSchema(ReleaseMarkSchema):
    period = fields.String()
    min_n = fields.Integer()
    departments = fields.List(fields.Nested(DepartmentIndexSchema))


class IndicatorIndexSchema(Schema):
    indicator = fields.String()
    name = fields.String(metadata={"description": "what the survey calls the indicator (its code when unnamed)"})
    n = fields.Integer(allow_none=True, metadata={"description": "null when hidden by complementary suppression"})
    index = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    ci95 = Interval
    suppressed = fields.Boolean()


class DepartmentDetailSchema(DepartmentIndexSchema, ReleaseMarkSchema):
    period = fields.String()
    indicators = fields.List(fields.Nested(IndicatorIndexSchema), metadata={
        "description": "released figures: complementary suppression, a hidden indicator's n is null"})
    channels = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True, metadata={
        "description": "rating counts per channel; null in a release when the department's index is withheld"})


class PeriodReleaseSchema(Schema):
    period = fields.String()
    released = fields.Boolean()
    released_at = fields.DateTime(allow_none=True, metadata={"description": "of the latest release"})
    release = fields.Integer(allow_none=True, metadata={"description": "number of the latest release"})
    held_back = fields.Dict(metadata={
        "description": "admin keys: what the latest release kept at the previous release because fewer than "
                       "MANYI_MIN_N enterprises had changed it: {\"departments\": [codes], \"nps\": bool, "
                       "\"demands\": [department codes], \"choices\": bool}"})


class PeriodsSchema(Schema):
    periods = fields.List(fields.String(), metadata={
        "description": "periods with figures, oldest first: every rated period for an admin key, the released "
                       "ones for a portal key"})
    releases = fields.List(fields.Nested(PeriodReleaseSchema), metadata={"description": "one per period listed"})


Attribute = fields.String(required=True, validate=validate.OneOf(SEGMENT_ATTRIBUTES),
                          metadata={"description": "segment attribute: " + " | ".join(SEGMENT_ATTRIBUTES)})


class SegmentQuerySchema(PeriodQuerySchema):
    by = Attribute


class TrendQuerySchema(Schema):
    from_ = ReadPeriod(required=True, data_key="from")
    to = ReadPeriod(required=True)

    @validates_schema
    def ordered_and_bounded(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if is_year(data["from_"]) != is_year(data["to"]):
                raise ValidationError("`from` and `to` must both be quarters or both years / 起止须同为季度或同为年度", "to")
            span = len(period_range(data["from_"], data["to"]))
            if span == 0:
                raise ValidationError("`from` must not be after `to` / 起始季度不能晚于结束季度", "from")
            if span > MAX_TREND_QUARTERS:
                raise ValidationError(f"at most {MAX_TREND_QUARTERS} quarters / 最多 {MAX_TREND_QUARTERS} 个季度", "to")


class SegmentSchema(Schema):
    value = fields.String(metadata={"description": "the attribute's value, e.g. state"})
    n = fields.Integer(allow_none=True, metadata={
        "description": "enterprises in the segment that rated the department; in a release null for a hidden "
                       "segment (complementary suppression: the hidden segments together cover at least "
                       "MANYI_MIN_N enterprises or none, and every value seen in the period is listed)"})
    index = fields.Float(allow_none=True)
    ci95 = Interval
    suppressed = fields.Boolean()


class GapSchema(Schema):
    value = fields.Float(allow_none=True, metadata={"description": "highest minus lowest unsuppressed segment index; "
                                                                   "null with fewer than two unsuppressed segments"})
    high = fields.String(allow_none=True, metadata={"description": "value of the segment with the highest index"})
    low = fields.String(allow_none=True, metadata={"description": "value of the segment with the lowest index"})
    ci95 = fields.List(fields.Float(), allow_none=True,
                       metadata={"description": "Welch 95% interval of the difference (Welch–Satterthwaite df)"})


class SegmentsSchema(ReleaseMarkSchema):
    by = fields.String()
    segments = fields.List(fields.Nested(SegmentSchema))
    gap = fields.Nested(GapSchema)


class DepartmentGapSchema(Schema):
    code = fields.String()
    name = fields.String()
    rank = fields.Integer(allow_none=True, metadata={"description": "1 = widest gap; null without a gap"})
    gap = fields.Nested(GapSchema)
    significant = fields.Boolean(metadata={"description": "the gap's interval excludes 0"})


class GapsSchema(ReleaseMarkSchema):
    period = fields.String()
    by = fields.String()
    departments = fields.List(fields.Nested(DepartmentGapSchema))


class TrendPointSchema(Schema):
    period = fields.String()
    n = fields.Integer(allow_none=True, metadata={"description": "null for a quarter not released (portal keys)"})
    released = fields.Boolean(metadata={"description": "portal keys: the quarter's latest release is shown"})
    index = fields.Float(allow_none=True)
    suppressed = fields.Boolean()
    change = fields.Float(allow_none=True, metadata={"description": "index minus the previous quarter's"})
    change_ci95 = fields.List(fields.Float(), allow_none=True, metadata={"description": "Welch 95% interval"})
    change_significant = fields.Boolean(allow_none=True, metadata={"description": "the interval excludes 0"})


class NpsSchema(ReleaseMarkSchema):
    period = fields.String()
    n = fields.Integer(metadata={"description": "enterprises that answered (latest answer each)"})
    nps = fields.Float(allow_none=True)
    promoters = fields.Integer(allow_none=True)
    passives = fields.Integer(allow_none=True)
    detractors = fields.Integer(allow_none=True)
    suppressed = fields.Boolean()
