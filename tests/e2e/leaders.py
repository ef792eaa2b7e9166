"""A county for the leaders' reads: enterprises of known segments answering in two quarters.

Used by the segment/trend/report tests and the dashboard's browser tests. Answers are
deterministic: state-owned enterprises are happier than private ones, so the ownership gap is wide.
"""
import random

from tests.api import ok
from tests.factories import enterprise

SCALE = {"1": 0, "2": 30, "3": 60, "4": 80, "5": 100}
DEPARTMENTS = {"g1": "县市场监督管理局", "g2": "县税务局", "g3": "县自然资源局", "g4": "县住房和城乡建设局",
               "g5": "县供电公司"}
QUESTIONS = [
    {"id": "q1", "type": "rating5", "text": "市场监管服务", "department": "g1", "indicator": "service", "required": True},
    {"id": "q2", "type": "rating5", "text": "市场监管办事速度", "department": "g1", "indicator": "speed", "weight": 2.0},
    {"id": "q3", "type": "rating5", "text": "纳税服务", "department": "g2", "indicator": "tax", "required": True},
    {"id": "q4", "type": "rating5", "text": "不动产登记", "department": "g3", "indicator": "registration"},
    {"id": "q5", "type": "rating5", "text": "工程审批", "department": "g4", "indicator": "permits"},
    {"id": "q6", "type": "rating5", "text": "获得电力", "department": "g5", "indicator": "power"},
    {"id": "q7", "type": "nps", "text": "推荐意愿"},
]
RATING_QUESTIONS = {q["id"]: q for q in QUESTIONS if q["type"] == "rating5"}
# (ownership, scale, capital, industry) of each enterprise: ownership state 6 / private 6 / collective 2;
# scale small 5, the others 3 each; capital domestic 9 / foreign 5; industry 7 / 7; one township.
SEGMENTS = [("state", "large", "domestic", "制造业"), ("state", "medium", "domestic", "建筑业"),
            ("state", "large", "domestic", "制造业"), ("state", "medium", "domestic", "建筑业"),
            ("state", "large", "domestic", "制造业"), ("state", "medium", "domestic", "建筑业"),
            ("private", "small", "domestic", "制造业"), ("private", "micro", "domestic", "建筑业"),
            ("private", "small", "domestic", "制造业"), ("private", "micro", "foreign", "建筑业"),
            ("private", "small", "foreign", "制造业"), ("private", "micro", "foreign", "建筑业"),
            ("collective", "small", "foreign", "制造业"), ("collective", "small", "foreign", "建筑业")]
PERIODS = ("2026Q2", "2026Q3")


def answers_for(period, i, ownership):
    rng = random.Random(f"{period}-{i}")
    mood = {"state": 4.3, "private": 2.9, "collective": 3.6}[ownership] + (0.3 if period == PERIODS[1] else 0)

    def level():
        return max(1, min(5, round(rng.gauss(mood, 0.8))))
    a = {"q1": level(), "q3": level(), "q7": max(0, min(10, round(rng.gauss(mood * 2, 1.5))))}
    for qid, share in (("q2", 0.8), ("q4", 0.7), ("q5", 0.9), ("q6", 0.25)):
        if rng.random() < share:
            a[qid] = level()
    return a


def seed(config, api):
    """Departments, enterprises, one open survey per period and every enterprise's answers (202 each).

    Returns (enterprises, {period: {enterprise code: answers}}, {period: survey id}).
    """
    admin = config.admin_key
    for code, name in DEPARTMENTS.items():
        api("POST", "/api/v1/departments", admin, {"code": code, "name": name})
    ents = [enterprise(ownership=o, scale=s, capital=c, industry=ind, township="城关镇") for o, s, c, ind in SEGMENTS]
    for e in ents:
        ok(api("POST", "/api/v1/enterprises", admin, e), 201)
    answers, surveys = {}, {}
    for period in PERIODS:
        survey = ok(api("POST", "/api/v1/surveys", admin, {"code": f"lead-{period}", "title": f"{period} 调查",
                                                             "period": period, "scale": SCALE, "questions": QUESTIONS}), 201)
        ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin, {}), 200)
        surveys[period] = survey["id"]
        inv = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin,
                     {"enterprises": [e["code"] for e in ents]}), 201)["invitations"]
        tokens = {i["enterprise"]: i["token"] for i in inv}
        answers[period] = {}
        for i, e in enumerate(ents):
            a = answers_for(period, i, e["ownership"])
            ok(api("POST", "/api/v1/responses", body={"token": tokens[e["code"]], "answers": a}), 202)
            answers[period][e["code"]] = a
    return ents, answers, surveys
