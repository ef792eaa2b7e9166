"""Domain constants and small pure rules shared by every process (no I/O)."""
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

SCALES = ("large", "medium", "small", "micro")
OWNERSHIPS = ("state", "private", "collective", "other")
CAPITALS = ("domestic", "foreign")
SEGMENT_ATTRIBUTES = ("scale", "ownership", "capital", "township", "industry")

QUESTION_TYPES = ("rating5", "nps", "single", "multi", "text")
LEVEL_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
ROLES = ("admin", "cadre", "department", "portal")
CHANNELS = ("survey", "visit")

PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")
YEAR_RE = re.compile(r"^(\d{4})$")
# What a reader may ask figures for: a quarter `YYYYQn` or a year `YYYY` (one voice per enterprise over
# the year: the county's 三挂钩 assessment is annual). Ratings themselves always belong to a quarter.
READ_PERIOD_RE = re.compile(r"^\d{4}(Q[1-4])?$")

# GB 32100-2015: 统一社会信用代码 alphabet (no I, O, S, V, Z) and position weights.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17):
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_is_valid(code):
    """True when `code` is 18 characters of the GB 32100 alphabet with a correct check character."""
    if not isinstance(code, str) or len(code) != 18 or any(ch not in USCC_CHARS for ch in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def linear_points(level):
    """Points of a level on the default linear scale: (level − 1) / 4 × 100."""
    return (level - 1) / 4 * 100


def points_for(level, scale=None):
    """Points of a rating level under a survey's `scale` (keys "1".."5"), linear when absent."""
    if scale:
        return float(scale[str(level)])
    return linear_points(level)


def period_of(moment):
    """The quarter `YYYYQn` a moment falls in, in Asia/Shanghai."""
    local = moment.astimezone(SHANGHAI) if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def is_period(value):
    """A quarter `YYYYQn`, the whole string (a regex's `$` would also let "2026Q4\\n" through)."""
    return isinstance(value, str) and PERIOD_RE.fullmatch(value) is not None


def is_read_period(value):
    """A quarter `YYYYQn` or a year `YYYY`, the whole string: what figures can be read for."""
    return isinstance(value, str) and READ_PERIOD_RE.fullmatch(value) is not None


def period_key(period):
    """Sort key of a period string; a year sorts just before its first quarter (so the newest period
    listed is still the newest quarter)."""
    if YEAR_RE.fullmatch(period):
        return (int(period), 0)
    m = PERIOD_RE.fullmatch(period)
    return (int(m.group(1)), int(m.group(2)))


def is_year(period):
    return bool(YEAR_RE.match(period))


def year_of(period):
    """The year `YYYY` a quarter (or year) belongs to."""
    return period[:4]


def quarters_of(period):
    """The quarters a period is made of: itself, or a year's four."""
    return [f"{period}Q{q}" for q in range(1, 5)] if is_year(period) else [period]


def previous_period(period):
    """The period before: the previous quarter, or the previous year."""
    return str(int(period) - 1) if is_year(period) else previous_quarter(period)


def period_range(first, last):
    """Every period from `first` to `last` of the same kind (quarters or years), both included."""
    if is_year(first) and is_year(last):
        return [str(y) for y in range(int(first), int(last) + 1)]
    return quarter_range(first, last)


def utcnow():
    return datetime.now(UTC)


def local_time(moment, fmt="%Y-%m-%d %H:%M"):
    """A moment as people here read it (Asia/Shanghai), e.g. in a sheet or on a page; "" for none."""
    return moment.astimezone(SHANGHAI).strftime(fmt) if moment else ""


def previous_quarter(period):
    year, quarter = period_key(period)
    return f"{year - 1}Q4" if quarter == 1 else f"{year}Q{quarter - 1}"


def quarter_start(period):
    """The first moment of a quarter, in Asia/Shanghai."""
    year, quarter = period_key(period)
    return datetime(year, 3 * (quarter - 1) + 1, 1, tzinfo=SHANGHAI)


def reporting_window_start(now, quarters):
    """Start of the open reporting window: the current quarter and the `quarters` − 1 before it."""
    period = period_of(now)
    for _ in range(max(quarters, 1) - 1):
        period = previous_quarter(period)
    return quarter_start(period)


def quarter_range(first, last):
    """Every quarter from `first` to `last`, both included (empty when `first` is after `last`)."""
    out, (year, quarter) = [], period_key(first)
    while (year, quarter) <= period_key(last):
        out.append(f"{year}Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


# The demand ledger (诉求台账, DESIGN §4): 受理 → 交办 → 办结 → 回访销号.
DEMAND_STATUSES = ("received", "assigned", "resolved", "closed")
URGENCIES = ("ordinary", "major")
BAD_RATING = "bad_rating"  # the category of a 差评 rectification demand
VISIT_INDICATOR = "visit"
VISIT_INDICATOR_NAME = "走访评价"  # what readers call it
