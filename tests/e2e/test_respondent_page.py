"""The respondent's page `/s/{token}` in Debian's headless Chromium at 360×640, against the real processes.

Each test uses its own enterprise's link; screenshots of every state land in tests/e2e/screenshots/.
"""
import io
from datetime import timedelta

import pytest
import zxingcpp
from PIL import Image

from services.survey.invitations.tokens import invitation_id
from shared import mongo
from shared.domain import utcnow
from tests.api import ok
from tests.e2e.conftest import PHONE, screenshot
from tests.factories import enterprise
from tests.harness import poll

pytestmark = pytest.mark.e2e

PERIOD = "2026Q4"
QUESTIONS = [
    {"id": "q1", "type": "rating5", "text": "您对县市场监管局的服务是否满意？", "department": "market",
     "indicator": "licensing", "required": True},
    {"id": "q2", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"], "required": True},
    {"id": "q3", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land",
     "indicator": "registration", "weight": 2.0, "show_if": {"q2": "是"}, "required": True},
    {"id": "q4", "type": "nps", "text": "您有多大可能向外地企业推荐来本县投资？"},
    {"id": "q5", "type": "multi", "text": "您希望哪些方面改进？", "options": ["办事效率", "服务态度", "收费标准"]},
    {"id": "q6", "type": "text", "text": "意见和建议", "max_length": 200},
]


@pytest.fixture(scope="module")
def county(system):
    """Two departments, ten enterprises with one invitation each to an open survey, and a closed survey."""
    config, _, api, _ = system
    admin = config.admin_key
    for code, name in (("market", "县市场监督管理局"), ("land", "县自然资源局")):
        ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": name}), 201)
    ents = [enterprise(name=f"河南豫丰食品有限公司{i}") for i in range(10)]
    for e in ents:
        ok(api("POST", "/api/v1/enterprises", admin, e), 201)
    survey = ok(api("POST", "/api/v1/surveys", admin, {"code": "phone", "title": "2026年第四季度企业满意度调查",
                                                     "period": PERIOD, "questions": QUESTIONS}), 201)
    ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin, {}), 200)
    inv = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin,
                 {"enterprises": [e["code"] for e in ents]}), 201)
    closed = ok(api("POST", "/api/v1/surveys", admin, {"code": "closed", "title": "已结束的调查", "period": PERIOD,
                                                     "questions": QUESTIONS[:1]}), 201)
    ok(api("POST", f"/api/v1/surveys/{closed['id']}/open", admin, {}), 200)
    closed_inv = ok(api("POST", f"/api/v1/surveys/{closed['id']}/invitations", admin,
                        {"enterprises": [ents[0]["code"]]}), 201)
    ok(api("POST", f"/api/v1/surveys/{closed['id']}/close", admin, {}), 200)
    links = [(e, i["url"], i["token"]) for e, i in zip(ents, inv["invitations"])]
    return {"links": links, "survey_id": survey["id"], "closed_url": closed_inv["invitations"][0]["url"],
            "db": mongo.client(config.mongo_url)[config.survey_db]}


def assert_fits_a_phone(page):
    """No horizontal scrolling, and every visible tap target at least 44 px high and wide enough."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    small = page.evaluate("""() => Array.from(document.querySelectorAll('.choice span, button, textarea'))
        .filter(e => e.offsetParent !== null)
        .map(e => e.getBoundingClientRect())
        .filter(r => r.height < 44 || r.width < 44).length""")
    assert small == 0


def shot(page, name):
    """Every state a person looks at is also checked for fitting the phone."""
    assert_fits_a_phone(page)
    screenshot(page, name)


def choose(page, qid, value):
    """Tap the option `value` of question `qid` (the visible button, not the hidden input)."""
    page.click(f"#q-{qid} input[value='{value}'] + span")


def stored(county, token):
    return county["db"].responses.find_one({"invitation": invitation_id(token)})


def scan(api, admin, token):
    """What a phone camera reads from the invitation's QR code."""
    reply = api("GET", f"/api/v1/invitations/{token}/qr.png", admin)
    assert reply.status == 200
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(reply.raw)))]


