"""One way lists page (the way /demands always did): `page` and `per_page` in, `total`, `page` and `per_page` in
the body, and an RFC 8288 `Link` header with first / prev / next / last. A client that sends neither gets the
first page (`per_page` defaults to 100 here, 50 for demands) and learns from `total` and `Link` that there is more.
"""
from urllib.parse import urlencode

from flask import request
from marshmallow import Schema, fields, validate

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
MAX_PAGE = 1_000_000  # so that skip = (page - 1) · per_page fits the database's 8-byte integers


class PageArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE),
                          metadata={"description": f"from 1, at most {MAX_PAGE:,}"})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(1, MAX_PER_PAGE),
                              metadata={"description": f"default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE}"})


class PageFieldsSchema(Schema):
    total = fields.Integer(metadata={"description": "items in every page together"})
    page = fields.Integer()
    per_page = fields.Integer()


def window(query):
    """(skip, limit) of the page asked for."""
    return (query["page"] - 1) * query["per_page"], query["per_page"]


def page_of(items, query):
    """The asked page of a list already in memory."""
    skip, limit = window(query)
    return items[skip:skip + limit]


def link_header(total, query):
    """The `Link` header's value for this page of `total` items (first, prev, next, last)."""
    per_page, page = query["per_page"], query["page"]
    last = max(1, -(-total // per_page))
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page")}

    def url(n):
        return f"<{request.base_url}?{urlencode({**args, 'page': n, 'per_page': per_page})}>"
    links = [f'{url(1)}; rel="first"']
    if page > 1:
        links.append(f'{url(min(page - 1, last))}; rel="prev"')
    if page < last:
        links.append(f'{url(page + 1)}; rel="next"')
    links.append(f'{url(last)}; rel="last"')
    return ", ".join(links)


def paged(key, items, total, query):
    """(body, 200, headers) for a flask-smorest view returning one page of `items` under `key`."""
    return ({key: items, "total": total, "page": query["page"], "per_page": query["per_page"]}, 200,
            {"Link": link_header(total, query)})
