"""A survey as a form (services/survey/form.py): skip logic, answer validation, ratings carried."""
import re

import pytest

from services.survey.surveys import form

# The DESIGN §3 example survey, as SurveyDefinitionSchema loads it (defaults filled in).
SURVEY = [
    {"id": "q1", "type": "rating5", "text": "您对县市场监管局的服务是否满意？", "department": "market",
     "indicator": "market-supervision", "weight": 1.0, "required": True, "options": None, "show_if": None},
    {"id": "q2", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"], "required": True,
     "show_if": None},
    {"id": "q3", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land",
     "indicator": "property-registration", "weight": 2.0, "required": False, "show_if": {"q2": "是"}},
    {"id": "q4", "type": "nps", "text": "您有多大可能向外地企业推荐来本县投资？", "required": False, "show_if": None},
    {"id": "q5", "type": "text", "text": "意见和建议", "max_length": 2000, "required": False, "show_if": None},
]
GOOD = {"q1": 5, "q2": "是", "q3": 4, "q4": 9, "q5": "服务很好"}

CJK = re.compile(r"[\u4e00-\u9fff]")


def q(id_, type_, **extra):
    base = {"id": id_, "type": type_, "text": "?", "required": False, "show_if": None}
    if type_ == "rating5":
        base.update(department="market", indicator="general", weight=1.0)
    if type_ in ("single", "multi"):
        base["options"] = ["A", "B", "C"]
    if type_ == "text":
        base["max_length"] = 2000
    return {**base, **extra}


def assert_errors(errors, expected):
    """`expected` maps each bad question id to a phrase of its English message."""
    assert set(errors) == set(expected)
    for qid, phrase in expected.items():
        zh, en = errors[qid]
        assert CJK.search(zh), f"{qid}: Chinese message expected, got {zh!r}"
        assert not CJK.search(en), f"{qid}: English message expected, got {en!r}"
        assert phrase in en, f"{qid}: {phrase!r} not in {en!r}"


# --- skip logic (show_if) ------------------------------------------------------------------------

def test_a_question_without_show_if_is_always_visible():
    assert form.is_visible(SURVEY[0], {}) is True


def test_show_if_on_a_single_answer_shows_when_equal():
    assert form.is_visible(SURVEY[2], {"q2": "是"}) is True
    assert form.is_visible(SURVEY[2], {"q2": "否"}) is False
    assert form.is_visible(SURVEY[2], {}) is False


def test_show_if_needs_every_named_answer():
    question = q("c", "text", show_if={"a": "A", "b": 5})
    assert form.is_visible(question, {"a": "A", "b": 5}) is True
    assert form.is_visible(question, {"a": "A", "b": 4}) is False
    assert form.is_visible(question, {"b": 5}) is False


def test_show_if_on_a_multi_answer_shows_when_the_option_is_chosen():
    questions = [q("a", "multi"), q("b", "text", show_if={"a": "B"})]
    assert form.is_visible(questions[1], {"a": ["A", "B"]}) is True
    assert form.is_visible(questions[1], {"a": ["A", "C"]}) is False
    assert form.validate_answers(questions, {"a": ["B"], "b": "x"}) == {}
    assert_errors(form.validate_answers(questions, {"a": ["C"], "b": "x"}), {"b": "hidden"})


def test_a_show_if_on_a_multi_question_that_the_definition_accepts_can_be_shown():
    """Whatever value check_definition lets through for a multi question must be satisfiable."""
    parent = q("a", "multi")
    for value in (["B"], "B"):
        child = q("b", "text", show_if={"a": value})
        if form.check_definition([parent, child], {"market"}):
            continue   # rejected up front: fine
        assert form.validate_answers([parent, child], {"a": ["B"], "b": "x"}) == {}, value


def test_chained_show_if_hides_the_child_of_a_hidden_question():
    questions = [q("a", "single", required=True), q("b", "single", show_if={"a": "A"}),
                 q("c", "text", required=True, show_if={"b": "B"})]
    # a = C hides b, and so c, whatever was sent for b
    assert form.validate_answers(questions, {"a": "C"}) == {}
    assert_errors(form.validate_answers(questions, {"a": "C", "b": "B", "c": "x"}),
                  {"b": "hidden", "c": "hidden"})
    # a = A shows b; b = B shows c, which is then required
    assert_errors(form.validate_answers(questions, {"a": "A", "b": "B"}), {"c": "required"})
    assert form.validate_answers(questions, {"a": "A", "b": "B", "c": "x"}) == {}


# --- validate_answers: acceptance -------------------------------------------------------------

def test_the_design_example_answers_are_accepted():
    assert form.validate_answers(SURVEY, GOOD) == {}


