"""The demo county `make up` seeds, through the real HTTP API: what a newcomer sees first must be there."""
import pytest

from manyi.demo import DEPARTMENTS, seed
from shared.domain import period_of, previous_quarter, utcnow
from tests.api import ok
from tests.harness import poll

pytestmark = pytest.mark.e2e


def test_the_demo_county_shows_two_quarters_a_ranking_and_demand_figures(system):
    config, procs, api, gw = system
    admin, said = config.admin_key, []
    seed(procs.survey_url, admin, out=said.append)
    assert said[0].startswith("manyi: seeded a demo county: 8 departments, 40 enterprises")
    assert "/s/" in said[1]
    now, before = period_of(utcnow()), previous_quarter(period_of(utcnow()))

    def settled():
        indices = ok(gw("GET", f"/api/v1/indices?period={now}", admin), 200)["departments"]
        return indices if sum(d["n"] for d in indices if d["code"] == "market") >= 32 else None
    indices = poll(settled, 60, 0.2, "the seeded answers in the gateway")
    assert {d["code"] for d in indices} >= {code for code, _ in DEPARTMENTS}
    assert sum(1 for d in indices if d["rank"] is not None) >= 5 and any(d["laggard"] for d in indices)
    assert ok(gw("GET", "/api/v1/periods", admin), 200)["periods"][-2:] == [before, now]
    trend = ok(gw("GET", f"/api/v1/departments/market/trend?from={before}&to={now}", admin), 200)
    assert [p["period"] for p in trend] == [before, now] and all(p["n"] >= 5 for p in trend)
    assert trend[1]["change"] is not None
    stats = ok(gw("GET", f"/api/v1/demands/stats?period={now}", admin), 200)["departments"]
    assert sum(d["received"] for d in stats) > len(DEPARTMENTS) and any(not d["suppressed"] for d in stats)

    # last quarter is released (通报): a portal reads it, and the current quarter answers 404 until released
    portal = ok(api("POST", "/api/v1/keys", admin, {"role": "portal", "name": "门户"}), 201)["key"]
    poll(lambda: gw("GET", f"/api/v1/indices?period={before}", portal).status == 200, 30, 0.2, "the release")
    assert gw("GET", f"/api/v1/indices?period={now}", portal).status == 404
    assert said[0].endswith(f"{before} released to portals, {now} not yet")

    seed(procs.survey_url, admin, out=said.append)  # the second make up keeps the data
    assert said[-2] == "manyi: demo county already seeded; keeping the data"
    assert said[-1].startswith("manyi: an unanswered invitation to try: ") and "/s/" in said[-1]  # after a restart too
