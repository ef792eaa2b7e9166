"""The demand ledger's rules (诉求台账): states, who may do what, deadlines. Pure functions, no I/O.

received → assigned (交办) → resolved (办结) → closed (回访销号); a callback at level 1–2 reopens the
demand (assigned again, with a fresh term). Every change appends one history entry and raises the
demand's `version`, which the `demand.updated` event carries so that readers keep the newest state.
"""
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import chinese_calendar

from shared import messages
from shared.domain import BAD_RATING, LEVEL_NAMES, SHANGHAI, period_of
from shared.errors import Conflict

SATISFIED_CALLBACK = 3  # a callback at 3–5 closes the demand; 1–2 is a 差评 of the handling and reopens it
ACTIONS = ("assign", "progress", "resolve", "callback")
LEGAL = {  # action → statuses it may start from
    "assign": ("received", "assigned"),
    "progress": ("assigned",),
    "resolve": ("assigned",),
    "callback": ("resolved",),
}
WHY_NOT = {  # (action, status) → [zh, en] reason of the 409
    ("assign", "resolved"): ["诉求已办结，待回访", "the demand is resolved and waits for its callback"],
    ("assign", "closed"): ["诉求已销号", "the demand is closed"],
    ("progress", "received"): ["诉求尚未交办", "the demand has not been assigned yet"],
    ("progress", "resolved"): ["诉求已办结", "the demand is already resolved"],
    ("progress", "closed"): ["诉求已销号", "the demand is closed"],
    ("resolve", "received"): ["诉求尚未交办，不能办结", "the demand must be assigned before it is resolved"],
    ("resolve", "resolved"): ["诉求已办结", "the demand is already resolved"],
    ("resolve", "closed"): ["诉求已销号", "the demand is closed"],
    ("callback", "received"): ["诉求尚未办结，不能回访", "a callback comes after the resolution; not assigned yet"],
    ("callback", "assigned"): ["诉求尚未办结，不能回访", "a callback comes after the resolution; not resolved yet"],
    ("callback", "closed"): ["诉求已销号", "the demand is closed"],
}


class IllegalTransition(Conflict):
    """An action the demand's status does not allow (409), with the reason in Chinese and English."""

    def __init__(self, action, status):
        self.action, self.status, self.reason = action, status, WHY_NOT[(action, status)]
        super().__init__(f"{self.reason[0]} / {self.reason[1]}", {"status": [*self.reason, status]})


@dataclass(frozen=True)
class Terms:
    """How long a demand may take: days after assignment (ordinary, major), working days for a 差评."""
    ordinary_days: int
    major_days: int
    bad_rating_workdays: int

    @classmethod
    def of(cls, config):
        return cls(config.demand_days_ordinary, config.demand_days_major, config.bad_rating_workdays)


# --- deadlines --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def is_working_day(day):
    """A Chinese working day: public holidays are off, 调休 make-up weekend days are on.

    Beyond the years chinese-calendar knows (it raises), Monday to Friday; the pinned release covers
    2004–2026, and a newer release of the package brings the next year's State Council notice.
    """
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def working_days_after(day, n):
    """The n-th working day after `day` (the day itself does not count)."""
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def end_of_day(day):
    # Millisecond precision: MongoDB keeps milliseconds, so the stored deadline is exactly this one.
    return datetime.combine(day, time(23, 59, 59, 999000), SHANGHAI)


def bad_rating_deadline(opened_at, workdays):
    """End of the `workdays`-th working day after the day (Asia/Shanghai) a 差评 demand was opened."""
    return end_of_day(working_days_after(opened_at.astimezone(SHANGHAI).date(), workdays))


def default_deadline(demand, at, terms):
    """Deadline of an assignment at `at` when none is given: 15 working days for 差评, else 7 or 30 days."""
    if demand["category"] == BAD_RATING:
        return bad_rating_deadline(at, terms.bad_rating_workdays)
    return at + timedelta(days=terms.major_days if demand["urgency"] == "major" else terms.ordinary_days)


# --- new demands ------------------------------------------------------------------------------------
def entry(action, at, actor, status_from, status_to, **details):
    return {"action": action, "at": at, "by": actor, "from": status_from, "to": status_to,
            **{k: v for k, v in details.items() if v is not None}}


def new_demand(id_, department, category, urgency, text, at, actor, enterprise, source):
    """A received demand (受理). `source`: where it came from, e.g. {"kind": "visit", "id": …}."""
    return {"_id": id_, "department": department, "category": category, "urgency": urgency, "text": text,
            "enterprise": enterprise, "source": source, "status": "received", "period": period_of(at),
            "received_at": at, "first_assigned_at": None, "assigned_at": None, "deadline": None,
            "first_resolved_at": None, "first_resolution_deadline": None, "resolved_at": None,
            "resolution": None, "closed_at": None, "callback_level": None, "callbacks": 0, "reopened": 0,
            "version": 1, "history": [entry("receive", at, actor, None, "received")]}


