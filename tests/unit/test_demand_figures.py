"""Demand figures, against values computed by hand."""
from datetime import UTC, datetime, timedelta

import pytest

from services.scoring.planning import plan_batch
from shared import demand_figures as f
from shared import messages

T0 = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=20)


def demand(status, assigned_after=None, deadline_days=None, resolved_after=None, callback=None, department="market"):
    return {"department": department, "status": status, "received_at": T0,
            "first_assigned_at": T0 + assigned_after if assigned_after is not None else None,
            "deadline": T0 + timedelta(days=deadline_days) if deadline_days is not None else None,
            "first_resolved_at": T0 + resolved_after if resolved_after is not None else None,
            "first_resolution_deadline": T0 + timedelta(days=deadline_days)
            if resolved_after is not None and deadline_days is not None else None,
            "callback_level": callback}


H, D = timedelta(hours=1), timedelta(days=1)
DEMANDS = [
    demand("received"),                                                        # open, never assigned
    demand("assigned", assigned_after=2 * H, deadline_days=7),                 # open, overdue (day 7 < day 20)
    demand("assigned", assigned_after=D, deadline_days=30),                    # open, exactly 24 h: within 1 day
    demand("resolved", assigned_after=3 * D, deadline_days=10, resolved_after=9 * D),   # on time, open, overdue
    demand("closed", assigned_after=H, deadline_days=7, resolved_after=8 * D, callback=4),  # late, closed
    demand("closed", assigned_after=H, deadline_days=7, resolved_after=7 * D, callback=5),  # exactly on the deadline
    demand("assigned", assigned_after=H, deadline_days=25, resolved_after=2 * D, callback=1),  # reopened after 差评
]


def test_department_figures_by_hand():
    got = f.department_demand_figures(DEMANDS, NOW, min_n=3)
    assert got == {"received": 7, "assigned_within_1_day": 5, "resolved": 4, "resolved_on_time": 3,
                   "on_time_rate": 0.75, "open": 5, "overdue": 2, "callback_n": 3,
                   "callback_index": (75 + 100 + 0) / 3, "suppressed": False}


def test_callback_index_is_withheld_below_min_n_callbacks():
    got = f.department_demand_figures(DEMANDS, NOW, min_n=4)
    assert got["callback_n"] == 3 and got["callback_index"] is None and got["suppressed"]


def test_empty_department():
    got = f.department_demand_figures([], NOW, min_n=1)
    assert got["received"] == 0 and got["on_time_rate"] is None and got["callback_index"] is None


def test_every_known_department_appears_and_departments_with_demands_too():
    stats = f.demand_stats(DEMANDS[:2] + [demand("received", department="zz")], ["land", "market"], NOW, 5)
    assert [s["code"] for s in stats] == ["land", "market", "zz"]
    assert [s["received"] for s in stats] == [0, 2, 1]


@pytest.mark.parametrize("level,points", [(1, 0), (2, 25), (3, 50), (4, 75), (5, 100)])
def test_callback_points_are_linear(level, points):
    assert f.callback_index([level]) == points


def state(version, status="assigned", demand_id="d1"):
    data = {"demand_id": demand_id, "version": version, "department": "market", "category": "融资",
            "urgency": "ordinary", "status": status, "period": "2026Q4", "received_at": T0.isoformat()}
    return messages.decode(messages.encode(messages.envelope(messages.DEMAND_UPDATED, data,
                                                             id_=f"{demand_id}:{version}")))


def test_the_worker_keeps_the_newest_version_whatever_the_order():
    writes = plan_batch([state(3, "resolved"), state(2), state(4, "closed"), state(1, "received")], set())
    assert writes.demands["d1"]["version"] == 4 and writes.demands["d1"]["status"] == "closed"
    assert plan_batch([state(2)], set(), demand_versions={"d1": 3}).demands == {}  # older than stored: nothing to write
    assert plan_batch([state(2)], {"d1:2"}).demands == {}  # already processed: nothing at all
