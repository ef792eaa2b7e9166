"""What other features take from an enterprise."""
from shared.domain import SEGMENT_ATTRIBUTES


def snapshot(enterprise):
    """The enterprise's code and segment attributes as they are now: what a rating carries (DESIGN §2)."""
    return {"code": enterprise["code"], **{k: enterprise[k] for k in SEGMENT_ATTRIBUTES}}
