"""marshmallow validators both web processes share."""
from marshmallow import ValidationError, validate


class FullMatch(validate.Regexp):
    """Regexp over the whole value: a pattern's `$` also matches before a trailing newline, and would let
    "market\\n" or "2026Q4\\n" through. The pattern keeps `$` so that the OpenAPI document stays valid ECMA regex."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value