def test_answer_with_skip_logic_fix_a_server_error_and_see_thanks(system, county, phone):
    config, _, survey_api, gateway = system
    ent, url, token = county["links"][0]
    assert scan(survey_api, config.admin_key, token) == [url]
    fetched = []
    phone.on("request", lambda request: fetched.append(request.url))
    phone.goto(url)
    origin = url.split("/s/")[0] + "/"
    assert fetched and all(u.startswith(origin) for u in fetched)  # every asset is ours: no CDN
    assert {"survey.js", "survey.css"} <= {u.rsplit("/static/", 1)[-1] for u in fetched if "/static/" in u}
    assert f"{ent['name']}，您好" in phone.inner_text(".greeting")
    assert phone.is_hidden("#q-q3")  # shown only after 是 on q2
    shot(phone, "respondent-1-opened")

    phone.click("#submit")  # nothing answered: checked in the browser first
    assert phone.inner_text("#err-q1") == "此题为必答题" and phone.inner_text("#err-q2") == "此题为必答题"
    assert phone.inner_text("#err-q3") == ""
    shot(phone, "respondent-2-required")

    choose(phone, "q1", "4")
    choose(phone, "q2", "是")
    assert phone.is_visible("#q-q3")
    choose(phone, "q3", "2")
    choose(phone, "q5", "办事效率")
    choose(phone, "q5", "收费标准")
    phone.fill("#q-q6 textarea", "审批材料能否再精简一些")
    # A value the browser cannot check: the server refuses it and the page shows why, in place.
    phone.evaluate("document.querySelector('input[name=q4][value=\"10\"]').value = '11'")
    choose(phone, "q4", "11")
    phone.click("#submit")
    poll(lambda: phone.inner_text("#err-q4") != "", 10, what="the server's error on q4")
    assert phone.inner_text("#err-q4") == "请选择 0–10 的分值"
    assert "has-error" in phone.get_attribute("#q-q4", "class")
    assert stored(county, token) is None
    shot(phone, "respondent-3-server-error")

    choose(phone, "q4", "9")
    phone.click("#submit")
    phone.wait_for_selector("#thanks", state="visible")
    assert "提交成功" in phone.inner_text("#thanks")
    shot(phone, "respondent-4-thanks")
    assert stored(county, token)["answers"] == {"q1": 4, "q2": "是", "q3": 2, "q4": 9, "q5": ["办事效率", "收费标准"],
                                                "q6": "审批材料能否再精简一些"}
    assert phone.evaluate(f"localStorage.getItem('manyi:answers:{token}')") is None

    # The answer reaches the department index (one enterprise: n = 1, the figure itself suppressed).
    index = poll(lambda: (lambda r: r.json if r.status == 200 and r.json["n"] == 1 else None)(
        gateway("GET", f"/api/v1/departments/market/index?period={PERIOD}", config.admin_key)),
        30, what="the answer in the market department's index")
    assert index["suppressed"] is True

    phone.goto(url)  # the used link now says so
    assert phone.inner_text("h1") == "您已提交过本问卷"


def test_a_reload_mid_way_keeps_the_answers(county, phone):
    _, url, token = county["links"][1]
    phone.goto(url)
    choose(phone, "q1", "5")
    choose(phone, "q2", "是")
    choose(phone, "q3", "3")
    choose(phone, "q4", "7")
    phone.fill("#q-q6 textarea", "希望延长窗口办公时间")
    phone.reload()
    assert phone.is_checked("input[name=q1][value='5']") and phone.is_checked("input[name=q2][value='是']")
    assert phone.is_visible("#q-q3") and phone.is_checked("input[name=q3][value='3']")
    assert phone.is_checked("input[name=q4][value='7']")
    assert phone.input_value("#q-q6 textarea") == "希望延长窗口办公时间"
    shot(phone, "respondent-5-after-reload")
    choose(phone, "q2", "否")  # hides q3: its kept answer is not sent
    phone.click("#submit")
    phone.wait_for_selector("#thanks", state="visible")
    assert stored(county, token)["answers"] == {"q1": 5, "q2": "否", "q4": 7, "q6": "希望延长窗口办公时间"}


def test_a_lost_reply_is_resent_and_answered_once(county, phone):
    """The first submission reaches the server but its reply is lost: the page resends the identical body."""
    _, url, token = county["links"][2]
    attempts = []

    def lose_first_reply(route):
        attempts.append(route.request.post_data)
        if len(attempts) == 1:
            route.fetch()  # the server stores the answer…
            route.abort("connectionreset")  # …and the phone never hears back
        else:
            route.continue_()
    phone.route("**/api/v1/responses", lose_first_reply)
    phone.goto(url)
    choose(phone, "q1", "1")
    choose(phone, "q2", "否")
    phone.click("#submit")
    phone.wait_for_selector("#thanks", state="visible", timeout=15000)
    assert len(attempts) == 2 and attempts[0] == attempts[1]
    assert county["db"].responses.count_documents({"invitation": invitation_id(token)}) == 1