def bad_rating_text(level, subject, comment=None):
    """What a 差评 demand says: what was rated (a question or a department), how, and the comment."""
    text = f"差评整改：「{subject}」评价为「{LEVEL_NAMES[level]}」（{level} 级）"
    return f"{text}；企业意见：{comment}" if comment else text


_BAD_RATING_TEXT = re.compile(r"差评整改：「(?P<subject>.*?)」评价为「[^」]*」（(?P<level>[1-5]) 级）(?:；企业意见：(?P<comment>.*))?",
                              re.DOTALL)


def rating_of(demand):
    """The 差评 a demand rectifies, read back from its text (bad_rating_text): {level, subject, comment}, or None."""
    found = _BAD_RATING_TEXT.fullmatch(demand.get("text") or "")
    if demand.get("category") != BAD_RATING or not found:
        return None
    return {"level": int(found["level"]), "subject": found["subject"], "comment": found["comment"]}


def new_bad_rating(id_, department, text, at, actor, enterprise, source, terms, contact_ok=False):
    """A 差评 rectification demand: opened already assigned to the rated department, due in 15 working days.

    `contact_ok`: the enterprise agreed that the department may learn who it is (实名回访); without it the
    department sees the demand anonymously (`as_seen_by`).
    """
    demand = {**new_demand(id_, department, BAD_RATING, "ordinary", text, at, actor, enterprise, source),
              "contact_ok": bool(contact_ok)}
    change = assign(demand, department, None, at, actor, terms)
    return apply(demand, change)


# --- transitions ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """What one action sets on a demand, and the history entry it appends."""
    set: dict
    entry: dict


def check(action, demand):
    if demand["status"] not in LEGAL[action]:
        raise IllegalTransition(action, demand["status"])


def assign(demand, department, deadline, at, actor, terms):
    """交办: to a department with an explicit deadline or the default term from now."""
    check("assign", demand)
    deadline = deadline or default_deadline(demand, at, terms)
    changes = {"status": "assigned", "department": department, "assigned_at": at, "deadline": deadline}
    if demand["first_assigned_at"] is None:
        changes["first_assigned_at"] = at
    return Change(changes, entry("assign", at, actor, demand["status"], "assigned", department=department,
                                 deadline=deadline))


def progress(demand, note, at, actor):
    """A progress note from the department (进展); the state does not change."""
    check("progress", demand)
    return Change({}, entry("progress", at, actor, "assigned", "assigned", note=note))


def resolve(demand, resolution, at, actor):
    """办结. The first resolution is the one measured against the deadline then in force."""
    check("resolve", demand)
    changes = {"status": "resolved", "resolved_at": at, "resolution": resolution}
    if demand["first_resolved_at"] is None:
        changes |= {"first_resolved_at": at, "first_resolution_deadline": demand["deadline"]}
    return Change(changes, entry("resolve", at, actor, "assigned", "resolved", resolution=resolution))


def callback(demand, level, comment, at, actor, terms):
    """回访: 3–5 closes (销号); 1–2 reopens it to the same department with a fresh default term."""
    check("callback", demand)
    changes = {"callback_level": level, "callback_at": at, "callbacks": demand["callbacks"] + 1}
    if level >= SATISFIED_CALLBACK:
        changes |= {"status": "closed", "closed_at": at}
    else:
        changes |= {"status": "assigned", "assigned_at": at, "deadline": default_deadline(demand, at, terms),
                    "reopened": demand["reopened"] + 1}
    return Change(changes, entry("callback", at, actor, "resolved", changes["status"], level=level,
                                 comment=comment, deadline=changes.get("deadline")))


# --- appeals (申诉复核) of the 差评 a demand rectifies ----------------------------------------------------------
APPEAL_UPHELD = "appeal_upheld"  # `closure` of a 差评 demand closed because its appeal was upheld (申诉成立)
CLOSURES = {APPEAL_UPHELD: "申诉成立"}


def appeal_filed(demand, appeal_id, at, actor):
    """The department appealed the 差评: while pending the demand does not count as overdue; its status stays."""
    return Change({"appeal_pending": True, "appeal": appeal_id},
                  entry("appeal", at, actor, demand["status"], demand["status"], appeal=appeal_id))


