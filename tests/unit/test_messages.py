"""Events on `manyi.events` (shared/messages.py): the envelope, encoding and strict-but-tolerant decoding."""
import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

from shared import messages

OCCURRED = datetime(2026, 11, 3, 9, 30, tzinfo=timezone(timedelta(hours=8)))
ENTERPRISE = {"code": "914403001922038216", "scale": "large", "ownership": "private", "capital": "domestic",
              "township": "城关镇", "industry": "制造业"}
RATINGS_DATA = {
    "source_id": "r-1", "channel": "survey", "period": "2026Q4", "survey_id": "s-1",
    "enterprise": ENTERPRISE,
    "ratings": [{"question": "q1", "department": "market", "indicator": "market-supervision", "weight": 1.0,
                 "level": 5, "points": 100.0},
                {"question": "q3", "department": "land", "indicator": "property-registration", "weight": 2.0,
                 "level": 2, "points": 25.0}],
    "nps": 9, "survey_title": "2026年第四季度营商环境满意度调查",
    "choices": [{"question": "q5", "number": 5, "text": "希望改进的方面", "type": "multi",
                 "options": ["速度", "态度", "流程"], "chosen": ["速度", "流程"]}],
}


def body(**changes):
    """An encoded response.submitted message, with top-level changes."""
    message = {"type": "response.submitted", "id": "r-1", "occurred_at": "2026-11-03T09:30:00+08:00",
               "schema_version": 1, "data": copy.deepcopy(RATINGS_DATA), **changes}
    return json.dumps(message, ensure_ascii=False).encode()


def body_with_data(**changes):
    return body(data={**copy.deepcopy(RATINGS_DATA), **changes})


def body_with_rating(**changes):
    data = copy.deepcopy(RATINGS_DATA)
    data["ratings"][0].update(changes)
    return body(data=data)


def rejected(raw):
    with pytest.raises(ValidationError) as caught:
        messages.decode(raw)
    return caught.value.messages


# --- round trip ----------------------------------------------------------------------------------

def test_a_ratings_event_survives_envelope_encode_decode():
    message = messages.envelope(messages.RESPONSE_SUBMITTED, RATINGS_DATA, id_="r-1", occurred_at=OCCURRED)
    decoded = messages.decode(messages.encode(message))
    assert decoded["type"] == "response.submitted"
    assert decoded["id"] == "r-1"
    assert decoded["schema_version"] == 1
    assert decoded["occurred_at"] == OCCURRED
    assert decoded["data"] == RATINGS_DATA


def test_a_visit_event_round_trips_with_defaults_filled_in():
    data = {"source_id": "v-1", "channel": "visit", "period": "2026Q4", "enterprise": ENTERPRISE,
            "ratings": [{"department": "tax", "indicator": "visit", "weight": 1.0, "level": 1, "points": 0.0}]}
    decoded = messages.decode(messages.encode(messages.envelope(messages.VISIT_RECORDED, data)))
    assert decoded["type"] == "visit.recorded"
    assert decoded["data"]["survey_id"] is None and decoded["data"]["nps"] is None
    assert decoded["data"]["choices"] == [] and decoded["data"]["survey_title"] is None
    assert decoded["data"]["ratings"][0]["question"] is None
    assert decoded["data"]["ratings"][0]["level"] == 1


def test_a_choice_must_say_what_was_asked_and_what_was_chosen():
    choice = RATINGS_DATA["choices"][0]
    assert "choices" in rejected(body_with_data(choices=[{**choice, "type": "text"}]))
    assert "choices" in rejected(body_with_data(choices=[{k: v for k, v in choice.items() if k != "chosen"}]))
    assert "choices" in rejected(body_with_data(choices=[{**choice, "number": "5"}]))


def test_a_department_event_round_trips():
    message = messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "market", "name": "县市场监管局"})
    assert messages.decode(messages.encode(message))["data"] == {"code": "market", "name": "县市场监管局"}


def test_envelope_gives_every_message_its_own_id_and_an_aware_time():
    a = messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "a", "name": "A"})
    b = messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "a", "name": "A"})
    assert a["id"] and b["id"] and a["id"] != b["id"]
    assert datetime.fromisoformat(a["occurred_at"]).tzinfo is not None
    assert a["schema_version"] == 1


def test_encoding_is_compact_utf8_json_keeping_chinese_readable():
    raw = messages.encode(messages.envelope(messages.DEPARTMENT_CHANGED, {"code": "m", "name": "县市场监管局"}))
    assert isinstance(raw, bytes)
    assert "县市场监管局".encode() in raw
    assert b"\\u" not in raw and b": " not in raw


# --- the envelope is strict ------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"not json", b"{", b"", b"\xff\xfe\x00garbage"])
def test_decode_rejects_what_is_not_json(raw):
    rejected(raw)


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b'"message"', b"42", b"null", b"true"])
def test_decode_rejects_json_that_is_not_an_object(raw):
    rejected(raw)


