"""The console's small rules: working days left on a demand, and naming a copied survey for its new quarter."""
from datetime import datetime

from services.survey.console.demands import working_days_left
from services.survey.console.surveys import next_period, renamed
from shared.domain import SHANGHAI


def at(day, hour=10):
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI)


def test_working_days_left_skip_the_weekend_and_count_overdue_days_negative():
    monday = at(23)
    assert working_days_left(at(23, 23), monday) == 0        # due today
    assert working_days_left(at(27), monday) == 4            # Tue–Fri
    assert working_days_left(at(30), monday) == 5            # Sat and Sun do not count
    assert working_days_left(at(27), at(30)) == -1           # Friday's deadline, seen on Monday: one day late
    assert working_days_left(at(20), at(30)) == -6


def test_a_copied_survey_is_named_for_the_next_quarter():
    assert next_period("2026Q3") == "2026Q4" and next_period("2026Q4") == "2027Q1"
    assert renamed("2026Q3-enterprise", "2026Q3", "2026Q4") == "2026Q4-enterprise"
    assert renamed("2026年第三季度企业满意度调查", "2026Q3", "2026Q4") == "2026年第四季度企业满意度调查"
