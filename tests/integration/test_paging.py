"""Lists that can grow page one way: page / per_page in, total / page / per_page out, and a Link header."""
import pytest

from services.survey import create_app
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise


@pytest.fixture
def app(config):
    app = create_app(config, background=False)
    yield app
    app.extensions["manyi"].outbox.stop()


def test_enterprises_surveys_and_invitations_page_alike(app, config):
    api, admin = FlaskApi(app), config.admin_key
    ents = [enterprise() for _ in range(3)]
    survey_id, _, _ = setup_survey(api, admin, [{"id": "q1", "type": "text", "text": "意见"}], ents)
    for n in range(2):
        ok(api("POST", "/api/v1/surveys", admin, {"code": f"extra{n}", "title": "问卷", "period": "2026Q4",
                                                  "questions": [{"id": "q1", "type": "text", "text": "意见"}]}), 201)
    codes = sorted(e["code"] for e in ents)
    for path, key, everything in (("/api/v1/enterprises", "enterprises", 3), ("/api/v1/surveys", "surveys", 3),
                                  (f"/api/v1/surveys/{survey_id}/invitations", "invitations", 3)):
        whole = api("GET", path, admin)
        assert whole.status == 200 and (whole.json["total"], whole.json["page"], whole.json["per_page"]) == \
            (everything, 1, 100) and len(whole.json[key]) == everything  # old clients: the first page of 100
        first = api("GET", f"{path}?per_page=2", admin)
        assert len(first.json[key]) == 2 and first.json["total"] == everything
        assert 'page=2&per_page=2>; rel="next"' in first.headers["Link"] and 'rel="prev"' not in first.headers["Link"]
        second = ok(api("GET", f"{path}?per_page=2&page=2", admin), 200)
        assert len(second[key]) == 1
        assert api("GET", f"{path}?per_page=1001", admin).status == 400
    pages = [ok(api("GET", f"/api/v1/enterprises?per_page=2&page={n}", admin), 200)["enterprises"] for n in (1, 2)]
    assert [e["code"] for page in pages for e in page] == codes
    demands = api("GET", "/api/v1/demands", admin)
    assert demands.json["per_page"] == 50 and 'rel="last"' in demands.headers["Link"]
