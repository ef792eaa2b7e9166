"""Invitation tracking (智能邀评): which enterprises were sent a link, opened it, answered; response rates.

Pure functions over documents read by the caller.
"""
from shared.domain import SEGMENT_ATTRIBUTES

STATUSES = ("sent", "opened", "answered")


def invitation_rows(invitations, enterprises, opened, answered, token_of, url_of):
    """One row per enterprise: its answered invitation, else its latest one.

    `opened` and `answered` map invitation ids to the moment of the first view / the response; `token_of`
    gives an invitation's token (None when it cannot be shown again) and `url_of` a token's link.
    """
    latest = {}
    for inv in sorted(invitations, key=lambda d: d["created_at"]):
        current = latest.get(inv["enterprise"])
        if current is None or current["_id"] not in answered:
            latest[inv["enterprise"]] = inv
    rows = []
    for code, inv in latest.items():
        ent = enterprises.get(code, {})
        inv_id, token = inv["_id"], token_of(inv)
        status = "answered" if inv_id in answered else "opened" if inv_id in opened else "sent"
        rows.append({"enterprise": code, "name": ent.get("name", ""), "township": ent.get("township", ""),
                     "industry": ent.get("industry", ""), "id": inv_id, "token": token, "url": url_of(token),
                     "sent_at": inv["created_at"], "expires_at": inv["expires_at"], "opened_at": opened.get(inv_id),
                     "answered_at": answered.get(inv_id), "status": status,
                     "segment": {a: ent.get(a, "") for a in SEGMENT_ATTRIBUTES}})
    return sorted(rows, key=lambda r: (r["township"], r["name"], r["enterprise"]))


def matches(row, wanted):
    """The `status` filter: unanswered = not answered (opened or not); opened = opened, answered or not."""
    if wanted == "all":
        return True
    if wanted == "unanswered":
        return row["status"] != "answered"
    if wanted == "answered":
        return row["status"] == "answered"
    return row["opened_at"] is not None or row["status"] == "answered"


def rate(value, rows):
    invited = len(rows)
    answered = sum(r["status"] == "answered" for r in rows)
    opened = sum(r["opened_at"] is not None or r["status"] == "answered" for r in rows)  # an answer implies a view
    return {"value": value, "invited": invited, "opened": opened, "answered": answered,
            "response_rate": answered / invited if invited else None}


def progress(survey_id, rows):
    """Response rate overall, per township and per value of each segment attribute (enterprises, not links)."""
    segments = {}
    for attribute in SEGMENT_ATTRIBUTES:
        groups = {}
        for r in rows:
            groups.setdefault(r["segment"][attribute], []).append(r)
        segments[attribute] = [rate(value, group) for value, group in sorted(groups.items())]
    overall = rate(None, rows)
    del overall["value"]
    return {"survey_id": survey_id, **overall, "by_township": segments["township"], "segments": segments}
