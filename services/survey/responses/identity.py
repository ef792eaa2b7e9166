"""Who may see which enterprise gave an answer: the one decision every raw-answer view and export goes through.

Today: administrators see the enterprise's identity (its code, name and segment attributes, which in a
county can single it out as surely as its name); department keys never do. The consent rule of DESIGN §9
(`contact_ok` on a 差评) plugs in here, and only here.
"""
IDENTITY_FIELDS = ("code", "name", "scale", "ownership", "capital", "township", "industry")
IDENTITY_HEADERS = ("统一社会信用代码", "企业名称", "企业规模", "所有制", "内外资", "乡镇", "行业")


def identity_visible(key, response=None):
    """May the holder of `key` see which enterprise gave `response` (None: any response of the survey)?"""
    return key["role"] == "admin"


def identity_of(key, response, names):
    """The enterprise's identity as `key` may see it, else None. `names` maps codes to enterprise names."""
    if not identity_visible(key, response):
        return None
    snapshot = response.get("message", {}).get("data", {}).get("enterprise") or {}
    code = response["enterprise"]
    return {"code": code, "name": names.get(code, ""), **{k: snapshot.get(k) for k in IDENTITY_FIELDS[2:]}}
