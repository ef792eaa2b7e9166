"""`manyi check`'s rule for where a missing message is (pure)."""
from manyi.reconcile import Accepted, classify


def rec(mid, published=True):
    return Accepted(mid, "responses", f"r-{mid}", "response.submitted", published)


def test_each_missing_message_is_placed_where_it_is():
    accepted = [rec("applied"), rec("waiting", published=False), rec("dead"), rec("lost")]
    missing = classify(accepted, applied={"applied"}, dead={"dead": "invalid message: …"}, queued=0)
    assert [(m.accepted.message_id, m.where) for m in missing] == [
        ("waiting", "outbox"), ("dead", "dead"), ("lost", "nowhere")]
    assert missing[1].detail == "invalid message: …"


def test_published_but_unapplied_is_in_flight_while_the_queue_holds_messages():
    missing = classify([rec("m")], applied=set(), dead={}, queued=3)
    assert [(m.where, m.detail) for m in missing] == [("in flight", "published; scoring.events holds 3 messages")]


def test_a_dead_letter_wins_over_an_unmarked_record():
    # Published, dead-lettered, and the publisher's mark not yet written: the reason is what helps.
    assert classify([rec("m", published=False)], set(), {"m": "why"}, 0)[0].where == "dead"


def test_nothing_missing_when_everything_is_applied():
    assert classify([rec("a"), rec("b")], {"a", "b"}, {}, 0) == []
