"""Suspicious-rating detectors (issue 16): pure functions over answers and visits, no I/O.

A flag never excludes anything: it asks the administrator to look. Each one says what it is (`kind`),
why in Chinese (`reason`), the figures behind it and the thresholds it was held to, and names the
answers or visits it is about (`refs`). Its `_id` is derived from what it is about, so that looking at
the same data twice raises the same flag once.

An answer as the detectors see it (`store.answer_view`): {"id", "survey", "period", "at" (accepted),
"invitation", "enterprise", "township", "client" (salted hash of the address, or None), "answered" (questions
answered), "ratings": [{"department", "level"}], "opened_at" (first view of the link, or None)}.
A visit: {"id", "cadre", "cadre_name", "enterprise", "township", "visited_at", "at", "period",
"ratings": [{"department", "level"}]}.
"""
import math
from datetime import timedelta

from shared.domain import LEVEL_NAMES, local_time

KINDS = ("speeder", "straight_line", "burst", "cadre_same", "cadre_travel", "wave")
BAD_LEVELS = (1, 2)
# A department with little history has a norm pulled towards this prior 差评 share (as if it had had
# PRIOR_RATINGS ratings at it), so its first few 差评 do not make any hour look far above nothing.
PRIOR_BAD_SHARE, PRIOR_RATINGS = 0.1, 10


def flag(kind, key, reason, figures, thresholds, refs, at, *, departments=(), survey=None, period=None,
         enterprise=None, cadre=None, township=None):
    return {"_id": f"{kind}:{key}", "kind": kind, "reason": reason, "figures": figures, "thresholds": thresholds,
            "refs": refs, "departments": sorted(set(departments)), "survey": survey, "period": period,
            "enterprise": enterprise, "cadre": cadre, "township": township, "at": at}


def answer_flag(kind, answer, reason, figures, thresholds, key=None):
    return flag(kind, key or answer["id"], reason, figures, thresholds, [{"kind": "response", "id": answer["id"]}],
                answer["at"], departments=[r["department"] for r in answer["ratings"]], survey=answer["survey"],
                period=answer["period"], enterprise=answer["enterprise"], township=answer["township"])


def speeder(answer, t):
    """Submitted too soon after the link was first opened for the questions answered (None: not a speeder,
    or the link was never viewed as a page, so the time is unknown)."""
    if answer.get("opened_at") is None or not answer["answered"]:
        return None
    seconds = max(0.0, (answer["at"] - answer["opened_at"]).total_seconds())
    per_question = seconds / answer["answered"]
    if per_question >= t.speeder_seconds:
        return None
    return answer_flag("speeder", answer,
                       f"从首次打开链接到提交仅用 {seconds:.0f} 秒，共答 {answer['answered']} 题，"
                       f"平均每题 {per_question:.1f} 秒，低于 {t.speeder_seconds:g} 秒",
                       {"seconds": seconds, "answered": answer["answered"], "seconds_per_question": per_question},
                       {"speeder_seconds": t.speeder_seconds})


def straight_line(answer, t):
    """Every rating at one level, across at least `straight_min` rating questions."""
    levels = [r["level"] for r in answer["ratings"]]
    if len(levels) < t.straight_min or len(set(levels)) != 1:
        return None
    level = levels[0]
    return answer_flag("straight_line", answer,
                       f"全部 {len(levels)} 项评价均为「{LEVEL_NAMES.get(level, level)}」（{level} 分）",
                       {"ratings": len(levels), "level": level}, {"straight_min": t.straight_min})


def bursts(answers, t, new_ids=None):
    """More than `burst_max` answers from one client address, or from one device, within `burst_minutes`: a flag
    per answer in such a window. Only windows ending at an answer in `new_ids` (default: all) are looked at, so
    that a caller holding only the last stretch of answers never judges a window it sees in part."""
    span = timedelta(minutes=t.burst_minutes)
    groups = {}
    for a in answers:
        for by in ("client", "device"):
            if a.get(by):
                groups.setdefault((by, a[by]), []).append(a)
    flags = {}
    for (by, source), run in sorted(groups.items()):
        run.sort(key=lambda a: (a["at"], a["id"]))
        first = 0
        for last, end in enumerate(run):
            while end["at"] - run[first]["at"] > span:
                first += 1
            count = last - first + 1
            if count <= t.burst_max or (new_ids is not None and end["id"] not in new_ids):
                continue
            minutes = (end["at"] - run[first]["at"]).total_seconds() / 60
            for a in run[first:last + 1]:
                if a["id"] in flags and flags[a["id"]]["figures"]["answers"] >= count:
                    continue
                flags[a["id"]] = answer_flag(
                    "burst", a, f"同一{'网络地址' if by == 'client' else '设备'}在 {minutes:.0f} 分钟内提交了 {count} 份"
                                f"答卷（上限 {t.burst_max} 份/{t.burst_minutes:g} 分钟）",
                    {"answers": count, "minutes": minutes, "by": "address" if by == "client" else "device",
                     "source": source[:12], "from": run[first]["at"].isoformat(), "to": end["at"].isoformat()},
                    {"burst_max": t.burst_max, "burst_minutes": t.burst_minutes})
    return list(flags.values())


def visit_ref(visit):
    return {"kind": "visit", "id": visit["id"]}


