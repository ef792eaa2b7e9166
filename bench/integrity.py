"""Suspicious-rating flags on a generated county with planted patterns of every kind (issue 16).

Two working weeks of a county (tests/planted.py: the demo survey's answers, ordinary reading paces, a morning
rush, the industrial park behind shared addresses, 30 cadres visiting), with planted speeders, straight-liners,
bursts from one address, 差评 waves, cadres rating one department alike and cadres recording visits minutes
apart. The records are stored on the embedded MongoDB server exactly as the answer and visit paths store them,
a working day at a time, and the survey service's own scan (services/survey/flags/use_cases.scan) runs after
each day, as its scheduler would. Prints per kind: planted / found / false, and the false-flag rate.

Then the same kinds through the real API (`--live`, default 200 enterprises; 0 skips): the survey app with its
scheduler scanning every second behind one trusted proxy (each enterprise its own X-Forwarded-For), ordinary
answers and visits, planted patterns, and `GET /api/v1/flags` polled until every planted one shows. Live,
everything arrives within a minute, so reading paces cannot be ordinary: ordinary answers there do not
view the page (not judged for speed); the stored county above measures speeders against ordinary paces.

    .venv/bin/python bench/integrity.py [--enterprises 2000] [--seed 16] [--live 200]
"""
import argparse
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from manyi.demo import DEPARTMENTS, answers_for, survey_definition  # noqa: E402
from services.survey import create_app  # noqa: E402
from services.survey.bootstrap import bootstrap  # noqa: E402
from services.survey.flags.rules import KINDS  # noqa: E402
from shared import mongo  # noqa: E402
from shared.domain import period_of, utcnow  # noqa: E402
from tests import planted  # noqa: E402
from tests.api import FlaskApi, ok  # noqa: E402
from tests.factories import enterprise  # noqa: E402
from tests.harness import MongoServer, RabbitVhost, make_config, poll  # noqa: E402

UNIT = {"speeder": "answers", "straight_line": "answers", "burst": "answers", "wave": "hour×township",
        "cadre_same": "cadre×dept", "cadre_travel": "visits"}


def print_tally(tally):
    print(f"{'kind':<14} {'unit':<14} {'planted':>8} {'found':>6} {'false':>6}")
    for kind in KINDS:
        n, found, false = tally[kind]
        print(f"{kind:<14} {UNIT[kind]:<14} {n:>8} {found:>6} {false:>6}")


class Live:
    """A county driven through the survey service's API, its flags read back through GET /api/v1/flags."""

    def __init__(self, app, admin, rng):
        self.app, self.api, self.admin, self.rng = app, FlaskApi(app), admin, rng
        self.planted = {k: set() for k in KINDS}
        self.answers = self.visits = 0

    def answer(self, token, answers, ip, view=False):
        api = FlaskApi(self.app) if view else self.api  # a page view gives that phone a device id (a cookie)
        if view:
            api("GET", f"/s/{token}", headers={"X-Forwarded-For": ip})
        self.answers += 1
        return ok(api("POST", "/api/v1/responses", None, {"token": token, "answers": answers},
                           headers={"X-Forwarded-For": ip}), 202)["response_id"]

    def visit(self, cadre, code, at, ratings):
        self.visits += 1
        return ok(self.api("POST", "/api/v1/visits", cadre, {"enterprise": code, "visited_at": at.isoformat(),
                                                              "ratings": ratings, "demands": []}), 202)["visit_id"]

    def cadre(self, name):
        key = ok(self.api("POST", "/api/v1/keys", self.admin, {"role": "cadre", "name": name}), 201)
        return key["key"], key["id"]

    def flags(self):
        return ok(self.api("GET", "/api/v1/flags?per_page=1000", self.admin), 200)["flags"]


def live(mongo_url, n, seed):
    rng, vhost = random.Random(seed), RabbitVhost().create()
    config, _ = make_config(mongo_url, vhost.url, MANYI_PROXY_HOPS="1", MANYI_FLAG_SCAN_SECONDS="1")
    app = create_app(config, background=True)
    services = app.extensions["manyi"]
    try:
        run = Live(app, config.admin_key, rng)
        run_live(run, rng, n)
        started = time.perf_counter()
        others = set().union(*(ids for kind, ids in run.planted.items() if kind != "wave"))
        poll(lambda: wave_seen(run) and others <= {f["id"] for f in run.flags()}, timeout=90, what="planted flags")
        waited = time.perf_counter() - started
        time.sleep(2 * config.flag_scan_seconds)  # let the scan settle: the figures are read once more below
        flags = run.flags()
        raised = {k: {f["id"] for f in flags if f["kind"] == k} for k in KINDS}
        tally = {k: (len(run.planted[k]), len(run.planted[k] & raised[k]), len(raised[k] - run.planted[k]))
                 for k in KINDS}
        print(f"live, through the API: {n} enterprises, {run.answers} answers, {run.visits} visits; every planted "
              f"flag listed by GET /api/v1/flags {waited:.1f} s after the last request")
        print_tally(tally)
    finally:
        services.scheduler.stop()
        services.outbox.stop()
        vhost.delete()


def wave_seen(run):
    """The planted wave's id names its hour of arrival: take it from the list once it shows."""
    for f in run.flags():
        if f["kind"] == "wave" and f["id"].startswith("wave:tax:高庙乡:"):
            run.planted["wave"] = {f["id"]}
            return True
    return False


