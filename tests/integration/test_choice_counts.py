"""Option counts of choice questions (希望改进的方面: 速度 41% …) from the respondent's answer to the gateway's
`/api/v1/choices` and the report's 选项统计 sheet: through the survey service, RabbitMQ, the scoring worker and
MongoDB; `manyi check` recounts them from the stored choices, `manyi rescore` rebuilds them; a portal reads them
only from a release, and nobody reads the counts of a question fewer than MANYI_MIN_N enterprises answered."""
import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from gateway.app import create_app as gateway_app
from services.scoring.rescore import check, rescore
from tests import harness
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise

PERIOD = "2026Q4"
ODD = "1.其他$"  # an option a MongoDB field name could not hold
QUESTIONS = [
    {"id": "q1", "type": "rating5", "text": "您对县市场监管局的服务是否满意？", "department": "market",
     "indicator": "market-supervision", "required": True},
    {"id": "q2", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"], "required": True},
    {"id": "q3", "type": "multi", "text": "希望改进的方面", "options": ["速度", "态度", "流程", ODD]},
]
ANSWERS = [{"q1": 5, "q2": "是", "q3": ["速度", "流程"]}, {"q1": 4, "q2": "否", "q3": ["速度"]}, {"q1": 3, "q2": "是"}]


@pytest.fixture
def counted(make_survey_app):
    survey = make_survey_app(min_n=2)
    config, api = survey.extensions["manyi"].config, FlaskApi(survey)
    _, tokens, ents = setup_survey(api, config.admin_key, QUESTIONS, [enterprise() for _ in ANSWERS], period=PERIOD)
    worker = harness.Worker(config).start()
    try:
        for ent, answers in zip(ents, ANSWERS):
            ok(api("POST", "/api/v1/responses", None, {"token": tokens[ent["code"]], "answers": answers}), 202)
        gateway = gateway_app(config).test_client()

        def get(path, key=config.admin_key):
            return gateway.get(path, headers={"Authorization": f"Bearer {key}"})
        harness.poll(lambda: sum(q["answered"] for q in get(f"/api/v1/choices?period={PERIOD}").json["questions"]) == 5,
                     30, 0.1, "the three answers counted")
        yield config, api, worker.store, get
    finally:
        worker.stop()


def by_number(questions):
    return {q["number"]: q for q in questions}


def test_each_option_is_counted_over_the_enterprises_that_answered_the_question(counted):
    config, _, _, get = counted
    reply = get(f"/api/v1/choices?period={PERIOD}").json
    assert reply["released"] is False
    q = by_number(reply["questions"])
    assert set(q) == {2, 3}  # the rating question is not a choice question
    assert q[2]["text"] == "是否办理过不动产登记？" and q[2]["type"] == "single" and q[2]["answered"] == 3
    assert q[2]["survey_title"] == "测试问卷" and not q[2]["suppressed"]
    assert [(o["option"], o["count"], o["share"]) for o in q[2]["options"]] == [("是", 2, 2 / 3), ("否", 1, 1 / 3)]
    # Two of the three answered the multi-choice question; options nobody chose count 0, in survey order.
    assert q[3]["answered"] == 2
    assert [(o["option"], o["count"], o["share"]) for o in q[3]["options"]] == [
        ("速度", 2, 1.0), ("态度", 0, 0.0), ("流程", 1, 0.5), (ODD, 0, 0.0)]
    # A year is its quarters.
    assert get("/api/v1/choices?period=2026").json["questions"] == reply["questions"]
    assert get("/api/v1/choices?period=2026Q3").json["questions"] == []


def test_the_report_has_the_same_counts_on_its_own_sheet(counted):
    _, _, _, get = counted
    reply = get(f"/api/v1/reports/{PERIOD}.xlsx")
    assert reply.status_code == 200
    ws = load_workbook(io.BytesIO(reply.data))["选项统计"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    header = rows.index(("季度", "问卷", "题号", "题目", "题型", "选项", "选择企业数", "占作答企业", "作答企业数", "说明"))
    assert rows[header + 1:] == [
        (PERIOD, "测试问卷", 2, "是否办理过不动产登记？", "单选", "是", 2, 2 / 3, 3, None),
        (PERIOD, "测试问卷", 2, "是否办理过不动产登记？", "单选", "否", 1, 1 / 3, 3, None),
        (PERIOD, "测试问卷", 3, "希望改进的方面", "多选", "速度", 2, 1.0, 2, None),
        (PERIOD, "测试问卷", 3, "希望改进的方面", "多选", "态度", 0, 0.0, 2, None),
        (PERIOD, "测试问卷", 3, "希望改进的方面", "多选", "流程", 1, 0.5, 2, None),
        (PERIOD, "测试问卷", 3, "希望改进的方面", "多选", ODD, 0, 0.0, 2, None)]


def test_too_few_answers_show_no_counts(counted):
    config, _, _, _ = counted
    strict = gateway_app(replace(config, min_n=3)).test_client()
    reply = strict.get(f"/api/v1/choices?period={PERIOD}", headers={"Authorization": f"Bearer {config.admin_key}"})
    q = by_number(reply.json["questions"])
    assert not q[2]["suppressed"] and q[2]["options"][0]["count"] == 2
    assert q[3]["suppressed"] and q[3]["answered"] == 2
    assert {(o["count"], o["share"]) for o in q[3]["options"]} == {(None, None)}


def test_check_recounts_and_rescore_rebuilds_the_counts(counted):
    config, _, store, get = counted
    lines = []
    assert check(config, PERIOD, lines.append) == 0, lines
    before = get(f"/api/v1/choices?period={PERIOD}").json["questions"]
    doc = store.choice_counts.find_one({"question": "q3"})
    store.choice_counts.update_one({"_id": doc["_id"]}, {"$inc": {"answered": 1}})
    lines = []
    assert check(config, PERIOD, lines.append) == 1
    assert any("|q3|choices: stored" in line for line in lines), lines
    assert rescore(config, PERIOD, lambda line: None) == 0
    assert check(config, PERIOD, lambda line: None) == 0
    assert get(f"/api/v1/choices?period={PERIOD}").json["questions"] == before


def test_a_portal_reads_the_counts_of_the_release_only(counted):
    config, api, _, get = counted
    portal = ok(api("POST", "/api/v1/keys", config.admin_key, {"role": "portal", "name": "门户"}), 201)["key"]
    assert get(f"/api/v1/choices?period={PERIOD}", portal).status_code == 404
    assert ok(api("POST", f"/api/v1/periods/{PERIOD}/release", config.admin_key, {}), 202)["applied"]
    reply = get(f"/api/v1/choices?period={PERIOD}", portal).json
    assert reply["released"] is True and reply["release"] == 1
    assert reply["questions"] == get(f"/api/v1/choices?period={PERIOD}").json["questions"]
