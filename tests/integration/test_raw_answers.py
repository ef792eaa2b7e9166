"""Raw answers read back through the API, the CSV and the .xlsx, cell by cell against what was submitted; the
comment rule, 差评 reasons, option counts and who may see what."""
import csv
import io
from datetime import UTC, timedelta, timezone

import pytest
from openpyxl import load_workbook

from services.survey import create_app
from tests import harness
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise

QUESTIONS = [
    {"id": "q1", "type": "rating5", "text": "您对县市场监管局的服务是否满意？", "department": "market",
     "indicator": "market-supervision", "required": True},
    {"id": "q2", "type": "text", "text": "对市场监管局的意见"},
    {"id": "q3", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"], "required": True},
    {"id": "q4", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land",
     "indicator": "property-registration", "show_if": {"q3": "是"}},
    {"id": "q5", "type": "multi", "text": "希望改进的方面", "options": ["速度", "态度", "流程", "其他"]},
    {"id": "q6", "type": "nps", "text": "您有多大可能向外地企业推荐来本县投资？"},
    {"id": "q7", "type": "text", "text": "意见和建议"},
]
A = {"q1": 5, "q2": "办事很快，点赞", "q3": "是", "q4": 2, "q5": ["速度", "流程"], "q6": 9, "q7": "希望简化材料"}
B = {"q1": 1, "q3": "否", "q5": ["态度"], "q6": 3}
C = {"q1": 4, "q2": "还行", "q3": "是", "q4": 5, "q6": 10, "q7": "无"}
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def app(config):
    app = create_app(config, background=False)
    yield app
    app.extensions["manyi"].outbox.stop()


@pytest.fixture(scope="module")
def world(mongo_server):
    """Three answers (A, B, C) to one survey with every question type and skip logic; keys of each role.

    Built once for the module's read-only checks (setting up a service's databases takes seconds here)."""
    vhost = harness.RabbitVhost().create()
    config, _ = harness.make_config(mongo_server.url, vhost.url)
    app = create_app(config, background=False)
    try:
        yield build_world(app, config)
    finally:
        app.extensions["manyi"].outbox.stop()
        vhost.delete()


def build_world(app, config):
    api, admin = FlaskApi(app), config.admin_key
    ents = [enterprise(township="城关镇"), enterprise(township="城关镇", scale="large", ownership="state"),
            enterprise(township="石桥镇")]
    survey_id, tokens, ents = setup_survey(api, admin, QUESTIONS, ents, departments=("market", "land"))
    ids = {}
    for name, ent, answers in zip("ABC", ents, (A, B, C)):
        body = {"token": tokens[ent["code"]], "answers": answers}
        if name == "A":
            body["reasons"] = {"q4": "登记要跑三次"}
        ids[name] = ok(api("POST", "/api/v1/responses", None, body), 202)["response_id"]
    keys = {role: ok(api("POST", "/api/v1/keys", admin, {"role": "department", "name": f"{role}科",
                                                          "department": role}), 201)["key"]
            for role in ("market", "land")}
    store = app.extensions["manyi"].store
    stored = {n: store.responses.find_one({"_id": i}) for n, i in ids.items()}
    return dict(api=api, admin=admin, survey=survey_id, ents=dict(zip("ABC", ents)), ids=ids, keys=keys,
                stored=stored)


def local(moment):
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


HEADER = ["答卷编号", "提交时间", "统一社会信用代码", "企业名称", "企业规模", "所有制", "内外资", "乡镇", "行业",
          "1. 您对县市场监管局的服务是否满意？", "2. 对市场监管局的意见", "3. 是否办理过不动产登记？", "4. 不动产登记办理的满意度",
          "5. 希望改进的方面：速度", "5. 希望改进的方面：态度", "5. 希望改进的方面：流程", "5. 希望改进的方面：其他",
          "6. 您有多大可能向外地企业推荐来本县投资？", "7. 意见和建议"]
SEGMENTS = {"A": ["小型", "民营", "内资", "城关镇", "制造业"], "B": ["大型", "国有", "内资", "城关镇", "制造业"],
            "C": ["小型", "民营", "内资", "石桥镇", "制造业"]}
CELLS = {"A": [5, "办事很快，点赞", "是", 2, 1, 0, 1, 0, 9, "希望简化材料"],
         "B": [1, None, "否", None, 0, 1, 0, 0, 3, None],
         "C": [4, "还行", "是", 5, None, None, None, None, 10, "无"]}


def expected_rows(world):
    rows = []
    for name in sorted("ABC", key=lambda n: world["ids"][n]):  # id order
        ent = world["ents"][name]
        rows.append([world["ids"][name], local(world["stored"][name]["created_at"]), ent["code"], ent["name"],
                     *SEGMENTS[name], *CELLS[name]])
    return rows


def test_csv_cell_by_cell(world):
    r = world["api"]("GET", f"/api/v1/surveys/{world['survey']}/responses.csv", world["admin"])
    assert r.status == 200 and r.raw.startswith("\ufeff".encode())
    assert 'filename="responses-s1-v1-2026Q4.csv"' in r.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in r.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(r.raw.decode("utf-8-sig"))))
    assert table[0] == HEADER
    assert sorted(table[1:]) == [["" if v is None else str(v) for v in row] for row in expected_rows(world)]