def appeal_decided(demand, upheld, at, actor, note=None):
    """申诉成立 closes the demand (closure `appeal_upheld`); a rejected appeal leaves it as it was, its deadline
    unchanged: the clock ran on while the appeal was pending."""
    changes = {"appeal_pending": False}
    if upheld and demand["status"] != "closed":
        changes |= {"status": "closed", "closed_at": at, "closure": APPEAL_UPHELD}
    return Change(changes, entry("appeal_upheld" if upheld else "appeal_rejected", at, actor, demand["status"],
                                 changes.get("status", demand["status"]), note=note))


def apply(demand, change):
    """The demand after `change` (the store applies the same change with one conditional update)."""
    return {**demand, **change.set, "version": demand["version"] + 1,
            "history": [*demand["history"], change.entry]}


# --- rules read by other places ----------------------------------------------------------------------------
def may_see(key, demand):
    """A department key sees and acts only on its own department's demands."""
    return key["role"] != "department" or key.get("department") == demand["department"]


IDENTIFYING_SOURCE = ("id",)  # the response or visit id names the enterprise (the answer, the visit's other demands)


def is_anonymous_to(key, demand):
    """A department key reading a 差评 given without consent: the rated department must not learn who gave it.

    Demands the enterprise raised itself (诉求 in a visit) keep its identity: it asked to be helped.
    Admins (who make the callback) and cadres (who made the visit) always see it.
    """
    return key["role"] == "department" and demand.get("category") == BAD_RATING and not demand.get("contact_ok")


def day_of(moment):
    """Midnight (Asia/Shanghai) of a moment: an exact second would link an anonymous 差评 to the identified demands
    of the same visit, opened in the same instant."""
    if not isinstance(moment, datetime):
        return moment
    local = moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    return datetime.combine(local.date(), time(0), SHANGHAI)


def as_seen_by(key, demand):
    """The demand as `key` may see it: for an anonymous 差评, without the enterprise, the ids of its answer or
    visit, and the exact times of the automatic steps; its text, question and deadline stay."""
    if not is_anonymous_to(key, demand):
        return {**demand, "anonymous": False}
    source = {k: v for k, v in (demand.get("source") or {}).items() if k not in IDENTIFYING_SOURCE}
    history = [h if h.get("by", {}).get("role") == "department" else
               {**h, "at": day_of(h["at"]), "by": {"role": h.get("by", {}).get("role")}}  # no cadre who visited
               for h in demand.get("history", [])]
    return {**demand, "enterprise": None, "source": source, "history": history, "anonymous": True,
            **{k: day_of(demand.get(k)) for k in ("received_at", "assigned_at", "first_assigned_at")}}


def actor_of(key):
    return {"role": key["role"], "name": key.get("name"), "key": key.get("_id")}


# --- events -------------------------------------------------------------------------------------------------
STATE_FIELDS = ("department", "category", "urgency", "status", "period", "received_at", "first_assigned_at",
                "deadline", "first_resolved_at", "first_resolution_deadline", "closed_at", "callback_level",
                "version")
APPEAL_FIELDS = {"appeal_pending": False, "closure": None}  # absent on demands stored before appeals (issue 16)


def updated_event(demand, created=False):
    """`demand.updated`: the state the figures need, never the enterprise or the texts.

    The id is the demand's id and version, so a republished event is the same message to the worker.
    `actions` names what this change did (every step of a new demand, which may be born assigned), so
    that webhooks can tell an assignment from a progress note without the previous state.
    """
    actions = [e["action"] for e in (demand["history"] if created else demand["history"][-1:])]
    data = {"demand_id": demand["_id"], **{k: _iso(demand[k]) for k in STATE_FIELDS},
            **{k: demand.get(k, default) for k, default in APPEAL_FIELDS.items()}, "actions": actions,
            "raised_by": raised_by(demand)}
    at = demand["history"][-1]["at"]
    return messages.envelope(messages.DEMAND_UPDATED, data, id_=f"{demand['_id']}:{demand['version']}",
                             occurred_at=at)


def raised_by(demand):
    """A pseudonym of the demand's enterprise for the figures: distinct per enterprise and period, not its code."""
    if not demand.get("enterprise"):
        return None
    return hashlib.sha256(f"raised-by\x1f{demand['period']}\x1f{demand['enterprise']}".encode()).hexdigest()[:16]


def overdue_event(demand, now):
    data = {"demand_id": demand["_id"], "department": demand["department"], "period": demand["period"],
            "deadline": _iso(demand["deadline"])}
    return messages.envelope(messages.DEMAND_OVERDUE, data, id_=f"{demand['_id']}:overdue", occurred_at=now)


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value
