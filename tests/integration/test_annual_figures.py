"""A year `YYYY` is a period on every gateway endpoint (one voice per enterprise over the year), and the
gateway shows every commit at once, whichever worker made it and whatever its clock says.

Events go through the worker's own transaction (ScoresStore.apply_batch) into the real MongoDB; the
gateway app reads them. Every expected figure is computed by hand in the comments.
"""
import io
import math
import statistics
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from openpyxl import load_workbook

from gateway.app import create_app
from services.scoring.repository import ScoresStore
from services.scoring.rescore import check
from shared import messages
from tests.factories import enterprise, rating, ratings_event
from tests.harness import make_config, poll


@pytest.fixture
def annual(mongo_server, rabbit):
    config, _ = make_config(mongo_server.url, rabbit.url, MANYI_MIN_N="2")
    store = ScoresStore(config)
    store.ensure_indexes()
    e1, e2, e3 = enterprise(ownership="state"), enterprise(ownership="private"), enterprise(ownership="private")
    t = datetime(2026, 3, 1, tzinfo=UTC)
    events = [
        ratings_event(e1, [rating("market", 5)], period="2026Q1", nps=10),                 # 100, weight 1
        ratings_event(e2, [rating("market", 3)], period="2026Q1", nps=9),                  # 50
        ratings_event(e1, [rating("market", 1, weight=3.0)], period="2026Q3", nps=3),      # 0, weight 3
        ratings_event(e3, [rating("market", 4, weight=2.0)], period="2026Q3", nps=7),      # 75, weight 2
        ratings_event(e3, [rating("market", 2, indicator="visit")], period="2026Q4", channel="visit"),  # 25
        messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "market", "name": "县市场监督管理局"}),
    ]
    for i, e in enumerate(events):
        e["occurred_at"] = (t + timedelta(days=30 * i)).isoformat()
    store.apply_batch([messages.decode(messages.encode(e)) for e in events])
    app = create_app(config)
    client = app.test_client()

    def get(path):
        r = client.get(path, headers={"Authorization": f"Bearer {config.admin_key}"})
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        return r
    return config, store, get


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def test_a_year_is_one_voice_per_enterprise_over_its_quarters(annual):
    config, _, get = annual
    # E1: (1·100 + 3·0) / 4 = 25; E2: 50; E3: (2·75 + 1·25) / 3 = 175/3. Index (25 + 50 + 175/3) / 3 = 400/9.
    year = get("/api/v1/indices?period=2026").json
    market = next(d for d in year["departments"] if d["code"] == "market")
    scores = [25.0, 50.0, 175 / 3]
    assert market["n"] == 3 and close(market["index"], 400 / 9)
    assert close(market["sd"], statistics.stdev(scores))
    assert market["levels"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}  # five ratings, one at each level
    assert close(market["satisfied_rate"], 3 / 5) and close(market["bad_rate"], 2 / 5)
    assert market["rank"] == 1 and market["name"] == "县市场监督管理局"
    # The first quarter alone: E1 100, E2 50 → 75; the third: E1 0, E3 75 → 37.5.
    q1 = next(d for d in get("/api/v1/indices?period=2026Q1").json["departments"] if d["code"] == "market")
    q3 = next(d for d in get("/api/v1/indices?period=2026Q3").json["departments"] if d["code"] == "market")
    assert (q1["n"], q1["index"], q3["n"], q3["index"]) == (2, 75.0, 2, 37.5)

    detail = get("/api/v1/departments/market/index?period=2026").json
    assert detail["channels"] == {"survey": 4, "visit": 1}
    general = next(i for i in detail["indicators"] if i["indicator"] == "general")
    visit = next(i for i in detail["indicators"] if i["indicator"] == "visit")
    # general: E1 25, E2 50, E3 75 → 50; visit: E3 alone (suppressed below 2).
    assert general["n"] == 3 and close(general["index"], 50.0)
    assert visit["n"] == 1 and visit["suppressed"] and visit["index"] is None

    segments = get("/api/v1/departments/market/segments?period=2026&by=ownership").json
    by_value = {s["value"]: s for s in segments["segments"]}
    assert by_value["state"]["n"] == 1 and by_value["state"]["suppressed"]
    assert by_value["private"]["n"] == 2 and close(by_value["private"]["index"], (50 + 175 / 3) / 2)
    assert segments["gap"]["value"] is None  # one unsuppressed segment: no gap

    # NPS over the year: each enterprise's latest answer. E1 10 then 3 (detractor), E2 9, E3 7 → 0.
    year_nps = get("/api/v1/nps?period=2026").json
    assert {k: year_nps[k] for k in ("period", "n", "nps", "promoters", "passives", "detractors", "suppressed")} == \
        {"period": "2026", "n": 3, "nps": 0.0, "promoters": 1, "passives": 1, "detractors": 1, "suppressed": False}
    assert get("/api/v1/nps?period=2026Q1").json["nps"] == 100.0

    trend = get("/api/v1/departments/market/trend?from=2025&to=2026").json
    assert [(p["period"], p["n"]) for p in trend] == [("2025", 0), ("2026", 3)]
    assert close(trend[1]["index"], 400 / 9) and trend[1]["change"] is None

    assert {"2026Q1", "2026Q3", "2026Q4", "2026"} <= set(get("/api/v1/periods").json["periods"])
    assert get("/api/v1/demands/stats?period=2026").json["period"] == "2026"

    ranking = load_workbook(io.BytesIO(get("/api/v1/reports/2026.xlsx").data))["排名"]
    row = [c.value for c in ranking[2]]
    assert row[1] == "market" and close(row[3], 400 / 9) and row[6] == 3
    assert check(config) == 0


