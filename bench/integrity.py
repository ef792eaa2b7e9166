"""Suspicious-rating flags on a generated county with planted patterns of every kind (issue 16).

Two working weeks of a county (tests/planted.py: the demo survey's answers, ordinary reading paces, a morning
rush, the industrial park behind shared addresses, 30 cadres visiting), with planted speeders, straight-liners,
bursts from one address, 差评 waves, cadres rating one department alike and cadres recording visits minutes
apart. The records are stored on the embedded MongoDB server exactly as the answer and visit paths store them,
a working day at a time, and the survey service's own scan (services/survey/flags/use_cases.scan) runs after
each day, as its scheduler would. Prints per kind: planted / found / false, and the false-flag rate.
The API path itself (address hash, scheduler, GET /api/v1/flags) is covered by tests/integration/test_flags.py.

    .venv/bin/python bench/integrity.py [--enterprises 2000] [--seed 16]
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.survey.bootstrap import bootstrap  # noqa: E402
from services.survey.flags.rules import KINDS  # noqa: E402
from shared import mongo  # noqa: E402
from tests import planted  # noqa: E402
from tests.harness import MongoServer, make_config  # noqa: E402

UNIT = {"speeder": "answers", "straight_line": "answers", "burst": "answers", "wave": "hour×township",
        "cadre_same": "cadre×dept", "cadre_travel": "visits"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=16)
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
        print(f"{'kind':<14} {'unit':<14} {'planted':>8} {'found':>6} {'false':>6}")
        for kind in KINDS:
            n, found, false = tally[kind]
            print(f"{kind:<14} {UNIT[kind]:<14} {n:>8} {found:>6} {false:>6}")
        false_answers = sum(tally[k][2] for k in ("speeder", "straight_line", "burst", "wave"))
        false_visits = sum(tally[k][2] for k in ("cadre_same", "cadre_travel"))
        print(f"false flags: {false_answers} on answers ({false_answers / answers:.2%} of {answers}), "
              f"{false_visits} on visits ({false_visits / visits:.2%} of {visits})")
        missed = sum(n - found for n, found, _ in tally.values())
        print("every planted pattern found" if not missed else f"MISSED {missed} planted patterns")
    finally:
        mongo.reset_clients()
        server.cleanup()


if __name__ == "__main__":
    main()
