"""A small demo county, seeded through the survey service's real HTTP API on the first `make up`."""
import json
import random
import urllib.error
import urllib.request

from shared.domain import USCC_CHARS, period_of, previous_quarter, uscc_check_char, utcnow

DEPARTMENTS = [("market", "县市场监督管理局"), ("land", "县自然资源局"), ("tax", "县税务局"),
               ("housing", "县住房和城乡建设局"), ("env", "市生态环境局县分局"), ("hrss", "县人力资源和社会保障局"),
               ("approval", "县行政审批服务局"), ("power", "县供电公司")]
TOWNSHIPS = ["城关镇", "产业集聚区", "石桥镇", "南湾乡"]
INDUSTRIES = ["制造业", "批发零售", "建筑业", "信息技术", "农副食品加工"]


def uscc(rng):
    head = "91410" + "".join(rng.choice("0123456789") for _ in range(3)) + \
        "".join(rng.choice(USCC_CHARS[:10]) for _ in range(9))
    return head + uscc_check_char(head)


def survey_definition(period):
    return {
        "code": f"{period}-enterprise", "title": f"{period[:4]}年第{period[-1]}季度企业满意度调查", "period": period,
        "scale": {"5": 100, "4": 80, "3": 60, "2": 30, "1": 0},
        "questions": [
            {"id": "q1", "type": "rating5", "text": "您对县市场监管局的服务是否满意？", "department": "market",
             "indicator": "market-supervision", "required": True},
            {"id": "q2", "type": "single", "text": "是否办理过不动产登记？", "options": ["是", "否"], "required": True},
            {"id": "q3", "type": "rating5", "text": "不动产登记办理的满意度", "department": "land",
             "indicator": "property-registration", "weight": 2.0, "show_if": {"q2": "是"}},
            {"id": "q4", "type": "rating5", "text": "纳税服务满意度", "department": "tax", "indicator": "tax-service",
             "required": True},
            {"id": "q5", "type": "rating5", "text": "工程建设项目审批满意度", "department": "housing",
             "indicator": "construction-permits"},
            {"id": "q6", "type": "rating5", "text": "环评审批与执法满意度", "department": "env", "indicator": "environment"},
            {"id": "q7", "type": "rating5", "text": "用工招聘与社保服务满意度", "department": "hrss", "indicator": "labour"},
            {"id": "q8", "type": "rating5", "text": "政务服务大厅办事满意度", "department": "approval",
             "indicator": "one-window", "required": True},
            {"id": "q9", "type": "rating5", "text": "获得电力满意度", "department": "power", "indicator": "electricity"},
            {"id": "q10", "type": "multi", "text": "您最希望改进的方面（可多选）",
             "options": ["办事效率", "服务态度", "政策宣传", "收费", "其他"]},
            {"id": "q11", "type": "nps", "text": "您有多大可能向外地企业推荐来本县投资？"},
            {"id": "q12", "type": "text", "text": "意见和建议", "max_length": 2000}]}


def call(method, url, key=None, body=None):
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def answers_for(rng, mood):
    def level():
        return max(1, min(5, round(rng.gauss(mood, 0.9))))
    a = {"q1": level(), "q2": rng.choice(["是", "否"]), "q4": level(), "q8": level()}
    if a["q2"] == "是":
        a["q3"] = level()
    for q in ("q5", "q6", "q7", "q9"):
        if rng.random() < 0.8:
            a[q] = level()
    a["q10"] = rng.sample(["办事效率", "服务态度", "政策宣传", "收费"], rng.randint(1, 2))
    a["q11"] = max(0, min(10, round(rng.gauss(mood * 2, 1.5))))
    return a


def seed(survey_url, key, enterprises=40, answered=32, out=print):
    api = survey_url.rstrip("/") + "/api/v1"
    status, body = call("GET", api + "/departments", key)
    if status != 200:
        raise SystemExit(f"seed: cannot list departments ({status}: {body})")
    if any(d["code"] == "market" for d in body["departments"]):
        out("manyi: demo county already seeded; keeping the data")
        out_unanswered(api, key, out)
        return
    rng = random.Random(2026)
    for code, name in DEPARTMENTS:
        call("POST", api + "/departments", key, {"code": code, "name": name})
    codes = []
    for i in range(enterprises):
        code = uscc(rng)
        codes.append(code)
        call("POST", api + "/enterprises", key, {
            "code": code, "name": f"示范企业{i + 1:02d}有限公司", "scale": rng.choice(["large", "medium", "small", "micro"]),
            "ownership": rng.choice(["state", "private", "private", "collective", "other"]),
            "capital": rng.choice(["domestic"] * 4 + ["foreign"]), "township": rng.choice(TOWNSHIPS),
            "industry": rng.choice(INDUSTRIES)})
    moods = {c: rng.uniform(2.8, 4.8) for c in codes}
    # Last quarter too, a little less satisfied and closed, so that trends and changes have two points.
    period = period_of(utcnow())
    previous = previous_quarter(period)
    last, _ = run_survey(api, key, rng, codes, previous, answered - 4, {c: m - 0.3 for c, m in moods.items()})
    call("POST", api + f"/surveys/{last['id']}/close", key, {})
    survey, inv = run_survey(api, key, rng, codes, period, answered, moods)
    visits, demands = seed_visits(api, key, rng, codes)
    # Last quarter is released to portals (通报); the current one is not, so the dashboard shows both states.
    # Released last, long after last quarter's answers were accepted, so the worker has applied them.
    status, body = call("POST", api + f"/periods/{previous}/release", key)
    if status != 202:
        raise SystemExit(f"seed: {previous} not released ({status}: {body})")
    out(f"manyi: seeded a demo county: {len(DEPARTMENTS)} departments, {enterprises} enterprises, "
        f"survey {survey['id']} ({period}, {answered} answers; {previous}: {answered - 4}), {visits} visits, "
        f"{demands} demands; {previous} released to portals, {period} not yet")
    out(f"manyi: an unanswered invitation to try: {inv['invitations'][-1]['url']}")


