"""Option counts of single- and multi-choice questions (希望改进的方面: 速度 41% …): pure arithmetic over the
scoring worker's `choice_counts` documents (one per quarter, survey question and worker shard), no I/O.

A question's counts are withheld (null, `suppressed`) while fewer than MANYI_MIN_N enterprises answered it:
a count over a handful of enterprises would tell a reader what each of them chose.
"""
from shared.domain import period_key


def choice_figures(docs, min_n):
    """[{period, survey, survey_title, question, number, text, type, answered, suppressed, options: [{option, count, share}]}]
    in survey order; every shard of a question summed. Options in the order the survey asked them (options no
    longer asked, from an earlier wording of the question, after them); shares of the enterprises that answered
    the question (a multi-choice question's shares add up to more than 100%)."""
    merged = {}
    for doc in docs:
        key = (doc["period"], doc["survey"], doc["question"])
        entry = merged.setdefault(key, {"period": doc["period"], "survey": doc["survey"], "question": doc["question"],
                                        "answered": 0, "counts": {}})
        entry.update({k: doc.get(k) for k in ("survey_title", "number", "text", "type", "options")})
        entry["answered"] += doc["answered"]
        for c in doc["counts"]:
            entry["counts"][c["option"]] = entry["counts"].get(c["option"], 0) + c["count"]
    out = []
    for entry in merged.values():
        counts, answered = entry.pop("counts"), entry["answered"]
        suppressed = answered < min_n
        options = list(dict.fromkeys([*entry["options"], *counts]))
        out.append({**entry, "suppressed": suppressed, "options": [
            {"option": o, "count": None if suppressed else counts.get(o, 0),
             "share": None if suppressed or not answered else counts.get(o, 0) / answered} for o in options]})
    return sorted(out, key=lambda e: (period_key(e["period"]), e["survey"], e["number"]))
