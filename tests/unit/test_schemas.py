"""Bodies of the survey service (services/survey/schemas.py): enterprises and survey definitions."""
import copy
import random

import pytest
from marshmallow import ValidationError

from services.survey.departments.schemas import DepartmentSchema
from services.survey.enterprises.schemas import EnterpriseSchema
from services.survey.surveys.schemas import SurveyDefinitionSchema
from shared.domain import USCC_CHARS, uscc_check_char

# Real 统一社会信用代码 (published on the national enterprise credit system), valid by GB 32100-2015.
REAL_CODES = ["914403001922038216", "91440300708461136T", "91330100799655058B", "91110000600037341L"]


def valid_code(rng):
    head = "91410" + "".join(rng.choice(USCC_CHARS) for _ in range(12))
    return head + uscc_check_char(head)


def enterprise(**changes):
    return {"code": "914403001922038216", "name": "测试企业", "scale": "small", "ownership": "private",
            "capital": "domestic", "township": "城关镇", "industry": "制造业", **changes}


def load_errors(schema, body):
    with pytest.raises(ValidationError) as caught:
        schema.load(body)
    return caught.value.messages


# --- enterprises: 统一社会信用代码 ------------------------------------------------------------------

@pytest.mark.parametrize("code", REAL_CODES)
def test_real_credit_codes_are_accepted(code):
    assert EnterpriseSchema().load(enterprise(code=code))["code"] == code


def test_generated_credit_codes_are_accepted():
    rng = random.Random(7)
    for _ in range(50):
        code = valid_code(rng)
        assert EnterpriseSchema().load(enterprise(code=code))["code"] == code


@pytest.mark.parametrize("code", REAL_CODES)
def test_a_wrong_check_digit_is_rejected(code):
    for other in USCC_CHARS:
        if other != code[17]:
            assert "code" in load_errors(EnterpriseSchema(), enterprise(code=code[:17] + other)), other


def test_a_changed_character_breaks_the_check_digit():
    code = REAL_CODES[0]   # 914403001922038216
    changed = code[:10] + ("3" if code[10] != "3" else "4") + code[11:]
    assert "code" in load_errors(EnterpriseSchema(), enterprise(code=changed))


@pytest.mark.parametrize("code", ["91440300192203821", "9144030019220382166", "", "9"])
def test_a_code_of_the_wrong_length_is_rejected(code):
    assert "code" in load_errors(EnterpriseSchema(), enterprise(code=code))


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letters_outside_the_alphabet_are_rejected(letter):
    code = REAL_CODES[1]   # 91440300708461136T
    assert "code" in load_errors(EnterpriseSchema(), enterprise(code=code[:17] + letter))
    assert "code" in load_errors(EnterpriseSchema(), enterprise(code=code[:8] + letter + code[9:]))


@pytest.mark.parametrize("code", ["91440300708461136t", "9144030070846113 T", "91440300708461136-",
                                  "91440300708461136T\n"])
def test_other_characters_are_rejected(code):
    assert "code" in load_errors(EnterpriseSchema(), enterprise(code=code))


# --- enterprises: segment attributes -----------------------------------------------------------

@pytest.mark.parametrize("field, good, bad", [
    ("scale", ["large", "medium", "small", "micro"], ["huge", "Small", ""]),
    ("ownership", ["state", "private", "collective", "other"], ["public", "国有"]),
    ("capital", ["domestic", "foreign"], ["hk", "Foreign"]),
])
def test_enum_fields_take_only_their_values(field, good, bad):
    for value in good:
        assert EnterpriseSchema().load(enterprise(**{field: value}))[field] == value
    for value in bad:
        assert field in load_errors(EnterpriseSchema(), enterprise(**{field: value})), value


def test_every_enterprise_field_is_required():
    for field in ("code", "name", "scale", "ownership", "capital", "township", "industry"):
        body = enterprise()
        del body[field]
        assert field in load_errors(EnterpriseSchema(), body)


def test_unknown_enterprise_fields_are_rejected():
    assert "size" in load_errors(EnterpriseSchema(), enterprise(size="small"))


# --- codes of departments and indicators -------------------------------------------------------

@pytest.mark.parametrize("code", ["market", "land-1", "a.b_c", "A" * 64])
def test_department_codes_accepted(code):
    assert DepartmentSchema().load({"code": code, "name": "县市场监管局"})["code"] == code


@pytest.mark.parametrize("code", ["", "-market", "market bureau", "市场", "A" * 65, "market\n"])
def test_department_codes_rejected(code):
    assert "code" in load_errors(DepartmentSchema(), {"code": code, "name": "县市场监管局"})


# --- survey definitions -----------------------------------------------------------------------

