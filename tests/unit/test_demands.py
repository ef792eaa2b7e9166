"""The demand ledger's rules: every legal and illegal transition, deadlines over holidays, events."""
from datetime import UTC, date, datetime, timedelta

import pytest

from services.survey.demands import rules
from shared import messages
from shared.domain import SHANGHAI

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai
ADMIN = {"role": "admin", "name": "营商办"}
DEPT = {"role": "department", "name": "市场监管局", "department": "market"}
TERMS = rules.Terms(ordinary_days=7, major_days=30, bad_rating_workdays=15)
ENT = "91410100MA00000000"


def received(category="融资", urgency="ordinary"):
    return rules.new_demand("d1", "market", category, urgency, "贷款难", AT, ADMIN, ENT, {"kind": "visit", "id": "v1"})


def step(demand, action, at=AT, **kw):
    change = {
        "assign": lambda: rules.assign(demand, kw.get("department", "market"), kw.get("deadline"), at, ADMIN, TERMS),
        "progress": lambda: rules.progress(demand, "正在协调", at, DEPT),
        "resolve": lambda: rules.resolve(demand, "已放贷", at, DEPT),
        "callback": lambda: rules.callback(demand, kw.get("level", 4), None, at, ADMIN, TERMS),
    }[action]()
    return rules.apply(demand, change)


def in_status(status):
    demand = received()
    path = {"received": [], "assigned": ["assign"], "resolved": ["assign", "resolve"],
            "closed": ["assign", "resolve", "callback"]}[status]
    for action in path:
        demand = step(demand, action)
    assert demand["status"] == status
    return demand


# --- the state machine: every (status, action) pair ----------------------------------------------------
LEGAL = {("received", "assign"): "assigned", ("assigned", "assign"): "assigned",
         ("assigned", "progress"): "assigned", ("assigned", "resolve"): "resolved",
         ("resolved", "callback"): "closed"}


@pytest.mark.parametrize("status", ["received", "assigned", "resolved", "closed"])
@pytest.mark.parametrize("action", rules.ACTIONS)
def test_every_transition_is_either_legal_with_its_target_or_a_409_with_a_reason(status, action):
    demand = in_status(status)
    if (status, action) in LEGAL:
        after = step(demand, action)
        assert after["status"] == LEGAL[(status, action)]
        assert after["version"] == demand["version"] + 1
        assert after["history"][:-1] == demand["history"]  # append-only
        assert after["history"][-1]["action"] == action
    else:
        with pytest.raises(rules.IllegalTransition) as caught:
            step(demand, action)
        zh, en = caught.value.reason
        assert zh and en and caught.value.status == status


def test_resolve_before_assign_says_why():
    with pytest.raises(rules.IllegalTransition) as caught:
        step(received(), "resolve")
    assert caught.value.reason == ["诉求尚未交办，不能办结", "the demand must be assigned before it is resolved"]


def test_a_bad_callback_reopens_with_a_fresh_term_and_keeps_the_first_resolution():
    demand = step(step(received(), "assign"), "resolve", at=AT + timedelta(days=3))
    later = AT + timedelta(days=5)
    reopened = step(demand, "callback", at=later, level=2)
    assert reopened["status"] == "assigned" and reopened["reopened"] == 1
    assert reopened["deadline"] == later + timedelta(days=7)
    assert reopened["callback_level"] == 2 and reopened["callbacks"] == 1
    again = step(step(reopened, "resolve", at=later + timedelta(days=20)), "callback", level=5)
    assert again["status"] == "closed" and again["callback_level"] == 5 and again["callbacks"] == 2
    # the first resolution (day 3, due day 7) is the one measured; the late second one is not
    assert again["first_resolved_at"] == AT + timedelta(days=3)
    assert again["first_resolution_deadline"] == AT + timedelta(days=7)
    assert [h["action"] for h in again["history"]] == ["receive", "assign", "resolve", "callback", "resolve", "callback"]


@pytest.mark.parametrize("level,status", [(1, "assigned"), (2, "assigned"), (3, "closed"), (4, "closed"), (5, "closed")])
def test_callback_levels(level, status):
    assert step(in_status("resolved"), "callback", level=level)["status"] == status


