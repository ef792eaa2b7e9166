"""Where the scoring worker's transaction spends its time (issue 13: the worker's rate, with a profile).

Loads a generated county (bench/scale.py's realistic answers of ~10 ratings) through
`ScoresStore.apply_batch` in worker-sized batches, timing every database call the transaction makes by
collection and operation, then prints the share of each. Figures, not pass/fail.

    .venv/bin/python bench/worker_profile.py [--ratings 30000]
"""
import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pymongo.collection import Collection  # noqa: E402

from bench.scale import BATCH, county_messages  # noqa: E402
from services.scoring.repository import ScoresStore  # noqa: E402
from tests.harness import MongoServer, RabbitVhost, make_config  # noqa: E402

OPERATIONS = ("find", "insert_many", "insert_one", "bulk_write", "update_one", "find_one", "count_documents")


def timing_calls(spent, counted):
    """Wrap Collection's write and read methods to add their wall time (cursors: when iterated) per (collection, op)."""
    originals = {}
    for op in OPERATIONS:
        original = getattr(Collection, op)
        originals[op] = original

        def timed(self, *args, _op=op, _original=original, **kwargs):
            started = time.perf_counter()
            result = _original(self, *args, **kwargs)
            if _op == "find":
                result = list(result)
            spent[(self.name, _op)] += time.perf_counter() - started
            counted[(self.name, _op)] += 1
            return result
        setattr(Collection, op, timed)
    return originals


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ratings", type=int, default=30000)
    args = parser.parse_args()
    mongo, vhost = MongoServer().start(), RabbitVhost().create()
    try:
        config, _ = make_config(mongo.url, vhost.url, MANYI_WORKER_ID="profile")
        store = ScoresStore(config)
        store.ensure_indexes()
        msgs = county_messages(args.ratings)
        spent, counted = defaultdict(float), defaultdict(int)
        timing_calls(spent, counted)
        started, ratings = time.perf_counter(), 0
        for i in range(0, len(msgs), BATCH):
            ratings += len(store.apply_batch(msgs[i:i + BATCH]).ratings)
        wall = time.perf_counter() - started
        print(f"worker profile: {ratings:,} ratings in {len(msgs):,} messages, batches of {BATCH}: {wall:.1f} s, "
              f"{ratings / wall:,.0f} ratings/s")
        print(f"{'collection.operation':34} {'calls':>6} {'seconds':>8} {'share':>6}")
        for (name, op), seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"{name + '.' + op:34} {counted[name, op]:6} {seconds:8.2f} {seconds / wall:6.0%}")
        print(f"{'(outside the database calls)':34} {'':6} {wall - sum(spent.values()):8.2f} "
              f"{(wall - sum(spent.values())) / wall:6.0%}")
    finally:
        vhost.delete()
        mongo.cleanup()


if __name__ == "__main__":
    main()
