"""Marshmallow fields and validators shared by every schema: requests, answers and messages alike."""
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.domain import PERIOD_RE, READ_PERIOD_RE


class FullMatch(validate.Regexp):
    """Regexp over the whole value: a pattern's `$` also matches before a trailing newline, and would let
    "market\\n" through. The pattern keeps `$` so that the OpenAPI document stays valid ECMA regex."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Period(fields.String):
    """A quarter `YYYYQn` (DESIGN §3), the one definition every schema and message uses."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("description", "a quarter YYYYQn, e.g. 2026Q4")
        super().__init__(validate=FullMatch(PERIOD_RE, error="a quarter YYYYQn"), **kwargs)


class ReadPeriod(fields.String):
    """What figures are read for: a quarter `YYYYQn` or a year `YYYY` (DESIGN §9: one voice per enterprise
    over the year). Ratings themselves always carry a quarter (`Period`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("description", "a quarter YYYYQn or a year YYYY, e.g. 2026Q4, 2026")
        super().__init__(validate=FullMatch(READ_PERIOD_RE, error="a quarter YYYYQn or a year YYYY"), **kwargs)


CODE = FullMatch(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", error="letters, digits, '_', '.', '-' (≤ 64)")


class StrictSchema(Schema):
    """A request body: an unknown field is an error, not silently dropped."""
    class Meta:
        unknown = RAISE
