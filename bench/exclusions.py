"""Exclusions benchmark (issue 16): what honouring exclusions costs the worker, in figures.

Against the embedded MongoDB server, through the worker's own transaction (`ScoresStore.apply_batch`, batches
of 200 answers of 5 ratings, as the worker takes them):
  ingest  = answers/s with E exclusions stored, rounds alternating with and without what exclusions add to
            every batch (the look-up of the batch's answers among the exclusions, and the settle query), and
            their ratio: side by side, so a busy machine moves both;
  exclude = ms per exclusion of one stored rating (its voices rebuilt from raw ratings, quarter and year), in
            a department that holds N ratings; then ms per restoration; then `manyi check` time.
Figures, not pass/fail (bench/README.md).

    .venv/bin/python bench/exclusions.py [--answers 4000] [--exclusions 200]
"""
import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.scoring import repository  # noqa: E402
from services.scoring.repository import ScoresStore  # noqa: E402
from services.scoring.rescore import check  # noqa: E402
from shared import messages  # noqa: E402
from shared.mongo import find_in as mongo_find_in  # noqa: E402
from tests.factories import enterprise, exclusion_event, rating, ratings_event  # noqa: E402
from tests.harness import MongoServer, make_config  # noqa: E402

DEPARTMENTS = ["market", "tax", "land", "water", "power"]


def answers(n, rng):
    return [messages.decode(messages.encode(ratings_event(enterprise(), [rating(d, rng.randint(1, 5)) for d in DEPARTMENTS])))
            for _ in range(n)]


def ingest(store, batch):
    started = time.perf_counter()
    for i in range(0, len(batch), 200):
        store.apply_batch(batch[i:i + 200])
    return len(batch) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=4000)
    parser.add_argument("--exclusions", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(16)
    mongo = MongoServer().start()
    try:
        config, _ = make_config(mongo.url, "amqp://guest:guest@127.0.0.1:5672/unused")
        store = ScoresStore(config)
        store.ensure_indexes()
        first = answers(args.answers, rng)
        print(f"loaded {args.answers} answers at {ingest(store, first):.0f} answers/s")
        timings = []
        for n, message in enumerate(rng.sample(first, args.exclusions)):
            started = time.perf_counter()
            store.apply_batch([messages.decode(messages.encode(exclusion_event(message, [0], exclusion_id=f"x{n}")))])
            timings.append(time.perf_counter() - started)
        timings.sort()
        print(f"exclude one stored rating:     p50 {timings[len(timings) // 2] * 1000:6.1f} ms, "
              f"p99 {timings[int(len(timings) * 0.99)] * 1000:6.1f} ms "
              f"(department of {args.answers} ratings; quarter and year voices rebuilt)")
        rates = {"with": [], "without": []}
        for mode in ("without", "with", "with", "without"):  # ABBA: the growing collections favour neither
            batch = answers(args.answers // 2, rng)
            if mode == "without":  # the hot path as it was before exclusions
                saved = repository.exclusion_sources, store.settle_pending
                repository.exclusion_sources, store.settle_pending = (lambda batch: []), (lambda: 0)
            rates[mode].append(ingest(store, batch))
            if mode == "without":
                repository.exclusion_sources, store.settle_pending = saved
        with_, without = sum(rates["with"]), sum(rates["without"])
        print(f"ingest, {args.exclusions} exclusions stored: {with_ / 2:7.0f} answers/s; without the look-ups "
              f"{without / 2:7.0f}; ratio {with_ / without:.2f}")
        ids = [m["id"] for m in answers(200, rng)]
        started = time.perf_counter()
        for _ in range(20):
            list(mongo_find_in(store.exclusions, "source_id", ids))
            store.settle_pending()
        print(f"per batch of 200 answers, the exclusion look-up and settle query: "
              f"{(time.perf_counter() - started) / 20 * 1000:.1f} ms")
        started = time.perf_counter()
        for n in range(args.exclusions):
            data = store.exclusions.find_one({"_id": f"x{n}"})
            message = next(m for m in first if m["id"] == data["source_id"])
            store.apply_batch([messages.decode(messages.encode(exclusion_event(message, [0], 2, f"x{n}")))])
        print(f"restore:                       {(time.perf_counter() - started) / args.exclusions * 1000:6.1f} ms each")
        started = time.perf_counter()
        assert check(config, out=lambda line: None) == 0
        print(f"manyi check (0 differences):   {time.perf_counter() - started:6.1f} s over {2 * args.answers * 5} ratings")
    finally:
        mongo.stop()


if __name__ == "__main__":
    main()