def test_xlsx_cell_by_cell_and_ready_to_print(world):
    r = world["api"]("GET", f"/api/v1/surveys/{world['survey']}/responses.xlsx", world["admin"])
    assert r.status == 200
    sheet = load_workbook(io.BytesIO(r.raw)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "测试问卷 原始答卷（2026Q4）" and "生成时间" in rows[1][0] and "2026Q4" in rows[1][0]
    assert rows[2] == HEADER
    assert sorted(rows[3:], key=lambda r: r[0]) == expected_rows(world)
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.page_setup.fitToWidth == 1 and sheet.print_title_rows == "$3:$3"
    assert sheet.column_dimensions["D"].width >= 20 and sheet.freeze_panes == "A4"
    assert sheet.sheet_properties.pageSetUpPr.fitToPage


def test_json_pages_labels_and_filters(world):
    api, admin, sid, ids = world["api"], world["admin"], world["survey"], world["ids"]
    order = sorted("ABC", key=lambda n: ids[n])
    first = ok(api("GET", f"/api/v1/surveys/{sid}/responses?limit=2", admin), 200)
    assert [x["id"] for x in first["responses"]] == [ids[n] for n in order[:2]]
    assert first["next_cursor"] == ids[order[1]]
    link = api("GET", f"/api/v1/surveys/{sid}/responses?limit=2", admin).headers["Link"]
    assert f"cursor={ids[order[1]]}" in link and 'rel="next"' in link
    rest = ok(api("GET", f"/api/v1/surveys/{sid}/responses?limit=2&cursor={first['next_cursor']}", admin), 200)
    assert [x["id"] for x in rest["responses"]] == [ids[order[2]]] and rest["next_cursor"] is None

    a = next(x for x in first["responses"] + rest["responses"] if x["id"] == ids["A"])
    assert a["enterprise"]["code"] == world["ents"]["A"]["code"] and a["enterprise"]["township"] == "城关镇"
    assert [(x["number"], x["value"], x["label"]) for x in a["answers"]] == [
        (1, 5, "非常满意"), (2, "办事很快，点赞", "办事很快，点赞"), (3, "是", "是"), (4, 2, "不满意"),
        (5, ["速度", "流程"], "速度、流程"), (6, 9, "9"), (7, "希望简化材料", "希望简化材料")]
    assert a["answers"][0]["text"] == "您对县市场监管局的服务是否满意？"

    def found(args):
        page = ok(api("GET", f"/api/v1/surveys/{sid}/responses?{args}", admin), 200)
        return {n for n in "ABC" if ids[n] in {x["id"] for x in page["responses"]}}
    assert found("township=%E7%9F%B3%E6%A1%A5%E9%95%87") == {"C"}
    assert found("scale=large") == {"B"}
    assert found("has_text=true") == {"A", "C"} and found("has_text=false") == {"B"}
    assert found("level=2") == {"A", "B"} and found("level=2&department=market") == {"B"}
    assert found("department=land") == {"A", "C"}
    assert found("since=2000-01-01T00:00:00%2B00:00") == {"A", "B", "C"}
    assert found("until=2000-01-01T00:00:00%2B00:00") == set()
    assert api("GET", f"/api/v1/surveys/{sid}/responses?limit=1001", admin).status == 400
    assert api("GET", "/api/v1/surveys/nope/responses", admin).status == 404


def test_department_keys_read_their_answers_without_identity(world):
    api, sid, market = world["api"], world["survey"], world["keys"]["market"]
    page = ok(api("GET", f"/api/v1/surveys/{sid}/responses", market), 200)
    assert len(page["responses"]) == 3
    assert all(x["enterprise"] is None and {a["question"] for a in x["answers"]} <= {"q1", "q2"}
               for x in page["responses"])
    table = list(csv.reader(io.StringIO(api("GET", f"/api/v1/surveys/{sid}/responses.csv", market).raw
                                        .decode("utf-8-sig"))))
    assert table[0] == ["答卷编号", "提交时间", "1. 您对县市场监管局的服务是否满意？", "2. 对市场监管局的意见"]
    assert all(world["ents"][n]["code"] not in "".join(sum(table, [])) for n in "ABC")
    for forbidden in ("township=x", "department=land"):
        r = api("GET", f"/api/v1/surveys/{sid}/responses?{forbidden}", market)
        assert r.status == 403 and r.json["errors"]
    assert api("GET", f"/api/v1/surveys/{sid}/responses.xlsx?scale=large", market).status == 403
    cadre = ok(api("POST", "/api/v1/keys", world["admin"], {"role": "cadre", "name": "干部"}), 201)["key"]
    assert api("GET", f"/api/v1/surveys/{sid}/responses", cadre).status == 403
    assert api("GET", f"/api/v1/surveys/{sid}/responses").status == 401


def test_comments_by_the_comment_rule_and_reasons_on_bad_ratings(world):
    api, admin, ids = world["api"], world["admin"], world["ids"]
    page = ok(api("GET", "/api/v1/departments/market/comments?period=2026Q4", admin), 200)
    got = sorted((c["source_id"], c["question"], c["level"], c["text"]) for c in page["comments"])
    assert got == sorted([(ids["A"], "q2", 5, "办事很快，点赞"), (ids["C"], "q2", 4, "还行")])
    assert {c["enterprise"]["code"] for c in page["comments"]} == {world["ents"]["A"]["code"], world["ents"]["C"]["code"]}
    mine = ok(api("GET", "/api/v1/departments/market/comments?period=2026Q4", world["keys"]["market"]), 200)
    assert len(mine["comments"]) == 2 and all(c["enterprise"] is None for c in mine["comments"])
    assert api("GET", "/api/v1/departments/market/comments?period=2026Q4", world["keys"]["land"]).status == 403
    assert ok(api("GET", "/api/v1/departments/land/comments?period=2026Q4", admin), 200)["comments"] == []
    one = ok(api("GET", "/api/v1/departments/market/comments?period=2026Q4&limit=1", admin), 200)
    assert len(one["comments"]) == 1 and one["next_cursor"]

    demands = ok(api("GET", "/api/v1/demands?category=bad_rating", admin), 200)["demands"]
    by_department = {d["department"]: d for d in demands}
    assert set(by_department) == {"land", "market"}
    assert "登记要跑三次" in by_department["land"]["text"]  # the reason A gave under its rating of 2
    assert "企业意见" not in by_department["market"]["text"]  # B gave none


def test_a_reason_needs_a_bad_rating(app, config):
    api = FlaskApi(app)
    sid, tokens, ents = setup_survey(api, config.admin_key, QUESTIONS, departments=("market", "land"))
    token = tokens[ents[0]["code"]]
    r = api("POST", "/api/v1/responses", None, {"token": token, "answers": C, "reasons": {"q1": "其实还行"}})
    assert r.status == 400 and "reasons.q1" in r.json["errors"]
    r = api("POST", "/api/v1/responses", None, {"token": token, "answers": C, "reasons": {"q3": "x"}})
    assert r.status == 400 and "reasons.q3" in r.json["errors"]


def test_option_counts(world):
    got = ok(world["api"]("GET", f"/api/v1/surveys/{world['survey']}/choices", world["admin"]), 200)
    assert got["responses"] == 3
    q3, q5 = got["questions"]
    assert (q3["answered"], [(o["option"], o["count"]) for o in q3["options"]]) == (3, [("是", 2), ("否", 1)])
    assert q5["answered"] == 2
    assert [(o["option"], o["count"], o["share"]) for o in q5["options"]] == [
        ("速度", 1, 0.5), ("态度", 1, 0.5), ("流程", 1, 0.5), ("其他", 0, 0.0)]
    assert world["api"]("GET", f"/api/v1/surveys/{world['survey']}/choices", world["keys"]["market"]).status == 403