def test_optional_questions_may_be_left_out_or_blank():
    assert form.validate_answers(SURVEY, {"q1": 3, "q2": "否"}) == {}
    assert form.validate_answers(SURVEY, {"q1": 3, "q2": "否", "q3": None, "q4": None, "q5": ""}) == {}


def test_a_hidden_required_question_is_not_required():
    questions = [q("a", "single", required=True), q("b", "rating5", required=True, show_if={"a": "A"})]
    assert form.validate_answers(questions, {"a": "B"}) == {}
    assert_errors(form.validate_answers(questions, {"a": "A"}), {"b": "required"})


def test_boundary_values_are_accepted():
    questions = [q("r", "rating5"), q("n", "nps"), q("t", "text", max_length=3)]
    for r, n in ((1, 0), (5, 10)):
        assert form.validate_answers(questions, {"r": r, "n": n, "t": "三个字"}) == {}


# --- validate_answers: each kind of error -------------------------------------------------------

def test_an_unknown_question_is_an_error():
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q9": 1}), {"q9": "unknown question"})


def test_an_unknown_question_is_an_error_even_when_blank():
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q9": None}), {"q9": "unknown question"})


@pytest.mark.parametrize("value", ["5", 4.0, 4.5, [5], {"v": 5}])
def test_rating5_of_the_wrong_type_is_an_error(value):
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q1": value}), {"q1": "1 to 5"})


@pytest.mark.parametrize("value", [True, False])
def test_a_bool_is_not_a_rating(value):
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q1": value}), {"q1": "1 to 5"})


@pytest.mark.parametrize("value", [0, 6, -1, 100])
def test_rating5_out_of_range_is_an_error(value):
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q1": value}), {"q1": "1 to 5"})


@pytest.mark.parametrize("value", [-1, 11, 9.0, "9", True])
def test_nps_out_of_range_or_of_the_wrong_type_is_an_error(value):
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q4": value}), {"q4": "0 to 10"})


@pytest.mark.parametrize("value", ["也许", 1, ["是"]])
def test_single_must_be_one_of_the_options(value):
    assert_errors(form.validate_answers(SURVEY, {"q1": 5, "q2": value}), {"q2": "one of the options"})


@pytest.mark.parametrize("value", [["A", "A"], ["A", "D"], "A", [1], [["A"]]])
def test_multi_must_be_a_list_of_distinct_options(value):
    questions = [q("m", "multi")]
    assert_errors(form.validate_answers(questions, {"m": value}), {"m": "distinct options"})


def test_multi_given_as_an_empty_list_is_unanswered():
    optional, required = [q("m", "multi")], [q("m", "multi", required=True)]
    assert form.validate_answers(optional, {"m": []}) == {}
    assert form.clean_answers(optional, {"m": []}) == {}
    assert_errors(form.validate_answers(required, {"m": []}), {"m": "required"})


def test_text_longer_than_max_length_is_an_error():
    questions = [q("t", "text", max_length=5)]
    assert form.validate_answers(questions, {"t": "一二三四五"}) == {}
    assert_errors(form.validate_answers(questions, {"t": "一二三四五六"}), {"t": "longer than 5"})


def test_text_default_max_length_is_2000():
    questions = [{"id": "t", "type": "text", "text": "?"}]
    assert form.validate_answers(questions, {"t": "字" * 2000}) == {}
    assert_errors(form.validate_answers(questions, {"t": "字" * 2001}), {"t": "longer than 2000"})


def test_text_must_be_a_string():
    assert_errors(form.validate_answers(SURVEY, {**GOOD, "q5": 42}), {"q5": "text"})


@pytest.mark.parametrize("missing", [{}, {"q1": None}, {"q1": ""}])
def test_a_missing_required_answer_is_an_error(missing):
    answers = {"q2": "否", **missing}
    assert_errors(form.validate_answers(SURVEY, answers), {"q1": "required"})


def test_answering_a_hidden_question_is_an_error():
    assert_errors(form.validate_answers(SURVEY, {"q1": 5, "q2": "否", "q3": 4}), {"q3": "hidden"})


def test_every_bad_question_is_named_at_once():
    errors = form.validate_answers(SURVEY, {"q2": "否", "q3": 4, "q4": 11, "q5": 1, "x": 1})
    assert_errors(errors, {"q1": "required", "q3": "hidden", "q4": "0 to 10", "q5": "text",
                           "x": "unknown question"})


