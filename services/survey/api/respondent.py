"""The respondent's page `GET /s/{token}`: what an enterprise sees when it opens its link."""
from flask import Blueprint, render_template_string

from services.survey.answers import response_id_of
from services.survey.api import services
from shared.domain import utcnow

page = Blueprint("respondent", __name__)

PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>{% if enterprise %}<p>{{ enterprise }}，您好！</p>{% endif %}<p>{{ text }}</p></body></html>"""


@page.get("/s/<token>")
def respondent_page(token):
    """The respondent's page: who is asked, and whether the link can still be answered."""
    store = services().store
    invitation = store.invitations.find_one({"_id": token})
    if invitation is None:
        return render_template_string(PAGE, title="链接无效", enterprise=None,
                                      text="找不到这个问卷链接，请核对链接或联系发放问卷的工作人员。"), 404
    survey = store.surveys.find_one({"_id": invitation["survey_id"]})
    enterprise = store.enterprises.find_one({"_id": invitation["enterprise"]}) or {}
    if store.responses.find_one({"_id": response_id_of(survey["code"], invitation["enterprise"])}, {"_id": 1}):
        return render_template_string(PAGE, title=survey["title"], enterprise=enterprise.get("name"),
                                      text="您已提交过本问卷，感谢参与！"), 200
    if invitation["expires_at"] <= utcnow() or survey["status"] != "open":
        return render_template_string(PAGE, title=survey["title"], enterprise=enterprise.get("name"),
                                      text="本问卷链接已过期或问卷已结束。"), 410
    return render_template_string(PAGE, title=survey["title"], enterprise=enterprise.get("name"),
                                  text=f"本问卷共 {len(survey['questions'])} 题。"), 200
