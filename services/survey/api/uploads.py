"""Uploads (enterprise lists, XLSForm workbooks) are far larger than the 64 KiB the JSON endpoints allow."""
import functools

from flask import request

UPLOAD_LIMIT = 20 * 1024 * 1024


def accepts_upload(view):
    """Raise the body limit for this endpoint only; place it above `@blp.arguments(..., location="files")`."""
    @functools.wraps(view)
    def inner(*args, **kwargs):
        request.max_content_length = UPLOAD_LIMIT
        request.max_form_memory_size = UPLOAD_LIMIT
        return view(*args, **kwargs)
    return inner
