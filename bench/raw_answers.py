"""Raw-answer export benchmark (issue 14): 100,000 answers as CSV and .xlsx, time and memory.

Seeds the embedded MongoDB server with answers shaped exactly as the answer path stores them (a survey with
every question type, 12 questions, a 5-option multi-choice question), then downloads
`/api/v1/surveys/{id}/responses.csv` and `.xlsx` through the app, counting bytes without keeping them, while a
thread samples the process's resident memory. Run at 10,000 and at 100,000 answers: the memory an export
adds must not grow with the number of answers (constant memory), and 100,000 must take under 60 s.

    .venv/bin/python bench/raw_answers.py [--answers 100000]
"""
import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.survey import create_app  # noqa: E402
from shared.domain import utcnow  # noqa: E402
from tests.factories import enterprise  # noqa: E402
from tests.harness import MongoServer, make_config  # noqa: E402

OPTIONS = ["审批速度", "服务态度", "办事流程", "政策宣传", "其他"]
QUESTIONS = [
    {"id": f"r{n}", "type": "rating5", "text": f"您对第{n}部门的服务是否满意？", "department": f"d{n}",
     "indicator": "general", "weight": 1.0, "required": True} for n in range(1, 7)
] + [
    {"id": "c1", "type": "text", "text": "对第6部门的意见"},
    {"id": "s1", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"]},
    {"id": "r7", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land", "indicator": "general",
     "weight": 1.0, "show_if": {"s1": "是"}},
    {"id": "m1", "type": "multi", "text": "希望改进的方面", "options": OPTIONS},
    {"id": "n1", "type": "nps", "text": "您有多大可能向外地企业推荐来本县投资？"},
    {"id": "t1", "type": "text", "text": "意见和建议"},
]
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakMemory:
    def __enter__(self):
        self.base, self.peak, self.done = rss(), rss(), False
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def sample(self):
        while not self.done:
            self.peak = max(self.peak, rss())
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.done = True
        self.thread.join()

    @property
    def added_mb(self):
        return (self.peak - self.base) / 2**20


def record(i, survey, ents, now):
    ent = ents[i % len(ents)]
    answers = {f"r{n}": 1 + (i * n) % 5 for n in range(1, 7)}
    if i % 3 == 0:
        answers["c1"] = f"窗口人员态度很好，但材料要求反复变化，第{i}次反映。"
    answers["s1"] = "是" if i % 2 else "否"
    if i % 2:
        answers["r7"] = 1 + i % 5
    answers["m1"] = [o for k, o in enumerate(OPTIONS) if (i >> k) & 1] or [OPTIONS[0]]
    answers["n1"] = i % 11
    if i % 4 == 0:
        answers["t1"] = "希望进一步简化审批材料，推行一网通办，缩短办理时限。"
    snapshot = {k: ent[k] for k in ("code", "scale", "ownership", "capital", "township", "industry")}
    ratings = [{"question": q, "department": "d1", "indicator": "general", "weight": 1.0, "level": v,
                "points": (v - 1) * 25.0} for q, v in answers.items() if q.startswith("r")]
    return {"_id": f"{i:032x}", "invitation": f"t{i}", "survey_id": survey, "survey_code": "bench", "enterprise": ent["code"],
            "answers": answers, "fingerprint": "x", "created_at": now, "routing_key": "response.submitted",
            "message": {"type": "response.submitted", "id": f"{i:032x}", "data": {"enterprise": snapshot,
                                                                                  "ratings": ratings}},
            "published": True}


def seed(store, start, stop, ents):
    now = utcnow()
    batch = []
    for i in range(start, stop):
        batch.append(record(i, "bench-survey", ents, now))
        if len(batch) == 5000:
            store.responses.insert_many(batch)
            batch = []
    if batch:
        store.responses.insert_many(batch)


def download(client, path, key):
    started = time.perf_counter()
    with PeakMemory() as memory:
        r = client.get(path, headers={"Authorization": f"Bearer {key}"}, buffered=False)
        size = sum(len(chunk) for chunk in r.iter_encoded())
        r.close()
    return r.status_code, size, time.perf_counter() - started, memory.added_mb


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the first, smaller run to compare memory with")
    args = parser.parse_args()
    mongo = MongoServer().start()
    try:
        config, _ = make_config(mongo.url, "amqp://guest:guest@127.0.0.1:5672/%2F")
        app = create_app(config, background=False)
        store = app.extensions["manyi"].store
        store.ensure_indexes()
        ents = [enterprise() for _ in range(2000)]
        store.enterprises.insert_many([{"_id": e.pop("code"), **e} for e in ents])
        ents = [{"code": e["_id"], **e} for e in store.enterprises.find()]
        store.surveys.insert_one({"_id": "bench-survey", "code": "bench", "title": "基准问卷", "period": "2026Q4",
                                  "version": 1, "status": "open", "questions": QUESTIONS, "scale": None})
        client, done = app.test_client(), 0
        print(f"raw-answer export, {len(QUESTIONS)} questions (16 columns of answers + 9 of identity); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for target in sorted({min(args.small, args.answers), args.answers}):
            started = time.perf_counter()
            seed(store, done, target, ents)
            done = target
            print(f"  seeded {target:,} answers ({time.perf_counter() - started:.1f} s)")
            for ext in ("csv", "xlsx"):
                status, size, seconds, added = download(client, f"/api/v1/surveys/bench-survey/responses.{ext}",
                                                        config.admin_key)
                print(f"  {ext:4} {target:>7,} answers: HTTP {status}, {size / 2**20:6.1f} MiB in {seconds:5.1f} s "
                      f"({target / seconds:,.0f} answers/s), memory added at peak {added:5.1f} MiB, "
                      f"load average {os.getloadavg()[0]:.1f}")
        app.extensions["manyi"].outbox.stop()
    finally:
        mongo.stop()
        mongo.cleanup()


if __name__ == "__main__":
    main()