def out_unanswered(api, key, out):
    """On a restart too: a link of the newest open survey that nobody has answered yet, if there is one."""
    status, body = call("GET", api + "/surveys?per_page=1000", key)
    open_ = [s for s in (body or {}).get("surveys", []) if s["status"] == "open"] if status == 200 else []
    for survey in reversed(open_):
        status, links = call("GET", api + f"/surveys/{survey['id']}/invitations?status=unanswered&per_page=1", key)
        if status == 200 and links["invitations"]:
            out(f"manyi: an unanswered invitation to try: {links['invitations'][0]['url']}")
            return
    out("manyi: every invitation of the open surveys is answered; invite an enterprise to get a new link")


def run_survey(api, key, rng, codes, period, answered, moods):
    """A survey of `period`, opened, every enterprise invited, the first `answered` answering."""
    status, survey = call("POST", api + "/surveys", key, survey_definition(period))
    if status != 201:
        raise SystemExit(f"seed: survey not created ({status}: {survey})")
    call("POST", api + f"/surveys/{survey['id']}/open", key, {})
    _, inv = call("POST", api + f"/surveys/{survey['id']}/invitations", key, {"enterprises": codes})
    for invitation in inv["invitations"][:answered]:
        status, body = call("POST", api + "/responses", None,
                            {"token": invitation["token"], "answers": answers_for(rng, moods[invitation["enterprise"]])})
        if status != 202:
            raise SystemExit(f"seed: answer not accepted ({status}: {body})")
    return survey, inv


DEMANDS = [("market", "审批", "食品经营许可证延续办理周期长"), ("land", "要素保障", "扩建项目用地指标尚未落实"),
           ("tax", "政策兑现", "研发费用加计扣除申报不会操作"), ("power", "基础设施", "新厂区双回路供电接入慢"),
           ("hrss", "用工", "季节性招工难，希望组织专场招聘会"), ("approval", "审批", "施工许可并联审批材料重复提交"),
           ("env", "审批", "环评批复时间长"), ("housing", "基础设施", "园区道路破损影响物流")]


def seed_visits(api, key, rng, codes):
    """Cadres' visits (万人助万企) with demands moved along the ledger, so the demand figures show."""
    demand_ids = []
    for i, (department, category, text) in enumerate(DEMANDS):
        ratings = [{"department": d, "level": rng.choice([2, 3, 4, 4, 5, 5])}
                   for d in rng.sample([code for code, _ in DEPARTMENTS], 2)]
        status, visit = call("POST", api + "/visits", key, {
            "enterprise": codes[i], "visited_at": utcnow().isoformat(), "ratings": ratings,
            "demands": [{"department": department, "category": category, "text": text,
                         "urgency": "major" if i % 3 == 0 else "ordinary"}]})
        if status != 202:
            raise SystemExit(f"seed: visit not recorded ({status}: {visit})")
        demand_ids += [(visit["demand_ids"][0], department)]
    for i, (demand_id, department) in enumerate(demand_ids):
        call("POST", api + f"/demands/{demand_id}/assign", key, {"department": department})
        if i < 6:
            call("POST", api + f"/demands/{demand_id}/resolve", key, {"resolution": "已协调解决并答复企业"})
        if i < 5:
            call("POST", api + f"/demands/{demand_id}/callback", key, {"level": 2 if i == 4 else rng.choice([4, 5])})
    # The 差评 demands the answers opened are rectified and called back, except the environment
    # bureau's (left open), so that departments with enough callbacks show a callback index.
    _, bad = call("GET", api + "/demands?category=bad_rating&per_page=500&sort=received_at", key)
    for demand in bad["demands"]:
        if demand["department"] != "env":
            call("POST", api + f"/demands/{demand['id']}/resolve", key, {"resolution": "已约谈企业并整改到位"})
            call("POST", api + f"/demands/{demand['id']}/callback", key, {"level": rng.choice([3, 4, 4, 5, 5])})
    return len(DEMANDS), len(demand_ids) + bad["total"]
