"""Raising flags as answers and visits arrive, and reading them.

Why a scheduled scan and not the answer path or a consumer: the answer path stays one insert (the detectors
need the link's first view, other answers from the same address and the hour's 差评, i.e. queries), and the
survey service owns every fact the detectors need (first views, addresses, cadres), most of which never
travel in events. So the scheduler's lease holder looks, every `MANYI_FLAG_SCAN_SECONDS`, at the answers and
visits accepted since a stored watermark. Each look reads back `OVERLAP` before the watermark (a record
committed late with an earlier `created_at`) plus what the rules need around the new records (the burst
window, the whole hour of a wave, a cadre's quarter); flags have ids derived from what they are about, so
looking twice raises nothing twice, and a crash between saving flags and moving the watermark only repeats a look.
"""
import hmac
import secrets
from datetime import timedelta

from services.survey.flags import rules
from shared.domain import quarter_start

OVERLAP = timedelta(minutes=2)
# A random id the respondent page gives a browser (a year, HttpOnly): answers from one phone whatever its
# address (mobile networks change it, and put many phones behind one).
DEVICE_COOKIE = "manyi_device"
DEVICE_COOKIE_DAYS = 365


def client_hash(services, address):
    """What the answer path stores of a client's address or device id: a salted hash (never the value itself)."""
    if not address:
        return None
    salt = services.flags.salt(services.config.flag_salt)
    return hmac.new(salt.encode(), address.encode(), "sha256").hexdigest()[:32]


def new_device_id():
    return secrets.token_urlsafe(16)


def device_hash(services, cookies):
    """The hash of the device id a request carries (the respondent page's cookie), or None. Keyed apart from
    addresses, so a device id never equals an address's hash."""
    value = cookies.get(DEVICE_COOKIE)
    return client_hash(services, f"device\x1f{value[:64]}") if value else None


def next_quarter_start(period):
    year, quarter = int(period[:4]), int(period[-1])
    return quarter_start(f"{year + quarter // 4}Q{quarter % 4 + 1}")


def scan(services):
    """One look at what arrived since the watermark; returns the number of flags written."""
    store, t = services.flags, services.config.flags
    watermark = store.watermark()
    since = watermark - OVERLAP if watermark else None
    if since and not store.anything_since(since):
        return 0
    start = min(rules.hour_of(since), since - timedelta(minutes=t.burst_minutes)) if since else None
    answers, visits = store.answers_since(start), store.visits_since(start)
    new_answers = [a for a in answers if since is None or a["at"] >= since]
    new_visits = [v for v in visits if since is None or v["at"] >= since]
    if not new_answers and not new_visits:
        return 0
    flags = answer_flags(store, t, answers, new_answers)
    flags += cadre_flags(store, t, new_visits)
    flags += wave_flags(store, t, answers, visits, new_answers + new_visits)
    written = store.save(flags)
    store.advance(max(x["at"] for x in new_answers + new_visits))
    return written


def answer_flags(store, t, answers, new_answers):
    opened = store.opened([a["invitation"] for a in new_answers if a["invitation"]])
    flags = []
    for a in new_answers:
        a["opened_at"] = opened.get(a["invitation"])
        flags += [f for f in (rules.speeder(a, t), rules.straight_line(a, t)) if f]
    return flags + rules.bursts(answers, t, {a["id"] for a in new_answers})


def cadre_flags(store, t, new_visits):
    flags = []
    for cadre, periods in sorted({(v["cadre"], v["period"]) for v in new_visits if v["cadre"] and v["period"]}):
        quarter = store.visits_of_cadre(cadre, quarter_start(periods), next_quarter_start(periods))
        flags += rules.cadre_same(quarter, t) + rules.cadre_travel(quarter, t)
    return flags


def wave_flags(store, t, answers, visits, new_items):
    """Recompute the hours the new records fall in (read whole by `scan`), store them, and hold each cell with
    enough 差评 to the department's norm."""
    hours = {rules.hour_of(x["at"]) for x in new_items}
    cells = {k: c for k, c in rules.wave_cells(answers, visits).items() if k[2] in hours}
    store.put_cells(cells)
    periods = {rules.hour_of(x["at"]): x.get("period") for x in new_items}
    flags = []
    for (department, township, hour), cell in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        if cell["bad"] < t.wave_min_bad:
            continue
        # The norm: every township's ratings of the department over the days before and this hour, but this cell's
        # (so that the very first hour of a survey is held to the other townships rather than to nothing).
        norm_n, norm_bad = store.norm(department, hour - timedelta(days=t.wave_norm_days), hour + timedelta(hours=1))
        norm_n, norm_bad = norm_n - cell["n"], norm_bad - cell["bad"]
        found = rules.wave(department, township, hour, cell, norm_n, norm_bad, t, periods.get(hour))
        if found:
            flags.append(found)
    return flags


def flag_conditions(query):
    """The MongoDB filter of the list's query (kind, department, survey, period, from, to)."""
    conditions = {}
    for name, field in (("kind", "kind"), ("department", "departments"), ("survey", "survey")):
        if query.get(name):
            conditions[field] = query[name]
    if query.get("period"):
        period = query["period"]
        conditions["period"] = {"$regex": f"^{period}"} if len(period) == 4 else period
    span = {op: query[name] for name, op in (("from_", "$gte"), ("to", "$lt")) if query.get(name)}
    if span:
        conditions["at"] = span
    return conditions


def list_flags(services, query, skip, limit):
    """(flags, total) of a page, newest first."""
    return services.flags.page(flag_conditions(query), skip, limit)
