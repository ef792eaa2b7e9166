"""The respondent's page without a browser: status codes, the no-JavaScript POST through answers.accept,
and the first view recorded once."""
from datetime import timedelta

import pytest

from services.survey.invitations.tokens import invitation_id
from shared.domain import utcnow
from tests.api import FlaskApi, ok, setup_survey

QUESTIONS = [{"id": "q1", "type": "rating5", "text": "服务", "department": "market", "required": True},
             {"id": "q2", "type": "text", "text": "意见", "max_length": 5}]


@pytest.fixture
def app(survey_app):
    return survey_app


@pytest.fixture
def links(app, config):
    _, tokens, ents = setup_survey(FlaskApi(app), config.admin_key, QUESTIONS)
    return [tokens[e["code"]] for e in ents], ents


def test_the_form_post_goes_through_the_same_acceptance(app, links):
    (token, *_), ents = links
    client = app.test_client()
    store = app.extensions["manyi"].store
    events_before = store.outbox.count_documents({})  # the department's own event
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and ents[0]["name"] in page.get_data(as_text=True)
    refused = client.post(f"/s/{token}", data={"q1": "9", "q2": "太长了太长了"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "请选择 1–5 的评价等级" in html and "不能超过 5 字" in html
    assert "太长了太长了" in html  # what was typed stays on the page
    assert store.responses.count_documents({}) == 0 and store.outbox.count_documents({}) == events_before
    done = client.post(f"/s/{token}", data={"q1": "5", "q2": "好"})
    assert done.status_code == 200 and "提交成功" in done.get_data(as_text=True)
    again = client.post(f"/s/{token}", data={"q1": "5", "q2": "好"})  # a double tap: the identical answer
    assert again.status_code == 200 and "提交成功" in again.get_data(as_text=True)
    other = client.post(f"/s/{token}", data={"q1": "1"})
    assert other.status_code == 200 and "您已提交过本问卷" in other.get_data(as_text=True)
    assert [r["answers"] for r in store.responses.find({"invitation": invitation_id(token)})] == [{"q1": 5, "q2": "好"}]


def test_expired_unknown_and_closed_links_by_get_and_post(app, config, links):
    (_, expired, closed_one), _ = links
    store = app.extensions["manyi"].store
    store.invitations.update_one({"_id": invitation_id(expired)}, {"$set": {"expires_at": utcnow() - timedelta(minutes=1)}})
    client = app.test_client()
    for method in (client.get, client.post):
        reply = method(f"/s/{expired}", data={"q1": "5"})
        assert reply.status_code == 410 and "链接已过期" in reply.get_data(as_text=True)
        reply = method("/s/no-such-token", data={"q1": "5"})
        assert reply.status_code == 404 and "链接无效" in reply.get_data(as_text=True)
    survey_id = store.invitations.find_one({"_id": invitation_id(closed_one)})["survey_id"]
    ok(FlaskApi(app)("POST", f"/api/v1/surveys/{survey_id}/close", config.admin_key, {}), 200)
    for method in (client.get, client.post):
        reply = method(f"/s/{closed_one}", data={"q1": "5"})
        assert reply.status_code == 410 and "问卷已结束" in reply.get_data(as_text=True)
    assert store.responses.count_documents({}) == 0


def test_the_first_view_is_recorded_once(app, links):
    (token, *_), _ = links
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/s/{token}").status_code == 200
    events = list(app.extensions["manyi"].store.invitation_events.find({}))
    assert len(events) == 1 and events[0]["invitation"] == invitation_id(token) and events[0]["kind"] == "opened"
    assert client.get("/s/unknown").status_code == 404
    assert app.extensions["manyi"].store.invitation_events.count_documents({}) == 1
