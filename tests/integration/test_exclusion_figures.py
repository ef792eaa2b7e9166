"""Exclusions through the worker's own transactions (ScoresStore.apply_batch) into the real MongoDB, read back
by the gateway: an excluded rating leaves n, index, levels and the report, `check` finds 0 differences, and
a restoration gives back figures identical to before. Expected figures computed by hand in the comments.
"""
import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from gateway.app import create_app
from services.scoring import repository
from services.scoring.repository import ScoresStore
from services.scoring.rescore import check, rescore
from shared import messages
from tests.factories import department_event, enterprise, exclusion_event, rating, ratings_event
from tests.harness import make_config


def decoded(message):
    return messages.decode(messages.encode(message))


@pytest.fixture
def county(mongo_server, rabbit):
    config, _ = make_config(mongo_server.url, rabbit.url, MANYI_MIN_N="2")
    store = ScoresStore(config)
    store.ensure_indexes()
    e1, e2, e3 = enterprise(), enterprise(), enterprise()
    events = {
        "e1": decoded(ratings_event(e1, [rating("market", 5), rating("land", 4)])),         # market 100, land 75
        "e2": decoded(ratings_event(e2, [rating("market", 3), rating("land", 4)])),         # market 50, land 75
        "e3": decoded(ratings_event(e3, [rating("market", 4), rating("land", 3)])),         # market 75, land 50
        "visit": decoded(ratings_event(e3, [rating("market", 1, indicator="visit")], channel="visit")),  # 0
    }
    store.apply_batch([decoded(department_event("market", "市场监管局")), decoded(department_event("land", "自然资源局")),
                       *events.values()])
    client = create_app(config).test_client()

    def get(path):
        r = client.get(path, headers={"Authorization": f"Bearer {config.admin_key}"})
        assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        return r
    return config, store, events, get


def market(get, period="2026Q4"):
    return next(d for d in get(f"/api/v1/indices?period={period}").json["departments"] if d["code"] == "market")


def report_row(get, code, period="2026Q4"):
    sheet = load_workbook(io.BytesIO(get(f"/api/v1/reports/{period}.xlsx").data))["排名"]
    header = [c.value for c in sheet[1]]
    row = next([c.value for c in r] for r in sheet.iter_rows(min_row=2) if r[1].value == code)
    return dict(zip(header, row))


def everything(get):
    """Every figure the exclusion may touch, as the gateway answers it."""
    return {p: (get(f"/api/v1/indices?period={p}").json, get(f"/api/v1/departments/market/index?period={p}").json,
                get(f"/api/v1/departments/market/segments?period={p}&by=ownership").json)
            for p in ("2026Q4", "2026")}


def test_an_excluded_rating_leaves_every_figure_and_a_restoration_brings_them_back_exactly(county):
    config, store, events, get = county
    # Market: E1 100; E2 50; E3 (75 + 0) / 2 = 37.5 → index 187.5 / 3 = 62.5; levels 1, 3, 4, 5.
    before = everything(get)
    m = market(get)
    assert (m["n"], m["index"], m["excluded"]) == (3, 62.5, 0)
    assert m["levels"] == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 1}
    assert report_row(get, "market")["复核剔除"] == "经复核剔除 0 条"

    excluded = decoded(exclusion_event(events["visit"], exclusion_id="visit-x"))
    store.apply_batch([excluded])
    # E3's voice is its 75 alone: (100 + 50 + 75) / 3 = 75; the 1 leaves the levels and the visit channel.
    for period in ("2026Q4", "2026"):
        m = market(get, period)
        assert (m["n"], m["index"], m["excluded"]) == (3, 75.0, 1)
        assert m["levels"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1} and m["bad_rate"] == 0.0
        detail = get(f"/api/v1/departments/market/index?period={period}").json
        assert detail["channels"] == {"survey": 3, "visit": 0} and detail["excluded"] == 1
        assert [i["indicator"] for i in detail["indicators"]] == ["general"]
    assert report_row(get, "market")["复核剔除"] == "经复核剔除 1 条"
    assert report_row(get, "land")["复核剔除"] == "经复核剔除 0 条"
    assert check(config) == 0
    store.apply_batch([excluded])  # a redelivery changes nothing
    assert market(get)["index"] == 75.0 and check(config) == 0

    store.apply_batch([decoded(exclusion_event(events["visit"], exclusion_id="visit-x", version=2))])
    assert everything(get) == before  # exact equality, every figure of the quarter and the year
    assert check(config) == 0


def test_an_exclusion_before_its_answer_and_a_rescore_give_the_same_figures(county):
    config, store, events, get = county
    e4 = enterprise()
    late = decoded(ratings_event(e4, [rating("market", 1), rating("land", 5)]))
    store.apply_batch([decoded(exclusion_event(late, [0], exclusion_id="early"))])  # the outbox published it first
    store.apply_batch([late])
    # Market as before (62.5 over 3 enterprises): E4's only market rating was born excluded.
    m = market(get)
    assert (m["n"], m["index"], m["excluded"]) == (3, 62.5, 1)
    land = next(d for d in get("/api/v1/indices?period=2026Q4").json["departments"] if d["code"] == "land")
    assert (land["n"], land["index"], land["excluded"]) == (4, 75.0, 0)  # (75 + 75 + 50 + 100) / 4
    assert check(config) == 0
    figures = everything(get)
    assert rescore(config, out=lambda line: None) == 0
    assert everything(get) == figures and check(config) == 0
    assert store.ratings.count_documents({"excluded": True}) == 1


def test_an_exclusion_and_its_answer_applied_at_once_by_two_workers_are_settled(county, monkeypatch):
    """Worker 1 commits an exclusion whose answer it has not seen (`pending`); worker 2 had read its snapshot
    before that commit, so it stores the answer's rating unexcluded. The next settle repairs it."""
    config, store, _, get = county
    late = decoded(ratings_event(enterprise(), [rating("market", 1)]))
    store.apply_batch([decoded(exclusion_event(late, exclusion_id="race"))])
    assert store.exclusions.find_one({"_id": "race"})["pending"] is True
    monkeypatch.setattr(repository, "exclusion_sources", lambda batch: [])  # worker 2's snapshot: no exclusion
    ScoresStore(replace(config, worker_id="other")).apply_transaction([late])
    monkeypatch.undo()
    assert market(get)["n"] == 4 and check(config, out=lambda line: None) == 1  # the race's damage, seen by check
    assert store.settle_pending() == 1
    m = market(get)
    assert (m["n"], m["index"], m["excluded"]) == (3, 62.5, 1) and check(config) == 0
    assert "pending" not in store.exclusions.find_one({"_id": "race"}) and store.settle_pending() == 0