DESIGN_EXAMPLE = {
    "code": "2026Q4-enterprise", "title": "2026年第四季度企业满意度调查", "period": "2026Q4",
    "scale": {"5": 100, "4": 75, "3": 50, "2": 25, "1": 0},
    "questions": [
        {"id": "q1", "type": "rating5", "text": "您对县市场监管局的服务是否满意？",
         "department": "market", "indicator": "market-supervision", "weight": 1.0, "required": True},
        {"id": "q2", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"], "required": True},
        {"id": "q3", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land",
         "indicator": "property-registration", "weight": 2.0, "show_if": {"q2": "是"}},
        {"id": "q4", "type": "nps", "text": "您有多大可能向外地企业推荐来本县投资？"},
        {"id": "q5", "type": "text", "text": "意见和建议", "max_length": 2000}]}


def survey(**changes):
    return {**copy.deepcopy(DESIGN_EXAMPLE), **changes}


def with_question(index, **changes):
    body = survey()
    body["questions"][index] = {**body["questions"][index], **changes}
    return body


def question_errors(body, index=0):
    return load_errors(SurveyDefinitionSchema(), body)["questions"][index]


def test_the_design_example_survey_loads():
    loaded = SurveyDefinitionSchema().load(survey())
    assert loaded["period"] == "2026Q4"
    assert loaded["scale"] == {"5": 100.0, "4": 75.0, "3": 50.0, "2": 25.0, "1": 0.0}
    q1, q2, q3, q4, q5 = loaded["questions"]
    assert (q1["department"], q1["indicator"], q1["weight"], q1["required"]) == \
        ("market", "market-supervision", 1.0, True)
    assert q2["options"] == ["是", "否"]
    assert (q3["weight"], q3["show_if"], q3["required"]) == (2.0, {"q2": "是"}, False)
    assert q4["type"] == "nps" and q5["max_length"] == 2000


def test_scale_may_be_omitted():
    body = survey()
    del body["scale"]
    assert SurveyDefinitionSchema().load(body)["scale"] is None


def test_weight_defaults_to_one():
    body = survey()
    del body["questions"][2]["weight"]
    assert SurveyDefinitionSchema().load(body)["questions"][2]["weight"] == 1.0


@pytest.mark.parametrize("weight", [0, -1, 101])
def test_weight_must_be_positive_and_at_most_100(weight):
    assert "weight" in question_errors(with_question(0, weight=weight))


def test_indicator_defaults_to_general_for_a_rating():
    body = survey()
    del body["questions"][0]["indicator"]
    assert SurveyDefinitionSchema().load(body)["questions"][0]["indicator"] == "general"


def test_a_rating5_without_department_is_rejected():
    body = survey()
    del body["questions"][0]["department"]
    assert "department" in question_errors(body)
    assert "department" in question_errors(with_question(0, department=""))


@pytest.mark.parametrize("options", [None, [], ["是"], ["是", "是"]])
def test_a_single_needs_two_or_more_distinct_options(options):
    body = with_question(1, options=options)
    if options is None:
        del body["questions"][1]["options"]
    assert "options" in question_errors(body, 1)


def test_a_multi_needs_options_too():
    body = with_question(1, type="multi")
    del body["questions"][1]["options"]
    assert "options" in question_errors(body, 1)


def test_a_text_question_has_no_options():
    assert "options" in question_errors(with_question(4, options=["a", "b"]), 4)


@pytest.mark.parametrize("type_", ["rating10", "Rating5", ""])
def test_unknown_question_types_are_rejected(type_):
    assert "type" in question_errors(with_question(3, type=type_), 3)


@pytest.mark.parametrize("qid", ["1q", "q-1", "", "q" * 33, "q1\n"])
def test_question_ids_are_rejected_unless_a_letter_then_letters_digits_underscores(qid):
    assert "id" in question_errors(with_question(0, id=qid))


@pytest.mark.parametrize("scale", [
    {"5": 100, "4": 75, "3": 50, "2": 25},                       # level 1 missing
    {"5": 100, "4": 75, "3": 50, "2": 25, "1": 0, "0": 0},       # a level 0
    {"5": 100, "4": 75, "3": 50, "2": 25, "one": 0},
])
def test_a_scale_maps_exactly_the_levels_one_to_five(scale):
    assert "scale" in load_errors(SurveyDefinitionSchema(), survey(scale=scale))


@pytest.mark.parametrize("scale", [
    {"5": 70, "4": 80, "3": 50, "2": 25, "1": 0},
    {"5": 100, "4": 75, "3": 50, "2": 25, "1": 30},
])
def test_scale_points_must_not_fall_as_the_level_rises(scale):
    assert "scale" in load_errors(SurveyDefinitionSchema(), survey(scale=scale))


def test_a_scale_with_equal_neighbours_is_accepted():
    scale = {"5": 100, "4": 100, "3": 50, "2": 0, "1": 0}
    assert SurveyDefinitionSchema().load(survey(scale=scale))["scale"]["4"] == 100.0


@pytest.mark.parametrize("points", [-1, 101])
def test_scale_points_lie_between_0_and_100(points):
    scale = {"5": 100, "4": 75, "3": 50, "2": 25, "1": 0}
    scale["1" if points < 0 else "5"] = points
    assert "scale" in load_errors(SurveyDefinitionSchema(), survey(scale=scale))


@pytest.mark.parametrize("period", ["2026Q1", "2026Q4", "1999Q2"])
def test_period_is_a_quarter(period):
    assert SurveyDefinitionSchema().load(survey(period=period))["period"] == period


@pytest.mark.parametrize("period", ["2026Q5", "2026Q0", "2026q4", "2026-Q4", "26Q4", "2026", "2026Q4 ",
                                    "Q4 2026", "2026-10", "2026Q4\n"])
def test_period_must_be_yyyyqn(period):
    assert "period" in load_errors(SurveyDefinitionSchema(), survey(period=period))


def test_unknown_survey_fields_are_rejected():
    assert "owner" in load_errors(SurveyDefinitionSchema(), survey(owner="营商办"))


def test_unknown_question_fields_are_rejected():
    assert "dept" in question_errors(with_question(0, dept="market"))


def test_a_survey_needs_questions():
    assert "questions" in load_errors(SurveyDefinitionSchema(), survey(questions=[]))
    body = survey()
    del body["questions"]
    assert "questions" in load_errors(SurveyDefinitionSchema(), body)
