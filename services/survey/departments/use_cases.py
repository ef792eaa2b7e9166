"""Creating departments (责任单位)."""
from shared import messages
from shared.domain import utcnow
from shared.errors import AlreadyExists, pair


def create_department(services, code, name):
    """The department and its `department.changed` event, in one unit of work: neither exists alone.

    Scoring learns of departments through events, so the gateway lists them before any rating.
    """
    uow = services.unit_of_work()
    services.departments.add(uow, code, name, utcnow())
    uow.event(messages.DEPARTMENT_CHANGED, messages.envelope(messages.DEPARTMENT_CHANGED, {"code": code, "name": name}))
    try:
        uow.commit()
    except AlreadyExists as exc:
        raise AlreadyExists(f"department {code} exists", {"code": pair("部门代码已存在", "already exists")}) from exc
    return {"code": code, "name": name}