@pytest.mark.parametrize("type_", ["response.deleted", "", "RESPONSE.SUBMITTED", None])
def test_decode_rejects_an_unknown_type(type_):
    assert "type" in rejected(body(type=type_))


@pytest.mark.parametrize("version", [0, 2, "two", None])
def test_decode_rejects_another_schema_version(version):
    assert "schema_version" in rejected(body(schema_version=version))


@pytest.mark.parametrize("field", ["type", "id", "occurred_at", "schema_version", "data"])
def test_decode_rejects_an_envelope_missing_a_field(field):
    message = json.loads(body())
    del message[field]
    assert field in rejected(json.dumps(message).encode())


@pytest.mark.parametrize("occurred_at", ["2026-11-03T09:30:00", "yesterday", 1762133400])
def test_decode_rejects_a_time_without_zone_or_not_a_time(occurred_at):
    assert "occurred_at" in rejected(body(occurred_at=occurred_at))


def test_decode_rejects_unknown_envelope_fields():
    assert "extra" in rejected(body(extra=1))


def test_decode_rejects_data_that_is_not_an_object():
    assert "data" in rejected(body(data=[1, 2]))


# --- data: strict on what scoring uses ------------------------------------------------------------

@pytest.mark.parametrize("field", ["source_id", "channel", "period", "enterprise", "ratings"])
def test_decode_rejects_data_missing_a_field(field):
    data = copy.deepcopy(RATINGS_DATA)
    del data[field]
    assert field in rejected(body(data=data))


@pytest.mark.parametrize("field", ["code", "scale", "ownership", "capital", "township", "industry"])
def test_decode_rejects_an_enterprise_snapshot_missing_an_attribute(field):
    enterprise = {k: v for k, v in ENTERPRISE.items() if k != field}
    assert field in rejected(body_with_data(enterprise=enterprise))["enterprise"]


@pytest.mark.parametrize("field", ["department", "indicator", "weight", "level", "points"])
def test_decode_rejects_a_rating_missing_a_field(field):
    data = copy.deepcopy(RATINGS_DATA)
    del data["ratings"][1][field]
    assert field in rejected(body(data=data))["ratings"][1]


@pytest.mark.parametrize("level", [0, 6, -1, 4.5, "5", True])
def test_decode_rejects_a_level_outside_1_to_5(level):
    assert "level" in rejected(body_with_rating(level=level))["ratings"][0]


@pytest.mark.parametrize("level", [1, 5])
def test_decode_accepts_the_extreme_levels(level):
    assert messages.decode(body_with_rating(level=level))["data"]["ratings"][0]["level"] == level


@pytest.mark.parametrize("points", [-0.1, 100.1])
def test_decode_rejects_points_outside_0_to_100(points):
    assert "points" in rejected(body_with_rating(points=points))["ratings"][0]


@pytest.mark.parametrize("weight", [0, -1])
def test_decode_rejects_a_weight_that_is_not_positive(weight):
    assert "weight" in rejected(body_with_rating(weight=weight))["ratings"][0]


@pytest.mark.parametrize("period", ["2026Q5", "2026q4", "2026-Q4", "2026", "", "Q4"])
def test_decode_rejects_a_bad_period(period):
    assert "period" in rejected(body_with_data(period=period))


@pytest.mark.parametrize("channel", ["phone", "", "Survey"])
def test_decode_rejects_an_unknown_channel(channel):
    assert "channel" in rejected(body_with_data(channel=channel))


@pytest.mark.parametrize("nps", [-1, 11, 9.5, "9", True])
def test_decode_rejects_an_nps_outside_0_to_10(nps):
    assert "nps" in rejected(body_with_data(nps=nps))


def test_decode_rejects_an_unknown_segment_value():
    assert "scale" in rejected(body_with_data(enterprise={**ENTERPRISE, "scale": "giant"}))["enterprise"]


def test_decode_rejects_a_department_event_without_code():
    raw = messages.encode(messages.envelope(messages.DEPARTMENT_CHANGED, {"name": "县市场监管局"}))
    assert "code" in rejected(raw)


# --- data: tolerant of what it does not use ---------------------------------------------------------

def test_decode_ignores_extra_fields_inside_data():
    data = copy.deepcopy(RATINGS_DATA)
    data["client"] = "android"
    data["enterprise"]["name"] = "某某有限公司"
    data["ratings"][0]["comment"] = "很好"
    decoded = messages.decode(body(data=data))["data"]
    assert "client" not in decoded and "name" not in decoded["enterprise"]
    assert "comment" not in decoded["ratings"][0]
    assert decoded["ratings"] == RATINGS_DATA["ratings"]


def test_decode_takes_an_event_with_no_ratings():
    assert messages.decode(body_with_data(ratings=[]))["data"]["ratings"] == []
