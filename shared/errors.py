"""One vocabulary of refusals for every process: a use case raises one of these, `shared.web` turns it into
the JSON error answer (status, message, per-field `errors`) in one place.

Messages a person reads are [中文, English] pairs (`pair`); `errors` maps each bad field (or row, or
question) to such a pair, or to a nested map of them.
"""


def pair(zh, en):
    """A message in Chinese and English, the shape of every entry in `errors`."""
    return [zh, en]


class Refused(Exception):
    """A request the service will not carry out. `code` is its HTTP status (one per kind, below), as the
    error answer's `code` field says."""

    code = 400

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors if errors is not None else {}


class Invalid(Refused):
    code = 400


class Unauthorized(Refused):
    code = 401


class Forbidden(Refused):
    code = 403


class NotFound(Refused):
    code = 404


class Conflict(Refused):
    code = 409


class AlreadyExists(Conflict):
    """A record with this id exists (a unique index said so)."""


class Gone(Refused):
    code = 410


class TooManyRequests(Refused):
    """Over a per-client limit (requests, wrong keys): try again after a minute."""
    code = 429


class Unavailable(Refused):
    """A dependency (the database, the broker) is down: try again shortly."""
    code = 503
