"""Web helpers of the survey service: its wiring for views, and bodies larger than the 64 KiB the public
JSON endpoints allow, for the admin endpoints that need them."""
import functools

from flask import current_app, request
from flask_smorest.fields import Upload
from marshmallow import Schema

UPLOAD_LIMIT = 20 * 1024 * 1024  # enterprise lists and XLSForm workbooks
LIST_LIMIT = 1024 * 1024  # a county-wide list of 统一社会信用代码 (20,000 codes ≈ 440 KB of JSON)


def services():
    return current_app.extensions["manyi"]


def body_limit(limit):
    """Raise the body limit for this endpoint only; place it above `@blp.arguments(...)`."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            request.max_content_length = limit
            request.max_form_memory_size = limit
            return view(*args, **kwargs)
        return inner
    return wrap


accepts_upload = body_limit(UPLOAD_LIMIT)


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "the workbook (.xlsx) or table (.csv)"})

