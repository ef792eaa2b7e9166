"""Exclusion targets and records: pure rules, no I/O.

A target names ratings as the survey service stored them (DESIGN §4):
- `response:<response_id>`: every rating of one survey answer;
- `response:<response_id>/<question id>`: one rating of it;
- `visit:<visit_id>`: every rating of one visit;
- `visit:<visit_id>/<department code>`: the visit's rating of that department (one per department).
"""
import hashlib
import re

from shared.errors import NotFound, pair

TARGET_RE = r"^(response|visit):([A-Za-z0-9_-]{1,64})(/[A-Za-z0-9_.-]{1,64})?$"
TARGET_PATTERN = re.compile(TARGET_RE)
EXCLUDED, RESTORED = 1, 2  # the versions of an exclusion's state: a restoration is final


def parse_target(target):
    """(kind, source id, part or None) of a well-formed target (the schema checked the form)."""
    kind, source_id, part = TARGET_PATTERN.fullmatch(target).groups()
    return kind, source_id, part[1:] if part else None


def exclusion_id_of(target, nth):
    """The id of the `nth` exclusion of `target` (1, 2, … after restorations): derived, so that two admins
    excluding the same target at once collide on the unique `_id` and the second gets 409."""
    return hashlib.sha256(f"exclusion\x1f{target}\x1f{nth}".encode()).hexdigest()[:24]


def named_ratings(kind, ratings, part):
    """[{index, question, department}] of the source's `ratings` (its event's list) that the target names;
    NotFound when the part names none."""
    named = [{"index": i, "question": r.get("question"), "department": r["department"]}
             for i, r in enumerate(ratings)
             if part is None or (r.get("question") if kind == "response" else r["department"]) == part]
    if not named:
        what = ("该答卷中没有此评分题", "no rating question with this id in the answer") if kind == "response" else \
            ("该走访中没有对此部门的评价", "the visit rates no such department")
        raise NotFound(f"nothing to exclude: {what[1]}", {"target": pair(*what)})
    return named


def covered(active_exclusions):
    """Indices of a source's ratings already left out by its active exclusions."""
    return {r["index"] for e in active_exclusions for r in e["ratings"]}


def event_data(record):
    """The event-carried state of an exclusion record (shared/messages.py ExclusionStateSchema)."""
    return {k: record.get(k) for k in ("target", "source_id", "channel", "period", "enterprise", "whole", "ratings",
                                       "departments", "appeal")} | \
        {"exclusion_id": record["_id"], "version": record["version"], "active": record["active"]}
