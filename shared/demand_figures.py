"""Demand figures per department (DESIGN §5–6): pure arithmetic over demand states, no I/O.

A demand state is the `data` of its newest `demand.updated` event (datetimes, not strings).
"""
from datetime import timedelta

from shared.domain import linear_points

ASSIGN_WITHIN = timedelta(days=1)  # 万人助万企: a demand is assigned within one day of being received


def assigned_within_1_day(demand):
    first = demand.get("first_assigned_at")
    return first is not None and first - demand["received_at"] <= ASSIGN_WITHIN


def resolved(demand):
    """Resolved at least once."""
    return demand.get("first_resolved_at") is not None


def resolved_on_time(demand):
    """The first resolution came by the deadline in force then."""
    deadline = demand.get("first_resolution_deadline")
    return resolved(demand) and deadline is not None and demand["first_resolved_at"] <= deadline


def is_open(demand):
    return demand["status"] != "closed"


def is_overdue(demand, now):
    """Open and past its deadline; a 差评 demand whose appeal (申诉) is pending is not overdue meanwhile."""
    return (is_open(demand) and not demand.get("appeal_pending") and demand.get("deadline") is not None
            and demand["deadline"] < now)


def on_time_rate(resolved_n, on_time_n):
    return on_time_n / resolved_n if resolved_n else None


def callback_index(levels):
    """Mean points of callback levels on the linear scale; None without callbacks."""
    return sum(linear_points(level) for level in levels) / len(levels) if levels else None


def department_demand_figures(demands, now, min_n):
    """The figures of one department's demands; the callback index is withheld below `min_n` callbacks."""
    resolved_n = sum(1 for d in demands if resolved(d))
    on_time_n = sum(1 for d in demands if resolved_on_time(d))
    levels = [d["callback_level"] for d in demands if d.get("callback_level") is not None]
    suppressed = len(levels) < min_n
    return {"received": len(demands),
            "assigned_within_1_day": sum(1 for d in demands if assigned_within_1_day(d)),
            "resolved": resolved_n, "resolved_on_time": on_time_n, "on_time_rate": on_time_rate(resolved_n, on_time_n),
            "open": sum(1 for d in demands if is_open(d)),
            "overdue": sum(1 for d in demands if is_overdue(d, now)),
            "callback_n": len(levels), "callback_index": None if suppressed else callback_index(levels),
            "suppressed": suppressed}


def demand_stats(demands, departments, now, min_n):
    """One entry per department (every known one, and any that has demands), by code."""
    by_department = {code: [] for code in departments}
    for d in demands:
        by_department.setdefault(d["department"], []).append(d)
    return [{"code": code, **department_demand_figures(by_department[code], now, min_n)}
            for code in sorted(by_department)]
