"""The no-JavaScript path of the respondent's page: a plain form POST turned into the answers dict that
`services.survey.answers.accept.accept` takes, so both paths share one acceptance function. Pure, no I/O."""
import re

from services.survey.surveys.form import is_visible

WHOLE_NUMBER = re.compile(r"-?\d{1,6}")


def answers_from_form(questions, form):
    """Answers from form fields (`form` has .get and .getlist, as request.form does).

    Without scripts every question is on the page, so answers to questions that skip logic hides are
    dropped here rather than refused: the respondent could not have known to leave them blank.
    """
    answers = {}
    for q in questions:
        if q["type"] == "multi":
            chosen = [v for v in form.getlist(q["id"]) if v]
            if chosen:
                answers[q["id"]] = chosen
            continue
        value = form.get(q["id"], "").strip()
        if not value:
            continue
        if q["type"] in ("rating5", "nps") and WHOLE_NUMBER.fullmatch(value):
            value = int(value)
        answers[q["id"]] = value
    shown = {}
    for q in questions:
        if q["id"] in answers:
            if is_visible(q, shown):
                shown[q["id"]] = answers[q["id"]]
            else:
                del answers[q["id"]]
    return answers


def reasons_from_form(questions, answers, form):
    """The reasons typed under ratings (`reason_<id>`); without scripts the box shows under every rating, so a
    reason beside a rating above 2 is dropped here rather than refused."""
    reasons = {}
    for q in questions:
        text = form.get(f"reason_{q['id']}", "").strip()
        if text and q["type"] == "rating5" and answers.get(q["id"]) in (1, 2):
            reasons[q["id"]] = text
    return reasons


def condition_text(question, by_id, numbers):
    """How a question's show_if reads to a respondent who sees every question: 第2题选“是”."""
    parts = [f"第{numbers[ref]}题选“{value}”" for ref, value in (question.get("show_if") or {}).items() if ref in by_id]
    return "且".join(parts)


def contact_ok_from_form(form):
    """The consent question's answer: only an explicit 同意 (`contact_ok=yes`) names the enterprise to a department."""
    return form.get("contact_ok", "") == "yes"