def test_errors_are_chinese_english_pairs_keyed_by_question_id():
    errors = form.validate_answers(SURVEY, {"q1": 9, "q2": "否"})
    assert list(errors) == ["q1"]
    assert isinstance(errors["q1"], list) and len(errors["q1"]) == 2
    assert all(isinstance(part, str) and part for part in errors["q1"])


# --- clean answers, ratings, NPS ------------------------------------------------------------------

def test_clean_answers_drops_blanks_and_keeps_question_order():
    answers = {"q5": "好", "q4": None, "q2": "否", "q1": 4, "q3": ""}
    cleaned = form.clean_answers(SURVEY, answers)
    assert cleaned == {"q1": 4, "q2": "否", "q5": "好"}
    assert list(cleaned) == ["q1", "q2", "q5"]


def test_ratings_of_use_the_survey_scale_weight_and_indicator():
    scale = {"5": 100, "4": 80, "3": 60, "2": 30, "1": 0}
    ratings = form.ratings_of(SURVEY, {"q1": 2, "q2": "是", "q3": 4, "q4": 9}, scale)
    assert ratings == [
        {"question": "q1", "department": "market", "indicator": "market-supervision",
         "indicator_name": "您对县市场监管局的服务是否满意？", "weight": 1.0, "level": 2, "points": 30.0},
        {"question": "q3", "department": "land", "indicator": "property-registration",
         "indicator_name": "不动产登记办理的满意度", "weight": 2.0, "level": 4, "points": 80.0},
    ]  # an indicator without an indicator_name is called by its question's text


def test_ratings_of_without_a_scale_are_linear():
    ratings = form.ratings_of(SURVEY, {"q1": 1, "q2": "是", "q3": 4}, None)
    # (level − 1) / 4 × 100: 1 → 0, 4 → 75
    assert [(r["question"], r["points"]) for r in ratings] == [("q1", 0.0), ("q3", 75.0)]


def test_ratings_of_default_weight_is_one():
    question = {"id": "r", "type": "rating5", "text": "?", "department": "tax", "indicator": "general"}
    (r,) = form.ratings_of([question], {"r": 3}, None)
    assert r["weight"] == 1.0 and r["points"] == 50.0


def test_ratings_of_skip_unanswered_rating_questions():
    assert [r["question"] for r in form.ratings_of(SURVEY, {"q1": 5, "q2": "否"}, None)] == ["q1"]


def test_nps_of_is_the_nps_answer_or_none():
    assert form.nps_of(SURVEY, GOOD) == 9
    assert form.nps_of(SURVEY, {"q1": 5, "q4": 0}) == 0
    assert form.nps_of(SURVEY, {"q1": 5}) is None


# --- check_definition ------------------------------------------------------------------------------

def test_the_design_example_definition_is_valid():
    assert form.check_definition(SURVEY, {"market", "land"}) == {}


def test_duplicate_question_ids_are_rejected():
    errors = form.check_definition([q("a", "text"), q("a", "nps")], {"market"})
    assert_errors(errors, {"a": "duplicate"})


def test_a_rating_of_an_unknown_department_is_rejected():
    errors = form.check_definition(SURVEY, {"market"})
    assert_errors(errors, {"q3": "unknown department land"})


def test_show_if_naming_a_later_question_is_rejected():
    errors = form.check_definition([q("a", "text", show_if={"b": "A"}), q("b", "single")], set())
    assert_errors(errors, {"a": "not an earlier question"})


def test_show_if_naming_an_unknown_question_is_rejected():
    errors = form.check_definition([q("a", "single"), q("b", "text", show_if={"zz": "A"})], set())
    assert_errors(errors, {"b": "not an earlier question"})


def test_show_if_naming_itself_is_rejected():
    errors = form.check_definition([q("a", "single", show_if={"a": "A"})], set())
    assert_errors(errors, {"a": "not an earlier question"})


@pytest.mark.parametrize("parent, value", [
    (q("a", "single"), "D"),
    (q("a", "single"), ["A"]),
    (q("a", "rating5"), 6),
    (q("a", "rating5"), "5"),
    (q("a", "nps"), 11),
    (q("a", "multi"), "D"),
])
def test_show_if_with_a_value_the_question_cannot_take_is_rejected(parent, value):
    errors = form.check_definition([parent, q("b", "text", show_if={"a": value})], {"market"})
    assert_errors(errors, {"b": "not a valid answer"})


@pytest.mark.parametrize("parent, value", [
    (q("a", "single"), "A"),
    (q("a", "rating5"), 1),
    (q("a", "nps"), 10),
    (q("a", "multi"), "C"),
])
def test_show_if_with_a_possible_value_is_accepted(parent, value):
    assert form.check_definition([parent, q("b", "text", show_if={"a": value})], {"market"}) == {}
