"""Option counts (pure parts): a batch's tally added to a stored shard equals counting everything at once,
shards sum, too few answers show nothing, and a release holds back what a handful of late answers changed."""
from services.scoring.planning import choice_tallies, updated_choice_counts
from shared.choice_figures import choice_figures
from shared.disclosure import choices_held_back

ASKED = {"question": "q5", "number": 5, "text": "希望改进的方面", "type": "multi", "options": ["速度", "态度", "a.b$"]}


def answer(source, *chosen, period="2026Q4"):
    return {"_id": source, "period": period, "survey": "s1", "survey_title": "问卷",
            "choices": [{**ASKED, "chosen": list(chosen)}]}


def shard_docs(batches, shard):
    doc = {}
    for batch in batches:
        for key, tally in choice_tallies(batch).items():
            doc = updated_choice_counts(doc or None, key, shard, tally)
    return [doc]


def test_batches_add_up_to_counting_everything_at_once_and_shards_sum():
    answers = [answer("a", "速度", "a.b$"), answer("b", "速度"), answer("c", "态度", "态度"), answer("d")]
    at_once = choice_figures(shard_docs([answers], "w1"), min_n=1)
    in_batches = choice_figures(shard_docs([answers[:1], answers[1:3]], "w1") + shard_docs([answers[3:]], "w2"),
                                min_n=1)
    assert at_once == in_batches
    [q] = at_once
    assert (q["period"], q["survey"], q["survey_title"], q["number"], q["answered"]) == ("2026Q4", "s1", "问卷", 5, 4)
    # The same option twice in one answer is one enterprise's choice; an option's text may hold "." and "$".
    assert [(o["option"], o["count"], o["share"]) for o in q["options"]] == [("速度", 2, 0.5), ("态度", 1, 0.25),
                                                                             ("a.b$", 1, 0.25)]


def test_a_question_answered_by_fewer_than_min_n_shows_no_counts():
    docs = shard_docs([[answer("a", "速度"), answer("b", "态度")]], "w1")
    [q] = choice_figures(docs, min_n=3)
    assert q["suppressed"] and q["answered"] == 2
    assert {(o["count"], o["share"]) for o in q["options"]} == {(None, None)}
    assert not choice_figures(docs, min_n=2)[0]["suppressed"]


def test_an_option_no_longer_asked_still_shows_after_those_asked():
    docs = shard_docs([[{**answer("a"), "choices": [{**ASKED, "options": ["旧选项"], "chosen": ["旧选项"]}]},
                        answer("b", "速度")]], "w1")
    [q] = choice_figures(docs, min_n=1)
    assert [o["option"] for o in q["options"]] == ["速度", "态度", "a.b$", "旧选项"]


def test_a_release_holds_back_counts_a_handful_of_late_answers_changed():
    five = shard_docs([[answer(str(i), "速度") for i in range(5)]], "w1")
    six = shard_docs([[answer(str(i), "速度") for i in range(6)]], "w1")
    ten = shard_docs([[answer(str(i), "速度") for i in range(10)]], "w1")
    assert choices_held_back(five, six, min_n=5)      # one late answer: side by side, its choice shows
    assert not choices_held_back(five, ten, min_n=5)  # five more: fine
    assert not choices_held_back(five, five, min_n=5)
    assert choices_held_back([], shard_docs([[answer("x", "态度")]], "w1"), min_n=5)  # a new question, one answer
