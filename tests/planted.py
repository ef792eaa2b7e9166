"""A generated county for the suspicious-rating flags: ordinary answers and visits over two working weeks, with
planted patterns of every kind when asked, stored the way the survey service stores them and scanned day by
day as they would have arrived (tests/integration/test_flags.py, bench/integrity.py).

Ordinary, as far as we can tell a county looks: the demo survey's answers (manyi/demo.answers_for: each enterprise
with its own mood), most links opened a few minutes before answering (a third of them days before, a few not as
a page at all), a third of the enterprises answering on the morning the notice goes out, enterprises of the
industrial park behind a few shared addresses, and 30 cadres visiting three or four enterprises a working day.
The planted patterns name the flag each should raise (`planted[kind]`: expected flag ids), so a tally says per
kind what was planted, found and raised falsely.
"""
import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from manyi.demo import INDUSTRIES, answers_for, survey_definition
from services.survey.flags import rules
from services.survey.flags.use_cases import scan
from shared.domain import SHANGHAI, period_of

DAY_ONE = datetime(2026, 11, 2, tzinfo=SHANGHAI)  # a Monday
WORKDAYS = [DAY_ONE + timedelta(days=d) for d in range(12) if (DAY_ONE + timedelta(days=d)).weekday() < 5]
TOWNSHIPS = ["城关镇", "产业集聚区", "石桥镇", "南湾乡", "双河镇", "高庙乡"]
PARK = "产业集聚区"
QUESTIONS = survey_definition("2026Q4")["questions"]
RATED = {q["id"]: q["department"] for q in QUESTIONS if q["type"] == "rating5"}
DEPARTMENTS = sorted(set(RATED.values()))


@dataclass
class County:
    responses: list = field(default_factory=list)  # documents as the answer path stores them
    visits: list = field(default_factory=list)
    opened: list = field(default_factory=list)  # invitation_events
    planted: dict = field(default_factory=lambda: {k: set() for k in rules.KINDS})

    def batches(self):
        """(responses, visits, opened) per working day, in order of arrival."""
        days = sorted({d["created_at"].astimezone(SHANGHAI).date() for d in self.responses + self.visits})
        for day in days:
            yield of_day(self.responses, day), of_day(self.visits, day), [e for e in self.opened if e["day"] == day]


def of_day(docs, day):
    return sorted((d for d in docs if d["created_at"].astimezone(SHANGHAI).date() == day), key=lambda d: d["created_at"])


def working_moment(rng, day, rush=False):
    """A moment of a working day, Asia/Shanghai: 8:30–18:00, or 8:30–11:30 on a rush morning."""
    minutes = rng.uniform(8.5 * 60, (11.5 if rush else 18) * 60)
    return day + timedelta(minutes=minutes)


def address(rng, township):
    """Most enterprises have an address of their own; the park's share a few."""
    if township == PARK and rng.random() < 0.7:
        return f"10.8.0.{rng.randint(1, 8)}"
    return f"{rng.randint(36, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def client_of(ip):
    return hashlib.sha256(f"bench-salt\x1f{ip}".encode()).hexdigest()[:32]


def response_doc(rid, ent, answers, at, ip, invitation):
    ratings = [{"question": q, "department": RATED[q], "level": v} for q, v in answers.items() if q in RATED]
    return {"_id": rid, "invitation": invitation, "survey_id": "s-county", "survey_code": "2026Q4-enterprise",
            "enterprise": ent["code"], "answers": answers, "contact_ok": False, "client": client_of(ip),
            "fingerprint": rid, "created_at": at, "published": True, "routing_key": "response.submitted",
            "message": {"data": {"period": period_of(at), "enterprise": {"code": ent["code"], "township": ent["township"]},
                                 "ratings": ratings}}}


def visit_doc(vid, cadre, ent, at, ratings):
    return {"_id": vid, "enterprise": ent["code"], "visited_at": at, "ratings": ratings,
            "by": {"role": "cadre", "name": cadre["name"], "key": cadre["key"]}, "created_at": at + timedelta(minutes=2),
            "published": True, "routing_key": "visit.recorded",
            "message": {"data": {"period": period_of(at), "enterprise": {"code": ent["code"], "township": ent["township"]}}}}


def level_of(rng, mood):
    return max(1, min(5, round(rng.gauss(mood, 0.9))))


def add_answer(county, rng, ent, at, answers=None, ip=None, pace=None):
    """An answer with its link's first view: `pace` seconds per question, else an ordinary reading pace."""
    rid, invitation = uuid.UUID(int=rng.getrandbits(128)).hex, uuid.UUID(int=rng.getrandbits(128)).hex
    answers = answers or answers_for(rng, ent["mood"])
    at = at.astimezone(SHANGHAI)
    county.responses.append(response_doc(rid, ent, answers, at, ip or ent["ip"], invitation))
    if pace is not None:
        opened = at - timedelta(seconds=pace * len(answers))
    elif rng.random() < 0.1:
        return rid  # answered through the API (a WeChat mini program, say): no page view
    elif rng.random() < 0.3:
        opened = at - timedelta(days=rng.uniform(0.5, 3))  # opened the day the link came, answered later
    else:
        opened = at - timedelta(seconds=rng.lognormvariate(5.5, 0.6))  # median ≈ 4 minutes
    county.opened.append({"_id": f"{invitation}:opened", "invitation": invitation, "survey_id": "s-county",
                          "enterprise": ent["code"], "kind": "opened", "at": opened, "day": at.date()})
    return rid


def enterprises_of(rng, n):
    ents = []
    for i in range(n):
        township = rng.choice(TOWNSHIPS)
        ents.append({"code": f"E{i:05d}", "township": township, "industry": rng.choice(INDUSTRIES),
                     "mood": rng.uniform(2.8, 4.8), "ip": address(rng, township)})
    return ents