def test_without_javascript_the_plain_form_works(browser, county):
    ent, url, token = county["links"][3]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(url)
        assert page.is_visible("#q-q3") and "第2题选“是”时作答" in page.inner_text("#q-q3")
        choose(page, "q2", "否")
        choose(page, "q3", "5")  # answered although 否 hides it: dropped, not refused
        page.fill("#q-q6 textarea", "无")
        page.click("#submit")
        assert "有题目未答或填写有误" in page.inner_text(".err-summary")
        assert page.inner_text("#err-q1") == "此题为必答题"
        assert page.is_checked("input[name=q2][value='否']") and page.input_value("#q-q6 textarea") == "无"
        assert stored(county, token) is None
        shot(page, "respondent-6-nojs-errors")
        choose(page, "q1", "3")
        choose(page, "q5", "服务态度")
        page.click("#submit")
        assert page.inner_text("h1") == "提交成功" and ent["name"] in page.inner_text("#message")
        shot(page, "respondent-7-nojs-thanks")
        assert stored(county, token)["answers"] == {"q1": 3, "q2": "否", "q5": ["服务态度"], "q6": "无"}
    finally:
        context.close()


def test_used_expired_closed_and_unknown_links_have_their_own_pages(system, county, phone):
    _, used_url, _ = county["links"][0]
    _, expired_url, expired_token = county["links"][4]
    county["db"].invitations.update_one({"_id": invitation_id(expired_token)}, {"$set": {"expires_at": utcnow() - timedelta(days=1)}})
    unknown_url = used_url.rsplit("/", 1)[0] + "/no-such-link"
    for name, link, status, heading in (("used", used_url, 200, "您已提交过本问卷"),
                                        ("expired", expired_url, 410, "链接已过期"),
                                        ("closed", county["closed_url"], 410, "问卷已结束"),
                                        ("unknown", unknown_url, 404, "链接无效")):
        reply = phone.goto(link)
        assert reply.status == status, name
        assert phone.inner_text("h1") == heading, name
        assert phone.get_attribute("#message", "data-kind") == name
        shot(phone, f"respondent-8-{name}")


def test_a_bad_rating_asks_whether_the_department_may_know_who_gave_it(system, county, phone):
    _, url, token = county["links"][5]
    phone.goto(url)
    assert "不会知道是哪家企业" in phone.inner_text("#promise")
    assert phone.is_hidden("#consent")  # nothing to consent to without a 差评
    choose(phone, "q1", "5")
    assert phone.is_hidden("#consent")
    choose(phone, "q1", "1")
    assert phone.is_visible("#consent") and "实名回访" in phone.inner_text("#consent")
    assert phone.is_checked("#consent input[value=no]")  # anonymous unless the enterprise says otherwise
    shot(phone, "respondent-consent")
    phone.click("#consent input[value=yes] + span")
    choose(phone, "q2", "否")
    phone.click("#submit")
    phone.wait_for_selector("#thanks", state="visible")
    assert stored(county, token)["contact_ok"] is True
    (demand,) = county["db"].demands.find({"source.id": stored(county, token)["_id"]})
    assert demand["category"] == "bad_rating" and demand["contact_ok"] is True


def test_numbers_count_what_is_shown_and_a_bad_rating_asks_why(system, county, phone):
    config, _, survey_api, _ = system
    ent, url, token = county["links"][9]
    phone.goto(url)
    assert phone.inner_text("#count") == "5"  # q3 is hidden until 是 on q2
    assert phone.inner_text("#q-q4 .num") == "3." and phone.is_hidden("#reason-q1")
    choose(phone, "q2", "是")
    assert phone.inner_text("#count") == "6" and phone.inner_text("#q-q4 .num") == "4."
    choose(phone, "q2", "否")
    choose(phone, "q1", "1")  # 非常不满意: the page asks why, as the visit page does
    assert phone.is_visible("#reason-q1")
    phone.fill("#reason-q1 textarea", "营业执照变更跑了三趟")
    shot(phone, "respondent-5-reason")
    phone.click("#submit")
    phone.wait_for_selector("#thanks", state="visible")
    assert stored(county, token)["reasons"] == {"q1": "营业执照变更跑了三趟"}
    demands = ok(survey_api("GET", "/api/v1/demands?category=bad_rating&department=market&per_page=500",
                            config.admin_key), 200)["demands"]
    assert any(d["enterprise"] == ent["code"] and "营业执照变更跑了三趟" in d["text"] for d in demands)
