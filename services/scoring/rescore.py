"""`manyi rescore` and `manyi check`: the invariant that stored aggregates equal a recomputation."""
import math

from services.scoring.repository import ScoresStore
from shared.scoring import cells_from_ratings, merge_shards

TOLERANCE = 1e-9


def recompute(store, period=None):
    return cells_from_ratings(store.ratings.find({"period": period} if period else {}))


def differences(stored, fresh):
    """Human-readable differences between stored and recomputed cells (empty when they agree)."""
    out = []
    for key in sorted(set(stored) | set(fresh)):
        a, b = stored.get(key), fresh.get(key)
        if a is None or b is None:
            out.append(f"{key}: {'missing' if a is None else 'not backed by any rating'}")
            continue
        for f in ("swp", "sw"):
            if not math.isclose(a[f], b[f], rel_tol=TOLERANCE, abs_tol=TOLERANCE):
                out.append(f"{key}: {f} stored {a[f]!r}, recomputed {b[f]!r}")
        for f in ("levels", "channels"):
            got = {k: v for k, v in (a.get(f) or {}).items() if v}
            if got != b[f]:
                out.append(f"{key}: {f} stored {got}, recomputed {b[f]}")
    return out


def check(config, period=None, out=print):
    store = ScoresStore(config)
    stored = merge_shards(store.cells.find({"period": period} if period else {}))
    diffs = differences(stored, recompute(store, period))
    for line in diffs[:50]:
        out(f"✗ {line}")
    out(f"manyi check: {len(stored)} cells, {len(diffs)} differences")
    return 1 if diffs else 0


def rescore(config, period=None, out=print):
    store = ScoresStore(config)
    fresh = recompute(store, period)
    store.replace_cells(fresh, period)
    out(f"manyi rescore: {len(fresh)} cells recomputed from the stored ratings")
    return 0