def ordinary_answers(county, rng, ents, share=0.8):
    for ent in ents:
        if rng.random() >= share:
            continue
        day = WORKDAYS[0] if rng.random() < 0.33 else rng.choice(WORKDAYS)
        add_answer(county, rng, ent, working_moment(rng, day, rush=day == WORKDAYS[0]))


def ordinary_visits(county, rng, ents, cadres):
    for cadre in cadres:
        for day in WORKDAYS:
            moment = day + timedelta(hours=8.5 + rng.uniform(0, 1.5))
            for _ in range(rng.choice([2, 3, 3, 4])):
                ent = rng.choice(ents)
                rated = rng.sample(DEPARTMENTS, rng.choice([1, 2, 2, 3]))
                county.visits.append(visit_doc(uuid.UUID(int=rng.getrandbits(128)).hex, cadre, ent, moment,
                                               [{"department": d, "level": level_of(rng, ent["mood"])} for d in rated]))
                moment += timedelta(minutes=rng.uniform(50, 120))


def ordinary_county(rng, enterprises=1500, cadres=30):
    county = County()
    ents = enterprises_of(rng, enterprises)
    ordinary_answers(county, rng, ents)
    ordinary_visits(county, rng, ents, [{"key": f"k{i:02d}", "name": f"干部{i:02d}"} for i in range(cadres)])
    return county, ents


def planted_county(rng, enterprises=1500, cadres=30):
    """An ordinary county plus planted patterns of every kind, each recorded in `planted`."""
    county = County()
    ents = enterprises_of(rng, enterprises)
    spare = ents[-300:]  # enterprises left for planted answers (one answer per enterprise)
    ordinary_answers(county, rng, ents[:-300])
    crew = [{"key": f"k{i:02d}", "name": f"干部{i:02d}"} for i in range(cadres)]
    ordinary_visits(county, rng, ents, crew[:-4])
    # Speeders: a question a second or less.
    for ent in spare[:20]:
        rid = add_answer(county, rng, ent, working_moment(rng, rng.choice(WORKDAYS)), pace=rng.uniform(0.3, 1.5))
        county.planted["speeder"].add(f"speeder:{rid}")
    # Straight-lining: an enterprise pressed to give 非常满意 everywhere.
    for ent in spare[20:40]:
        answers = {**{q: 5 for q in RATED}, "q2": "是", "q11": 10}
        rid = add_answer(county, rng, ent, working_moment(rng, rng.choice(WORKDAYS)), answers)
        county.planted["straight_line"].add(f"straight_line:{rid}")
    # Bursts: three batches of eight answers from one address within six minutes.
    for b in range(3):
        start, ip = working_moment(rng, WORKDAYS[2 + b]), f"203.0.113.{b + 1}"
        for i, ent in enumerate(spare[40 + 8 * b:48 + 8 * b]):
            rid = add_answer(county, rng, ent, start + timedelta(seconds=45 * i), ip=ip)
            county.planted["burst"].add(f"burst:{rid}")
    # Waves: a run of 差评 against the tax bureau in one township within the hour, twice.
    for w, township in enumerate(["石桥镇", "南湾乡"]):
        hour = WORKDAYS[5 + w] + timedelta(hours=14)
        for i, ent in enumerate(spare[70 + 12 * w:82 + 12 * w]):
            ent = {**ent, "township": township}
            answers = {**answers_for(rng, 4.2), "q4": 1}
            add_answer(county, rng, ent, hour + timedelta(minutes=4 * i + 1), answers)
        county.planted["wave"].add(f"wave:tax:{township}:{hour.astimezone(UTC):%Y%m%d%H}")
    # Cadres: two rate the market bureau 非常满意 on every visit; two record visits minutes apart.
    for cadre in crew[-4:-2]:
        before = len(county.visits)
        ordinary_visits(county, rng, ents, [cadre])
        for v in county.visits[before:]:
            v["ratings"] = [r for r in v["ratings"] if r["department"] != "market"] + [{"department": "market", "level": 5}]
        county.planted["cadre_same"].add(f"cadre_same:{cadre['key']}:market:2026Q4")
    for cadre in crew[-2:]:
        before = len(county.visits)
        ordinary_visits(county, rng, ents, [cadre])
        mine = county.visits[before:]
        for v in mine[1::4]:  # every fourth visit recorded 3 minutes after the one before, across town
            previous = mine[mine.index(v) - 1]
            v["visited_at"] = previous["visited_at"] + timedelta(minutes=3)
            v["created_at"] = v["visited_at"] + timedelta(minutes=2)
            if v["enterprise"] != previous["enterprise"]:
                county.planted["cadre_travel"].add(f"cadre_travel:{v['_id']}")
    return county, ents


def load_and_scan(services, county):
    """Store each working day's records as they arrived and scan after each; returns the flags stored."""
    db = services.store.db
    for responses, visits, opened in county.batches():
        if opened:
            db.invitation_events.insert_many([{k: v for k, v in e.items() if k != "day"} for e in opened])
        if responses:
            db.responses.insert_many(responses)
        if visits:
            db.visits.insert_many(visits)
        scan(services)
    return services.flags.all()


def tally(county, flags):
    """{kind: (planted, found, false)}: flags of each kind that a planted pattern expected, and the others."""
    raised = {k: {f["_id"] for f in flags if f["kind"] == k} for k in rules.KINDS}
    return {k: (len(county.planted[k]), len(county.planted[k] & raised[k]), len(raised[k] - county.planted[k]))
            for k in rules.KINDS}


def random_of(seed):
    return random.Random(seed)
