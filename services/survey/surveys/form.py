"""A survey's questions as a form: definition checks, skip logic (`show_if`) and answer validation.

Pure functions, no I/O. Error messages are [Chinese, English] pairs, keyed by question id.
"""
from shared.domain import points_for


def msg(zh, en):
    return [zh, en]


def check_definition(questions, known_departments):
    """Errors of a survey's questions beyond their own schema: ids, departments, show_if references."""
    errors, seen = {}, {}
    for q in questions:
        qid = q["id"]
        if qid in seen:
            errors[qid] = msg("题号重复", "duplicate question id")
            continue
        if q["type"] == "rating5" and q["department"] not in known_departments:
            errors[qid] = msg(f"未知部门 {q['department']}", f"unknown department {q['department']}")
        for ref, value in (q.get("show_if") or {}).items():
            if ref not in seen:
                errors[qid] = msg(f"show_if 引用的 {ref} 不是前面的题目", f"show_if names {ref}, not an earlier question")
            elif not _is_valid_show_if_value(seen[ref], value):
                errors[qid] = msg(f"show_if 中 {ref} 的取值无效", f"show_if value for {ref} is not a valid answer")
        seen[qid] = q
    return errors


def is_visible(question, answers):
    """A question is shown only when every earlier answer named in `show_if` equals the given value."""
    for ref, value in (question.get("show_if") or {}).items():
        given = answers.get(ref)
        if isinstance(given, list):
            if value not in given:
                return False
        elif given != value:
            return False
    return True


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_valid_value(q, value):
    return _value_error(q, value) is None


def _is_valid_show_if_value(q, value):
    # is_visible reads a multi answer as "this option is among those chosen"
    if q["type"] == "multi":
        return isinstance(value, str) and value in q["options"]
    return _is_valid_value(q, value)


def _value_error(q, value):
    kind = q["type"]
    if kind == "rating5":
        if not _is_int(value) or not 1 <= value <= 5:
            return msg("请选择 1–5 的评价等级", "must be a whole number from 1 to 5")
    elif kind == "nps":
        if not _is_int(value) or not 0 <= value <= 10:
            return msg("请选择 0–10 的分值", "must be a whole number from 0 to 10")
    elif kind == "single":
        if not isinstance(value, str) or value not in q["options"]:
            return msg("请从选项中选择一项", "must be one of the options")
    elif kind == "multi":
        if (not isinstance(value, list) or not value or len(set(map(repr, value))) != len(value)
                or any(not isinstance(v, str) or v not in q["options"] for v in value)):
            return msg("请从选项中选择一项或多项（不重复）", "must be a non-empty list of distinct options")
    elif kind == "text":
        if not isinstance(value, str):
            return msg("请填写文字", "must be text")
        if len(value) > q.get("max_length", 2000):
            return msg(f"不能超过 {q.get('max_length', 2000)} 字", f"longer than {q.get('max_length', 2000)} characters")
    return None


def _is_blank(value):
    return value is None or value == "" or value == []


def validate_answers(questions, answers):
    """{question id: [zh, en]} for every bad answer; empty when the answers are acceptable."""
    errors = {}
    by_id = {q["id"]: q for q in questions}
    for qid in answers:
        if qid not in by_id:
            errors[qid] = msg("问卷中没有这道题", "unknown question")
    given = {k: v for k, v in answers.items() if k in by_id and not _is_blank(v)}
    shown = {}  # answers of visible questions only: a hidden question's answer shows nothing
    for q in questions:
        qid = q["id"]
        visible = is_visible(q, shown)
        if qid in given:
            if not visible:
                errors[qid] = msg("此题根据前面的回答不应作答", "answered but hidden by show_if")
            else:
                shown[qid] = given[qid]
                problem = _value_error(q, given[qid])
                if problem:
                    errors[qid] = problem
        elif visible and q.get("required"):
            errors[qid] = msg("此题为必答题", "required")
    return errors


REASON_LENGTH = 500


def validate_reasons(questions, answers, reasons):
    """Errors of the reasons given for 差评: each names a rating5 question answered at level 1 or 2."""
    errors, by_id = {}, {q["id"]: q for q in questions}
    for qid, text in reasons.items():
        q, level = by_id.get(qid), answers.get(qid)
        if q is None or q["type"] != "rating5":
            errors[f"reasons.{qid}"] = msg("只有好差评题可以填写原因", "a reason belongs to a rating question")
        elif not _is_int(level) or level > 2:
            errors[f"reasons.{qid}"] = msg("评价为不满意或非常不满意时才填写原因", "a reason goes with a rating of 1 or 2")
        elif not isinstance(text, str) or len(text) > REASON_LENGTH:
            errors[f"reasons.{qid}"] = msg(f"原因请用文字，不超过 {REASON_LENGTH} 字",
                                           f"must be text of at most {REASON_LENGTH} characters")
    return errors


def clean_reasons(reasons):
    """Reasons with blank texts dropped (anything not text stays, for validate_reasons to refuse)."""
    out = {}
    for qid, text in (reasons or {}).items():
        if isinstance(text, str):
            text = text.strip()
            if not text:
                continue
        out[qid] = text
    return out


def clean_answers(questions, answers):
    """The answers with blanks dropped, in question order (call after validate_answers)."""
    return {q["id"]: answers[q["id"]] for q in questions if not _is_blank(answers.get(q["id"]))}


def indicator_name(question):
    """What readers call a rating question's indicator: its `indicator_name`, else the question's text."""
    return question.get("indicator_name") or question["text"][:100]


def ratings_of(questions, answers, scale):
    """The department ratings an answer set carries: one per answered rating5 question."""
    ratings = []
    for q in questions:
        if q["type"] == "rating5" and q["id"] in answers:
            level = answers[q["id"]]
            ratings.append({"question": q["id"], "department": q["department"], "indicator": q["indicator"],
                            "indicator_name": indicator_name(q),
                            "weight": q.get("weight", 1.0), "level": level, "points": points_for(level, scale)})
    return ratings


def choices_of(questions, answers):
    """The single- and multi-choice questions answered, for scoring's option counts (messages.ChoiceSchema);
    numbered as the respondent saw them: the position in the whole survey, from 1."""
    return [{"question": q["id"], "number": number, "text": q["text"], "type": q["type"], "options": q["options"],
             "chosen": answers[q["id"]] if q["type"] == "multi" else [answers[q["id"]]]}
            for number, q in enumerate(questions, start=1) if q["type"] in ("single", "multi") and q["id"] in answers]


def nps_of(questions, answers):
    for q in questions:
        if q["type"] == "nps" and q["id"] in answers:
            return answers[q["id"]]
    return None
