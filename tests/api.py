"""Drive the survey service's API the same way over a Flask test client or real HTTP."""
import json
import math
import urllib.error
import urllib.request

from tests.factories import enterprise


class Reply:
    def __init__(self, status, body, headers=None):
        self.status, self.raw, self.headers = status, body, headers or {}

    @property
    def json(self):
        try:
            return json.loads(self.raw)
        except ValueError:
            return None

    def __repr__(self):
        return f"<{self.status} {self.raw[:300]!r}>"


class HttpApi:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def __call__(self, method, path, key=None, body=None, raw=None, headers=None):
        data = raw if raw is not None else (json.dumps(body, ensure_ascii=False).encode() if body is not None else None)
        h = {"Content-Type": "application/json", **(headers or {})}
        if key:
            h["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Reply(r.status, r.read(), dict(r.headers))
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.read(), dict(e.headers or {}))


class FlaskApi:
    def __init__(self, app):
        self.client = app.test_client()

    def __call__(self, method, path, key=None, body=None, raw=None, headers=None):
        h = {**({"Authorization": f"Bearer {key}"} if key else {}), **(headers or {})}
        if raw is not None:
            r = self.client.open(path, method=method, data=raw, headers=h, content_type="application/json")
        else:
            r = self.client.open(path, method=method, json=body, headers=h)
        return Reply(r.status_code, r.get_data(), dict(r.headers))


def ok(reply, status):
    assert reply.status == status, reply
    return reply.json


def setup_survey(api, admin, questions, enterprises=None, departments=("market",), period="2026Q4",
                 scale=None, code="s1", open_=True):
    """Departments, enterprises, a survey and one invitation each; returns (survey_id, {code: token}, ents)."""
    for d in departments:
        api("POST", "/api/v1/departments", admin, {"code": d, "name": f"部门{d}"})
    ents = enterprises or [enterprise() for _ in range(3)]
    for e in ents:
        ok(api("POST", "/api/v1/enterprises", admin, e), 201)
    definition = {"code": code, "title": "测试问卷", "period": period, "questions": questions}
    if scale:
        definition["scale"] = scale
    survey = ok(api("POST", "/api/v1/surveys", admin, definition), 201)
    if open_:
        ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin, {}), 200)
    inv = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin,
                 {"enterprises": [e["code"] for e in ents]}), 201)
    return survey["id"], {i["enterprise"]: i["token"] for i in inv["invitations"]}, ents


def close(a, b):
    """Equal, with floats (also inside lists) compared to 1e-9."""
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b
