"""Surveys: draft → open → closed, questions frozen once open (a change then makes a new version)."""
from services.survey.surveys import form
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
    services.surveys.set_status(survey_id, doc["status"], to, utcnow())
    return summary(survey_or_404(services, survey_id))


def open_survey(services, survey_id):
    return transition(services, survey_id, ("draft",), "open")


def close_survey(services, survey_id):
    return transition(services, survey_id, ("open",), "closed")
