"""Surveys: draft → open → closed, questions frozen once open (a change then makes a new version)."""
from marshmallow import ValidationError

from services.survey.surveys import form, xlsform
from services.survey.surveys.schemas import SurveyDefinitionSchema
from services.survey.unit_of_work import StaleUpdate
from shared import messages
from shared.domain import utcnow
from shared.errors import Conflict, Invalid, NotFound, pair


def summary(doc):
    return {"id": doc["_id"], "code": doc["code"], "version": doc["version"], "status": doc["status"]}


def survey_or_404(services, survey_id):
    doc = services.surveys.get(survey_id)
    if doc is None:
        raise NotFound(f"no survey {survey_id}", {"survey_id": pair("问卷不存在", "unknown survey")})
    return doc


def question_errors(services, questions):
    """Errors of a definition's questions beyond their schema (ids, departments, show_if), keyed by id."""
    return form.check_definition(questions, services.departments.codes())


def create_survey(services, definition):
    """A new draft (a code that exists gets its next version)."""
    errors = question_errors(services, definition["questions"])
    if errors:
        raise Invalid("some questions are not valid", {"questions": errors})
    return summary(services.surveys.add_version(definition, utcnow()))


def replace_survey(services, survey_id, definition):
    """(summary, created): a draft changes in place; an open or closed survey is frozen, so a new version."""
    doc = survey_or_404(services, survey_id)
    if definition["code"] != doc["code"]:
        raise Invalid("the code of a survey cannot change",
                      {"code": pair("问卷代码不能修改", "differs from the survey's")})
    errors = question_errors(services, definition["questions"])
    if errors:
        raise Invalid("some questions are not valid", {"questions": errors})
    if doc["status"] == "draft" and services.surveys.replace_draft(survey_id, definition):
        return summary({**doc, **definition}), False
    return summary(services.surveys.add_version(definition, utcnow())), True


def transition(services, survey_id, allowed_from, to):
    doc = survey_or_404(services, survey_id)
    if to == "closed" and doc["status"] in ("open", "closed"):
        # Before the status: answer paths cache open surveys and learn of the close from the invitation.
        services.invitations.close(survey_id)
    if doc["status"] == to:
        return summary(doc)
    if doc["status"] not in allowed_from:
        raise Conflict(f"a {doc['status']} survey cannot become {to}",
                       {"status": pair(f"问卷状态为 {doc['status']}，不能变为 {to}", f"a {doc['status']} survey")})
    # The change and its event (survey.opened / survey.closed, which webhooks offer) in one unit of work.
    at, uow = utcnow(), services.unit_of_work()
    services.surveys.stage_status(uow, survey_id, doc["status"], to, at)
    event = status_event({**doc, "status": to}, at)
    uow.event(event["type"], event)
    try:
        uow.commit()
    except StaleUpdate:
        pass  # another request moved it first (and raised the event); answer with what it is now
    return summary(survey_or_404(services, survey_id))


def status_event(survey, at):
    """`survey.opened` / `survey.closed`; the id names the survey and status, so it is raised once."""
    type_ = messages.SURVEY_OPENED if survey["status"] == "open" else messages.SURVEY_CLOSED
    data = {"survey_id": survey["_id"], "code": survey["code"], "version": survey["version"],
            "title": survey.get("title"), "period": survey.get("period"), "status": survey["status"]}
    return messages.envelope(type_, data, id_=f"{type_}:{survey['_id']}", occurred_at=at)


def open_survey(services, survey_id):
    return transition(services, survey_id, ("draft",), "open")


def close_survey(services, survey_id):
    return transition(services, survey_id, ("open",), "closed")


def delete_draft(services, survey_id):
    doc = survey_or_404(services, survey_id)
    if not services.surveys.delete_draft(survey_id):
        raise Conflict(f"a {doc['status']} survey cannot be deleted; only drafts can",
                       {"status": pair(f"只能删除草稿问卷（此问卷状态为 {doc['status']}）", "only a draft can be deleted")})


def by_row(errors, questions, rows):
    """Per-question errors (keyed by index or id) re-keyed by the survey sheet's row, as the admin sees it,
    in row order."""
    out = {}
    for key, problem in errors.items():
        qid = questions[key]["id"] if isinstance(key, int) and key < len(questions) else key
        out[f"row {rows[qid]}" if qid in rows else f"question {qid}"] = problem
    return {k: out[k] for k in sorted(out, key=xlsform.row_order)}


FIELD_NAMES = {"code": ("问卷代码（settings 表的 form_id，或文件名）", "survey code (settings form_id, or the file name)"),
               "title": ("问卷标题（settings 表的 form_title）", "title (settings form_title)"),
               "period": ("期间（settings 表的 period，如 2026Q4）", "period (settings period, e.g. 2026Q4)")}


def bilingual(messages, definition, rows):
    """Schema errors of the mapped definition in Chinese and English, questions by row, rows in order."""
    errors = {}
    for field, problem in messages.items():
        if field == "questions" and isinstance(problem, dict):
            continue
        zh, en = FIELD_NAMES.get(field, (field, field))
        errors[field] = pair(f"{zh}无效：{problem}", f"{en} is not valid: {problem}")
    if isinstance(messages.get("questions"), dict):
        for key, problem in by_row(messages["questions"], definition["questions"], rows).items():
            where = f"第 {key[4:]} 行" if key.startswith("row") else key
            errors[key] = pair(f"{where}：题目设置无效 {problem}", f"{key}: not a valid question {problem}")
    return errors


def import_xlsform(services, content, filename=None):
    """A draft survey from an XLSForm file, with the warnings of what it ignored; Invalid names each row that
    cannot be mapped and why, in row order, in Chinese and English."""
    warnings = []
    form_json, rows = xlsform.parse(content, filename)
    definition = xlsform.definition_of(form_json, rows, warnings)
    try:
        body = SurveyDefinitionSchema().load(definition)
    except ValidationError as invalid:
        raise Invalid("the survey in the workbook is not valid", bilingual(invalid.messages, definition, rows)) \
            from invalid
    problems = form.check_definition(body["questions"], services.departments.codes())
    if problems:
        raise Invalid("some questions are not valid", by_row(problems, body["questions"], rows))
    return {**summary(services.surveys.add_version(body, utcnow())), "warnings": warnings}
