"""The no-JavaScript form: form fields → the answers dict that answers.accept takes (pure)."""
from werkzeug.datastructures import MultiDict

from services.survey.answers.form_post import answers_from_form, condition_text

QUESTIONS = [
    {"id": "q1", "type": "rating5", "text": "a", "department": "d"},
    {"id": "q2", "type": "single", "text": "b", "options": ["是", "否"]},
    {"id": "q3", "type": "rating5", "text": "c", "department": "d", "show_if": {"q2": "是"}},
    {"id": "q4", "type": "nps", "text": "d"},
    {"id": "q5", "type": "multi", "text": "e", "options": ["x", "y", "z"]},
    {"id": "q6", "type": "text", "text": "f"},
]


def test_fields_become_typed_answers():
    form = MultiDict([("q1", "4"), ("q2", "是"), ("q3", "2"), ("q4", "10"), ("q5", "x"), ("q5", "z"),
                      ("q6", "  很好  "), ("other", "ignored")])
    assert answers_from_form(QUESTIONS, form) == {"q1": 4, "q2": "是", "q3": 2, "q4": 10, "q5": ["x", "z"], "q6": "很好"}


def test_blanks_are_left_out_and_odd_values_left_for_validation_to_refuse():
    form = MultiDict([("q1", "五"), ("q4", ""), ("q6", "   "), ("q5", "")])
    assert answers_from_form(QUESTIONS, form) == {"q1": "五"}


def test_answers_to_questions_hidden_by_skip_logic_are_dropped():
    assert answers_from_form(QUESTIONS, MultiDict([("q2", "否"), ("q3", "5")])) == {"q2": "否"}
    assert answers_from_form(QUESTIONS, MultiDict([("q3", "5")])) == {}


def test_condition_text_names_the_question_by_number():
    by_id = {q["id"]: q for q in QUESTIONS}
    numbers = {q["id"]: n for n, q in enumerate(QUESTIONS, start=1)}
    assert condition_text(QUESTIONS[2], by_id, numbers) == "第2题选“是”"
    assert condition_text(QUESTIONS[0], by_id, numbers) == ""