def cadre_same(visits, t):
    """A cadre whose ratings of one department were all at one level across at least `cadre_same_min`
    visits in a quarter (`visits`: one cadre's, any quarters)."""
    groups = {}
    for v in visits:
        for r in v["ratings"]:
            groups.setdefault((v["period"], r["department"]), []).append((v, r["level"]))
    flags = []
    for (period, department), rated in sorted(groups.items()):
        levels = {level for _, level in rated}
        if len(rated) < t.cadre_same_min or len(levels) != 1:
            continue
        level, cadre = levels.pop(), rated[0][0]
        rated.sort(key=lambda p: (p[0]["visited_at"], p[0]["id"]))
        flags.append(flag(
            "cadre_same", f"{cadre['cadre']}:{department}:{period}",
            f"干部「{cadre.get('cadre_name') or '未署名'}」{period} 走访中对该部门的 {len(rated)} 次评价全部为"
            f"「{LEVEL_NAMES.get(level, level)}」", {"visits": len(rated), "level": level},
            {"cadre_same_min": t.cadre_same_min}, [visit_ref(v) for v, _ in rated], rated[-1][0]["visited_at"],
            departments=[department], period=period, cadre=cadre["cadre"]))
    return flags


def cadre_travel(visits, t):
    """Consecutive visits (by visit time) of one cadre to different enterprises closer than one could get from
    one to the other: `visit_gap_minutes` in one township, `township_gap_minutes` between townships."""
    ordered = sorted(visits, key=lambda v: (v["visited_at"], v["id"]))
    flags = []
    for before, after in zip(ordered, ordered[1:]):
        if before["enterprise"] == after["enterprise"]:
            continue
        minutes = (after["visited_at"] - before["visited_at"]).total_seconds() / 60
        elsewhere = before["township"] != after["township"]
        bound = t.township_gap_minutes if elsewhere else t.visit_gap_minutes
        if minutes >= bound:
            continue
        where = f"{before['township']}与{after['township']}两地" if elsewhere else "同一乡镇两家企业"
        flags.append(flag(
            "cadre_travel", after["id"],
            f"干部「{after.get('cadre_name') or '未署名'}」相隔 {minutes:.0f} 分钟记录了{where}的走访（不足 {bound:g} 分钟）",
            {"minutes": minutes, "townships": [before["township"], after["township"]],
             "enterprises": [before["enterprise"], after["enterprise"]]},
            {"visit_gap_minutes": t.visit_gap_minutes, "township_gap_minutes": t.township_gap_minutes},
            [visit_ref(before), visit_ref(after)], after["visited_at"],
            departments=[r["department"] for r in after["ratings"]], period=after["period"], cadre=after["cadre"],
            enterprise=after["enterprise"], township=after["township"]))
    return flags


def hour_of(moment):
    return moment.replace(minute=0, second=0, microsecond=0)


def wave_cells(answers, visits):
    """{(department, township, hour): {"n", "bad", "refs"}}: ratings per department, township and hour of arrival,
    counting the 差评 and naming the answers and visits that gave them."""
    cells = {}
    for kind, items in (("response", answers), ("visit", visits)):
        for item in items:
            for r in item["ratings"]:
                cell = cells.setdefault((r["department"], item["township"], hour_of(item["at"])),
                                        {"n": 0, "bad": 0, "refs": []})
                cell["n"] += 1
                if r["level"] in BAD_LEVELS:
                    cell["bad"] += 1
                    cell["refs"].append({"kind": kind, "id": item["id"]})
    return cells


def binomial_tail(k, n, p):
    """P(X ≥ k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    return min(1.0, sum(math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p
                                 + (n - i) * log_q) for i in range(k, n + 1)))


def norm_share(norm_n, norm_bad):
    """The department's usual 差评 share, pulled towards the prior while it has few ratings."""
    return (norm_bad + PRIOR_BAD_SHARE * PRIOR_RATINGS) / (norm_n + PRIOR_RATINGS)


def wave(department, township, hour, cell, norm_n, norm_bad, t, period=None):
    """An hour whose 差评 of a department in one township are far above the department's norm: at least
    `wave_min_bad` of them, and that many (or more) would happen with probability under `wave_p` if each
    rating were a 差评 at the norm's share (`norm_n` ratings, `norm_bad` 差评 of the department in every other
    township and hour of the `wave_norm_days` before and this hour)."""
    if cell["bad"] < t.wave_min_bad:
        return None
    share = norm_share(norm_n, norm_bad)
    chance = binomial_tail(cell["bad"], cell["n"], share)
    if chance >= t.wave_p:
        return None
    return flag(
        "wave", f"{department}:{township}:{hour:%Y%m%d%H}",
        f"{township}在 {local_time(hour, '%Y-%m-%d %H')}时内对该部门的评价中差评 {cell['bad']}/{cell['n']} 条"
        f"（{cell['bad'] / cell['n']:.0%}），远高于该部门近 {t.wave_norm_days} 天其他时段和乡镇的差评率 {share:.1%}",
        {"ratings": cell["n"], "bad": cell["bad"], "share": cell["bad"] / cell["n"], "norm_share": share,
         "norm_ratings": norm_n, "norm_bad": norm_bad, "chance": chance},
        {"wave_min_bad": t.wave_min_bad, "wave_p": t.wave_p, "wave_norm_days": t.wave_norm_days},
        cell["refs"], hour, departments=[department], period=period, township=township)