def test_default_deadlines_seven_and_thirty_days_or_explicit():
    assert step(received(), "assign")["deadline"] == AT + timedelta(days=7)
    assert step(received(urgency="major"), "assign")["deadline"] == AT + timedelta(days=30)
    explicit = AT + timedelta(days=2)
    assert step(received(), "assign", deadline=explicit)["deadline"] == explicit


def test_reassignment_keeps_the_first_assignment_time():
    first = step(received(), "assign")
    moved = step(first, "assign", at=AT + timedelta(hours=30), department="land")
    assert moved["department"] == "land" and moved["first_assigned_at"] == AT
    assert moved["assigned_at"] == AT + timedelta(hours=30)


# --- working days: Spring Festival 2026 (15–23 Feb off, Sat 14 and Sat 28 Feb worked) ---------------------
def test_working_days_respect_the_spring_festival_and_make_up_saturdays():
    assert rules.is_working_day(date(2026, 2, 14))  # a Saturday, 调休 make-up day
    assert not rules.is_working_day(date(2026, 2, 16))  # a Monday in the holiday
    assert rules.is_working_day(date(2026, 2, 28))  # Saturday make-up day after the holiday
    # opened Friday 13 Feb: Sat 14 (1), holiday 15–23, then 24,25,26,27 (5), Sat 28 (6), 2–6 Mar (11), 9–12 Mar (15)
    assert rules.working_days_after(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert rules.working_days_after(date(2026, 2, 13), 6) == date(2026, 2, 28)
    assert rules.working_days_after(date(2026, 2, 13), 15) == date(2026, 3, 12)


def test_bad_rating_deadline_is_the_end_of_the_15th_working_day_in_shanghai():
    # 2026-02-12 20:00 UTC is already Friday 13 Feb 04:00 in Shanghai: the count starts from the 13th.
    opened = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)
    deadline = rules.bad_rating_deadline(opened, 15)
    assert deadline == datetime(2026, 3, 12, 23, 59, 59, 999000, tzinfo=SHANGHAI)
    # an ordinary week: opened Monday 2 March → 15 working days → Monday 23 March
    assert rules.bad_rating_deadline(AT, 15).date() == date(2026, 3, 23)


def test_years_beyond_the_calendar_fall_back_to_monday_to_friday():
    assert rules.working_days_after(date(2030, 1, 4), 1) == date(2030, 1, 7)  # Friday → Monday


def test_a_bad_rating_demand_opens_assigned_with_the_working_day_deadline():
    opened = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)
    demand = rules.new_bad_rating("b1", "tax", rules.bad_rating_text(2, "纳税服务", "退税慢"), opened,
                                  {"role": "system"}, ENT, {"kind": "response", "id": "r1"}, TERMS)
    assert demand["category"] == "bad_rating" and demand["status"] == "assigned"
    assert demand["first_assigned_at"] == opened and demand["period"] == "2026Q1"
    assert demand["deadline"] == datetime(2026, 3, 12, 23, 59, 59, 999000, tzinfo=SHANGHAI)
    assert demand["text"] == "差评整改：「纳税服务」评价为「不满意」（2 级）；企业意见：退税慢"
    # its reopening after a bad callback takes 15 working days again, not 7 days
    resolved = rules.apply(demand, rules.resolve(demand, "已整改", opened, DEPT))
    reopened = rules.apply(resolved, rules.callback(resolved, 1, None, opened, ADMIN, TERMS))
    assert reopened["deadline"] == demand["deadline"]


def test_a_department_key_sees_only_its_department():
    demand = received()
    assert rules.may_see(DEPT, demand) and rules.may_see(ADMIN, demand)
    assert not rules.may_see({**DEPT, "department": "tax"}, demand)


def test_the_updated_event_carries_state_but_not_the_enterprise_or_texts():
    demand = step(step(received(), "assign"), "resolve", at=AT + timedelta(days=1))
    message = messages.decode(messages.encode(rules.updated_event(demand)))
    assert message["id"] == "d1:3" and message["type"] == messages.DEMAND_UPDATED
    data = message["data"]
    assert data["version"] == 3 and data["status"] == "resolved" and data["first_resolved_at"] == AT + timedelta(days=1)
    assert data["first_resolution_deadline"] == AT + timedelta(days=7)
    raw = messages.encode(rules.updated_event(demand)).decode()
    assert ENT not in raw and "贷款难" not in raw and "已放贷" not in raw
