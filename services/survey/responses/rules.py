"""Raw answers as people read them: which questions are about a department, columns, cells, labels, filters.

Pure functions, no I/O.

The comment rule (which text answers are about a department): a `text` question belongs to the department
it names in `department`; a `text` question without one that comes right after a `rating5` question belongs
to that rating's department (the 意见 box under a department's rating). Other text questions (a survey's
closing 意见和建议) belong to no department: administrators read them in the raw answers.
"""
import re
from dataclasses import dataclass
from datetime import UTC

from shared.domain import LEVEL_NAMES, SEGMENT_ATTRIBUTES, SHANGHAI

CURSOR = re.compile(r"[0-9a-f]{1,64}")


def comment_departments(questions):
    """{text question id: department} by the comment rule above."""
    owners, previous = {}, None
    for q in questions:
        if q["type"] == "text":
            owner = q.get("department") or (previous["department"] if previous and previous["type"] == "rating5"
                                            else None)
            if owner:
                owners[q["id"]] = owner
        previous = q
    return owners


def questions_about(questions, department=None):
    """The questions a reader sees: all of them, or only those about `department` (its ratings and comments)."""
    if department is None:
        return list(questions)
    owners = comment_departments(questions)
    return [q for q in questions if (q["type"] == "rating5" and q["department"] == department)
            or owners.get(q["id"]) == department]


def numbers_of(questions):
    """Question numbers as the respondent saw them: the position in the whole survey, from 1."""
    return {q["id"]: n for n, q in enumerate(questions, start=1)}


def label_of(question, value):
    """The words for an answer: 非常满意 for a rating of 5, the option(s) chosen, the text itself."""
    if question["type"] == "rating5":
        return LEVEL_NAMES.get(value)
    if question["type"] == "multi":
        return "、".join(value)
    return str(value)


def answer_items(questions, numbers, answers):
    """The answers of one response in question order, each with its question's number, text and label."""
    return [{"question": q["id"], "number": numbers[q["id"]], "text": q["text"], "type": q["type"],
             "value": answers[q["id"]], "label": label_of(q, answers[q["id"]])}
            for q in questions if q["id"] in answers]


@dataclass(frozen=True)
class Column:
    header: str
    question: str = None
    option: str = None  # a multi-choice question has one column per option: 1 chosen, 0 not chosen


def question_columns(questions, numbers):
    columns = []
    for q in questions:
        head = f"{numbers[q['id']]}. {q['text']}"
        if q["type"] == "multi":
            columns += [Column(f"{head}：{option}", q["id"], option) for option in q["options"]]
        else:
            columns.append(Column(head, q["id"]))
    return columns


def question_cells(columns, answers):
    """One row's answer cells: blank where a question was not answered (skipped, hidden or optional)."""
    cells = []
    for c in columns:
        value = answers.get(c.question)
        if value is None:
            cells.append(None)
        elif c.option is not None:
            cells.append(1 if c.option in value else 0)
        else:
            cells.append(value)
    return cells


def local_time(moment):
    """A stored moment (UTC) as the county reads it, to the second."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def response_filter(survey_id, query, questions):
    """The MongoDB filter of a raw-answer query (see ResponseQuerySchema for the meaning of each filter)."""
    clauses = [{"survey_id": survey_id}]
    if query.get("cursor"):
        clauses.append({"_id": {"$gt": query["cursor"]}})
    if query.get("since"):
        clauses.append({"created_at": {"$gte": query["since"]}})
    if query.get("until"):
        clauses.append({"created_at": {"$lt": query["until"]}})
    for attribute in SEGMENT_ATTRIBUTES:
        if query.get(attribute):
            clauses.append({f"message.data.enterprise.{attribute}": query[attribute]})
    about = questions_about(questions, query.get("department"))
    if query.get("department"):
        clauses.append(any_answered([q["id"] for q in about]))
    if query.get("has_text") is not None:
        texts = any_answered([q["id"] for q in about if q["type"] == "text"])
        clauses.append(texts if query["has_text"] else {"$nor": [texts]})
    if query.get("level"):
        rating = {"level": {"$lte": query["level"]}}
        if query.get("department"):
            rating["department"] = query["department"]
        clauses.append({"message.data.ratings": {"$elemMatch": rating}})
    return {"$and": clauses}


def any_answered(question_ids):
    if not question_ids:
        return {"_id": {"$in": []}}  # matches nothing
    return {"$or": [{f"answers.{qid}": {"$exists": True}} for qid in question_ids]}