def test_every_commit_shows_at_once_whatever_the_workers_clocks(annual):
    """Two workers whose clocks differ by 30 s commit in turn: the gateway shows each commit on the next read
    (its cache version is the commit counters, bumped in the committing transaction, never a timestamp)."""
    config, store, get = annual
    late = ScoresStore(replace(config, worker_id="lagging-clock"))
    real_now = datetime.now

    def answers(n):
        return [messages.decode(messages.encode(ratings_event(enterprise(), [rating("market", 4)], period="2026Q2")))
                for _ in range(n)]

    def n_shown():
        return next(d for d in get("/api/v1/indices?period=2026Q2").json["departments"] if d["code"] == "market")["n"]
    assert n_shown() == 0
    for i in range(4):
        worker = late if i % 2 else store
        skew = timedelta(seconds=-30 if i % 2 else 0)
        clock = lambda skew=skew: real_now(UTC) + skew  # noqa: E731
        # The worker's clock, wherever it would be read (the repository stamped batches with it before
        # versions were commit counters: a lagging worker's commits then never looked newest).
        with mock.patch("shared.domain.utcnow", clock), \
                mock.patch("services.scoring.repository.utcnow", clock, create=True):
            worker.apply_batch(answers(2))
        poll(lambda i=i: n_shown() == 2 * (i + 1), 5, 0.05, f"commit {i + 1} shown within 5 s")
    assert check(config) == 0


def test_a_reply_made_once_is_made_again_after_every_change_it_shows(annual):
    """The gateway keeps each JSON reply with the figures it was made from (gateway/api.py `serialized`): a new
    rating, a department's new name or an indicator's new name, committed for any period, shows on the next read
    of every period."""
    _, store, get = annual

    def market(period="2026Q1"):
        return get(f"/api/v1/departments/market/index?period={period}").json

    def commit(*events):
        store.apply_batch([messages.decode(messages.encode(e)) for e in events])
    first = market()
    assert market() == first and first["n"] == 2  # made once, served again
    assert get("/api/v1/indices?period=2026Q1").json["departments"][0]["n"] == 2
    general = {**rating("market", 5), "indicator_name": "市场准入服务"}
    commit(ratings_event(enterprise(), [general], period="2026Q4"))  # a name carried by a rating of another quarter
    assert {i["indicator"]: i["name"] for i in market()["indicators"]}["general"] == "市场准入服务"
    commit(messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "market", "name": "县市场监管局（新）"}))
    assert market()["name"] == "县市场监管局（新）"
    assert get("/api/v1/indices?period=2026Q1").json["departments"][0]["name"] == "县市场监管局（新）"
    commit(ratings_event(enterprise(), [rating("market", 2)], period="2026Q1"))
    assert market()["n"] == 3 and get("/api/v1/indices?period=2026Q1").json["departments"][0]["n"] == 3
