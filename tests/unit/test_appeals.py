"""Appeals' rules (申诉复核): the window in Chinese working days, who may appeal, what the demand becomes."""
from datetime import UTC, datetime, timedelta

import pytest

from services.survey.appeals import rules
from services.survey.audit import records
from services.survey.demands import rules as demand_rules
from shared import messages
from shared.demand_figures import department_demand_figures, is_overdue
from shared.domain import SHANGHAI
from shared.errors import Conflict, Forbidden, Invalid

TERMS = demand_rules.Terms(ordinary_days=7, major_days=30, bad_rating_workdays=15)
SYSTEM = {"role": "system", "name": "差评自动整改"}
MARKET = {"_id": "k1", "role": "department", "name": "市场监管局", "department": "market"}
TAX = {"_id": "k2", "role": "department", "name": "税务局", "department": "tax"}
ADMIN = {"_id": "env-admin", "role": "admin", "name": "营商办"}


def local(y, m, d, h=10):
    return datetime(y, m, d, h, tzinfo=SHANGHAI).astimezone(UTC)


def bad_rating(at, contact_ok=False, comment="窗口态度差"):
    text = demand_rules.bad_rating_text(2, "窗口服务态度", comment)
    return demand_rules.new_bad_rating("d1", "market", text, at, SYSTEM, "91410100MA00000000",
                                       {"kind": "response", "id": "r1", "survey": "s1", "question": "q1"}, TERMS,
                                       contact_ok)


def test_the_window_counts_chinese_working_days_across_national_day():
    # Tue 29 Sep 2026; 1–7 Oct are off, Sat 10 Oct is a make-up working day: the 5th working day after is Mon 12 Oct.
    demand = bad_rating(local(2026, 9, 29))
    deadline = rules.check_may_file(MARKET, demand, local(2026, 10, 12, 23), 5)
    assert deadline.astimezone(SHANGHAI).date().isoformat() == "2026-10-12"
    rules.check_may_file(MARKET, demand, local(2026, 10, 7), 5)  # Mon–Fri counting would have closed it on 6 Oct
    with pytest.raises(Conflict) as late:
        rules.check_may_file(MARKET, demand, local(2026, 10, 13, 0), 5)
    assert "申诉期限已过" in late.value.errors["demand"][0]


def test_only_the_rated_department_appeals_and_only_a_bad_rating():
    demand = bad_rating(local(2026, 3, 2))
    with pytest.raises(Forbidden):
        rules.check_may_file(TAX, demand, local(2026, 3, 3), 5)
    with pytest.raises(Forbidden):
        rules.check_may_file(ADMIN, demand, local(2026, 3, 3), 5)
    ordinary = demand_rules.new_demand("d2", "market", "融资", "ordinary", "贷款难", local(2026, 3, 2), SYSTEM, "x",
                                       {"kind": "visit", "id": "v1"})
    with pytest.raises(Invalid):
        rules.check_may_file(MARKET, ordinary, local(2026, 3, 3), 5)


def test_the_rating_is_read_back_from_the_demand_text():
    assert demand_rules.rating_of(bad_rating(local(2026, 3, 2))) == {
        "level": 2, "subject": "窗口服务态度", "comment": "窗口态度差"}
    assert demand_rules.rating_of(bad_rating(local(2026, 3, 2), comment=None))["comment"] is None
    multiline = bad_rating(local(2026, 3, 2), comment="第一行\n第二行；还有")
    assert demand_rules.rating_of(multiline)["comment"] == "第一行\n第二行；还有"


def test_a_department_never_sees_an_anonymous_rater_in_an_appeal():
    demand = bad_rating(local(2026, 3, 2, 15))
    appeal = rules.new_appeal("a1", demand, "评价与事实不符", local(2026, 3, 3), demand_rules.actor_of(MARKET))
    seen = rules.as_seen_by(MARKET, appeal, demand)
    assert seen["rating"]["enterprise"] is None and seen["rating"]["anonymous"] is True
    assert seen["rating"]["at"] == datetime(2026, 3, 2, tzinfo=SHANGHAI)  # the day, not the moment
    assert "r1" not in repr(seen) and "91410100MA00000000" not in repr(seen)
    assert seen["rating"]["level"] == 2 and seen["rating"]["comment"] == "窗口态度差"
    assert rules.as_seen_by(ADMIN, appeal, demand)["rating"]["enterprise"] == "91410100MA00000000"
    consented = bad_rating(local(2026, 3, 2), contact_ok=True)
    assert rules.as_seen_by(MARKET, appeal, consented)["rating"]["enterprise"] == "91410100MA00000000"


def test_a_pending_appeal_stops_the_overdue_count_and_an_upheld_one_closes_the_demand():
    opened = local(2026, 3, 2)
    demand = bad_rating(opened)
    late = demand["deadline"] + timedelta(days=1)
    assert is_overdue(demand, late)
    pending = demand_rules.apply(demand, demand_rules.appeal_filed(demand, "a1", opened, demand_rules.actor_of(MARKET)))
    assert pending["status"] == "assigned" and not is_overdue(pending, late)
    assert department_demand_figures([pending], late, 1)["overdue"] == 0
    event = demand_rules.updated_event(pending)["data"]
    assert event["appeal_pending"] is True and messages.DemandStateSchema().load(
        {**event, "received_at": event["received_at"]})["appeal_pending"] is True

    rejected = demand_rules.apply(pending, demand_rules.appeal_decided(pending, False, opened, ADMIN, "证据不足"))
    assert rejected["status"] == "assigned" and rejected["deadline"] == demand["deadline"] and is_overdue(rejected, late)
    upheld = demand_rules.apply(pending, demand_rules.appeal_decided(pending, True, opened, ADMIN, "属误评"))
    assert (upheld["status"], upheld["closure"], upheld["appeal_pending"]) == ("closed", "appeal_upheld", False)
    assert [h["action"] for h in upheld["history"]][-2:] == ["appeal", "appeal_upheld"]
    assert demand_rules.updated_event(upheld)["data"]["closure"] == "appeal_upheld"


def test_appeal_events_carry_no_enterprise():
    demand = bad_rating(local(2026, 3, 2))
    appeal = rules.new_appeal("a1", demand, "理由", local(2026, 3, 3), demand_rules.actor_of(MARKET))
    message = rules.event(appeal, messages.APPEAL_FILED)
    assert messages.decode(messages.encode(message))["data"]["status"] == "pending"
    assert "91410100MA00000000" not in repr(message) and "r1" not in repr(message)
    decided = {**appeal, **rules.decided(appeal, "upheld", "属误评", local(2026, 3, 4), ADMIN)}
    assert rules.event(decided, messages.APPEAL_DECIDED)["id"] == "a1:upheld"
    with pytest.raises(Conflict):
        rules.check_may_decide(decided)


def test_an_audit_entry_names_the_key_never_the_key_itself():
    entry = records.entry({**ADMIN, "hash": "secret-digest"}, "key.create", "key:k9", details={"role": "cadre"})
    assert entry["actor"] == {"key": "env-admin", "name": "营商办", "role": "admin"}
    assert "secret-digest" not in repr(entry)
    assert records.entry(None, "appeal.decide", "appeal:a1")["actor"]["role"] == "system"