def run_live(run, rng, n):
    api, admin = run.api, run.admin
    for code, name in DEPARTMENTS:
        ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": name}), 201)
    ordinary_towns = [t for t in planted.TOWNSHIPS if t != "高庙乡"]
    ents = [enterprise(township=rng.choice(ordinary_towns)) for _ in range(n - 48)]
    ents += [enterprise(township="高庙乡" if 18 <= i < 30 else rng.choice(ordinary_towns)) for i in range(48)]
    for e in ents:
        ok(api("POST", "/api/v1/enterprises", admin, e), 201)
    period = period_of(utcnow())
    survey = ok(api("POST", "/api/v1/surveys", admin, {**survey_definition(period), "code": f"{period}-live"}), 201)
    ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin, {}), 200)
    tokens = {i["enterprise"]: i["token"] for i in ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin,
                                                          {"enterprises": [e["code"] for e in ents]}), 201)["invitations"]}
    ip = iter(f"198.18.{i // 250}.{i % 250 + 1}" for i in range(10_000))
    spare = ents[-48:]
    for e in ents[:-48]:
        if rng.random() < 0.8:
            run.answer(tokens[e["code"]], answers_for(rng, rng.uniform(2.8, 4.8)), next(ip))
    for e in spare[:5]:  # speeders: open the page and submit at once
        rid = run.answer(tokens[e["code"]], answers_for(rng, 4), next(ip), view=True)
        run.planted["speeder"].add(f"speeder:{rid}")
    for e in spare[5:10]:  # straight-liners: 非常满意 everywhere
        rid = run.answer(tokens[e["code"]], {**{q: 5 for q in planted.RATED}, "q2": "是", "q11": 10}, next(ip))
        run.planted["straight_line"].add(f"straight_line:{rid}")
    for e in spare[10:18]:  # a burst: eight answers from one address
        run.planted["burst"].add(f"burst:{run.answer(tokens[e['code']], answers_for(rng, 4), '203.0.113.9')}")
    for e in spare[18:30]:  # a wave: twelve 差评 of the tax bureau from one township
        run.answer(tokens[e["code"]], {**answers_for(rng, 4.2), "q4": 1}, next(ip))
    run.planted["wave"] = {"wave:tax:高庙乡"}  # completed with its hour once it shows (wave_seen)
    now, codes = utcnow(), [e["code"] for e in ents]
    for c in range(6):  # ordinary cadres: a visit every one to three hours over the last ten days
        key, _ = run.cadre(f"干部{c}")
        moment = now - timedelta(days=10)
        for _ in range(12):
            moment += timedelta(hours=rng.uniform(1, 20))
            run.visit(key, rng.choice(codes), moment, [{"department": d, "level": rng.choice([3, 4, 4, 5, 5])}
                                                       for d in rng.sample([d for d, _ in DEPARTMENTS], 2)])
    key, key_id = run.cadre("全给好评")  # rates the market bureau 非常满意 on every visit
    for i in range(11):
        run.visit(key, rng.choice(codes), now - timedelta(days=10 - i, hours=2), [{"department": "market", "level": 5}])
    run.planted["cadre_same"].add(f"cadre_same:{key_id}:market:{period_of(now - timedelta(days=10))}")
    key, _ = run.cadre("分身有术")  # two visits to different enterprises four minutes apart
    first = now - timedelta(hours=5)
    run.visit(key, codes[0], first, [{"department": "tax", "level": 4}])
    second = run.visit(key, codes[1], first + timedelta(minutes=4), [{"department": "tax", "level": 4}])
    run.planted["cadre_travel"].add(f"cadre_travel:{second}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--live", type=int, default=200, help="enterprises of the county driven through the API")
    args = parser.parse_args()
    server = MongoServer().start()
    try:
        config, _ = make_config(server.url, "amqp://guest:guest@127.0.0.1:5672/%2F")
        services = bootstrap(config)
        services.ensure_indexes()
        county, _ = planted.planted_county(planted.random_of(args.seed), enterprises=args.enterprises)
        started = time.perf_counter()
        flags = planted.load_and_scan(services, county)
        seconds = time.perf_counter() - started
        tally = planted.tally(county, flags)
        answers, visits = len(county.responses), len(county.visits)
        print(f"county: {args.enterprises} enterprises, {answers} answers, {visits} visits over "
              f"{len(planted.WORKDAYS)} working days; stored and scanned day by day in {seconds:.1f} s")
        print_tally(tally)
        false_answers = sum(tally[k][2] for k in ("speeder", "straight_line", "burst", "wave"))
        false_visits = sum(tally[k][2] for k in ("cadre_same", "cadre_travel"))
        print(f"false flags: {false_answers} on answers ({false_answers / answers:.2%} of {answers}), "
              f"{false_visits} on visits ({false_visits / visits:.2%} of {visits})")
        missed = sum(n - found for n, found, _ in tally.values())
        print("every planted pattern found" if not missed else f"MISSED {missed} planted patterns")
        if args.live:
            print()
            live(server.url, args.live, args.seed)
    finally:
        mongo.reset_clients()
        server.cleanup()


if __name__ == "__main__":
    main()
