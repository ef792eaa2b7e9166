"""The console (/console) in Debian's headless Chromium, at a laptop (1366×800) and a phone (390×844).

One quarter as the 营商办 administrator runs it: sign in, import a bad then a good enterprise list, edit an
enterprise, upload the sample XLSForm, preview it, open it, invite everyone, download the QR sheet (PDF)
and decode a QR code from it, answer through /s/{token}, watch the progress move, export the
non-respondents, release the quarter, assign a demand, create a cadre's key (decoding its QR code). Then a department works
its own queue and resolves a demand, and the cadre, signed in from /visit, makes the callback. Forged
cross-site and cross-origin form posts are refused. Every page is screenshotted at both sizes.
"""
import csv
import io
from datetime import timedelta
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from openpyxl import Workbook, load_workbook
from PIL import Image

from shared.domain import SHANGHAI, utcnow
from tests.api import HttpApi, ok
from tests.e2e.conftest import screenshot
from tests.factories import enterprise
from tests.harness import Processes, RabbitVhost, make_config, poll

pytestmark = pytest.mark.e2e
SAMPLE_XLSFORM = Path(__file__).parents[2] / "docs" / "sample-xlsform.xlsx"
DEVICES = {"laptop": {"viewport": {"width": 1366, "height": 800}},
           "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}
DEPARTMENTS = {"market": "县市场监督管理局", "land": "县自然资源局", "tax": "县税务局"}
HEADER = ["统一社会信用代码", "企业名称", "企业规模", "所有制", "内外资", "乡镇", "行业"]


@pytest.fixture(scope="module", params=list(DEVICES))
def county(request, mongo_server, browser):
    """Real processes per device, with departments and the keys the API hands out."""
    vhost = RabbitVhost().create()
    config, variables = make_config(mongo_server.url, vhost.url)
    procs = Processes(variables).start()
    api, admin = HttpApi(procs.survey_url), config.admin_key
    for code, name in DEPARTMENTS.items():
        ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": name}), 201)
    keys = {name: ok(api("POST", "/api/v1/keys", admin, {"role": "department", "name": DEPARTMENTS[name],
                                                           "department": name}), 201)["key"]
            for name in ("market", "tax")}
    yield {"device": request.param, "url": procs.survey_url, "api": api, "admin": admin, "keys": keys,
           "gateway": HttpApi(procs.gateway_url)}
    procs.stop_all()
    vhost.delete()


def new_page(browser, device):
    context = browser.new_context(locale="zh-CN", accept_downloads=True, **DEVICES[device])
    return context.new_page()


def shot(page, county, name):
    screenshot(page, f"console-{name}-{county['device']}")


def sign_in(page, url, key):
    page.goto(url + "/console")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_selector("header nav")


def enterprise_files(tmp_path):
    """A CSV with two bad rows (a wrong check digit, an unknown scale) and a good .xlsx of six enterprises."""
    good = [enterprise(township=t, scale=s, name=f"{t}测试企业{i}有限公司")
            for i, (t, s) in enumerate([("城关镇", "small"), ("城关镇", "large"), ("城关镇", "micro"),
                                        ("石桥镇", "small"), ("石桥镇", "medium"), ("石桥镇", "small")])]
    bad = tmp_path / "名单-有误.csv"
    with bad.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        e = good[0]
        out.writerow([e["code"], e["name"], "小型", "民营", "内资", e["township"], e["industry"]])
        out.writerow([e["code"][:-1] + ("0" if e["code"][-1] != "0" else "1"), "校验位错的企业", "小型", "民营", "内资",
                      "城关镇", "制造业"])
        out.writerow([good[1]["code"], "规模写错的企业", "巨型", "民营", "内资", "城关镇", "制造业"])
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for e in good:
        sheet.append([e[k] for k in ("code", "name", "scale", "ownership", "capital", "township", "industry")])
    good_file = tmp_path / "名单.xlsx"
    book.save(good_file)
    return bad, good_file, good


def decode_pdf(pdf_bytes):
    pages = pypdfium2.PdfDocument(pdf_bytes)
    return [b.text for page in pages for b in zxingcpp.read_barcodes(page.render(scale=1.5).to_pil())]


def navigate(page, selector):
    """Click a link or a GET form's button and wait until the next page has loaded (the old page's elements
    must not answer for the new one's)."""
    with page.expect_navigation():
        page.click(selector)


def downloaded(page, selector):
    with page.expect_download() as download:
        page.click(selector)
    return Path(download.value.path()).read_bytes()


def test_a_quarter_in_the_console(county, browser, tmp_path):
    url, api, admin, device = county["url"], county["api"], county["admin"], county["device"]
    page = new_page(browser, device)

    # Sign in: a wrong key is refused on the page; the admin lands on the demand ledger.
    page.goto(url + "/console")
    shot(page, county, "login")
    page.fill("input[name=key]", "mk_not_a_key")
    page.click("button[type=submit]")
    assert "密钥无效" in page.locator(".error").inner_text()
    page.fill("input[name=key]", admin)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('诉求台账')")
    cookie = next(c for c in page.context.cookies() if c["name"] == "manyi_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # 企业名录: a bad file shows every bad row and stores nothing; the good one imports all six.
    bad, good, ents = enterprise_files(tmp_path)
    page.click("header nav >> text=企业名录")
    page.click("text=导入名单")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('上传并检查')")
    refusal = page.locator(".refused-file").inner_text()
    assert "未保存任何数据" in refusal and "第 3 行" in refusal and "第 4 行" in refusal and "巨型" in refusal
    assert "第 2 行" not in refusal
    shot(page, county, "enterprise-import-refused")
    assert ok(api("GET", "/api/v1/enterprises", admin), 200)["enterprises"] == []
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('上传并检查')")
    assert "新增 6 家" in page.locator(".imported").inner_text()
    shot(page, county, "enterprise-import-done")
    page.click("text=查看企业名录")
    page.fill("input[name=q]", "石桥镇")
    page.press("input[name=q]", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#directory tbody tr').length === 3")
    shot(page, county, "enterprises")
    page.click(f"text={ents[3]['name']}")
    page.fill("input[name=industry]", "食品加工")
    page.click("button:has-text('保存')")
    page.wait_for_selector("p.ok")
    assert ok(api("GET", f"/api/v1/enterprises/{ents[3]['code']}", admin), 200)["industry"] == "食品加工"
    page.fill("input[name=name]", "")
    page.eval_on_selector("input[name=name]", "e => e.removeAttribute('required')")
    page.click("button:has-text('保存')")
    assert page.locator(".errors").is_visible()  # the API's own schema refuses an empty name
    shot(page, county, "enterprise")

    # 问卷: the sample XLSForm becomes a draft; preview as a phone shows it; open it.
    page.click("header nav >> text=问卷与邀请")
    page.set_input_files("input[type=file]", str(SAMPLE_XLSFORM))
    page.click("button:has-text('上传')")
    page.wait_for_selector("[data-status=draft]")
    survey_id = page.url.rsplit("/", 1)[1].split("?")[0]
    frame = page.frame_locator("iframe.preview")
    questions = ok(api("GET", f"/api/v1/surveys/{survey_id}", admin), 200)["questions"]
    assert len(questions) == 6 and frame.locator("#submit").is_disabled()
    assert all(frame.locator(f"#q-{q['id']}").count() == 1 for q in questions)  # every question, as phones see it
    shot(page, county, "survey-draft")
    preview = new_page(browser, "phone")
    preview.context.add_cookies([cookie])
    preview.goto(f"{url}/console/surveys/{survey_id}/preview")
    assert "示例企业有限公司" in preview.inner_text("body")
    shot(preview, county, "survey-preview")
    preview.context.close()
    page.click("#open-survey")
    page.wait_for_selector("[data-status=open]")

    # 邀请: everyone; the PDF carries a QR code for each link.
    page.check("input[name=scope][value=all]")
    page.click("#invite button[type=submit]")
    assert "已生成邀请 6 份" in page.locator("p.ok").inner_text()
    assert page.inner_text("[data-figure=invited]") == "6" and page.inner_text("[data-figure=answered]") == "0"
    shot(page, county, "survey-open")
    links = {i["enterprise"]: i["url"] for i in ok(api("GET", f"/api/v1/surveys/{survey_id}/invitations", admin),
                                                   200)["invitations"]}
    pdf = downloaded(page, "#download-pdf")
    assert pdf.startswith(b"%PDF") and sorted(decode_pdf(pdf)) == sorted(links.values())
    sheet = load_workbook(io.BytesIO(downloaded(page, "#download-xlsx"))).active
    assert {r[1] for r in sheet.iter_rows(min_row=2, values_only=True)} == set(links)

    # An enterprise answers on its phone (q1 非常不满意: a 差评, so a demand for market); the progress moves.
    answerer = ents[0]["code"]
    respondent = new_page(browser, "phone")
    respondent.goto(links[answerer])
    respondent.click("#q-q1 .level-1")
    respondent.click("#q-q2 label:has-text('否')")
    respondent.click("#submit")
    respondent.wait_for_selector("#thanks:not([hidden])")
    respondent.context.close()
    page.wait_for_function("() => document.querySelector('[data-figure=answered]').textContent === '1'",
                           timeout=25000)
    assert page.inner_text("[data-figure=rate]") == "16.7%"  # 1 of 6, refreshed in place (htmx)
    reminders = load_workbook(io.BytesIO(downloaded(page, "#download-unanswered"))).active
    assert {r[1] for r in reminders.iter_rows(min_row=2, values_only=True)} == set(links) - {answerer}

    # Four more enterprises answer (posted as their phones would): market is rated by five, enough to publish.
    for code, level in zip([e["code"] for e in ents[1:5]], (4, 5, 4, 5)):
        ok(api("POST", "/api/v1/responses", None, {"token": links[code].rsplit("/", 1)[1],
                                                    "answers": {"q1": level, "q2": "否"}}), 202)

    # 回答与意见: the answers with their enterprises (admin); filters narrow them as the API does; exports follow.
    navigate(page, "header nav >> text=回答与意见")
    assert page.locator("article.answer").count() == 5
    page.select_option("select[name=level]", "2")
    navigate(page, "#answer-filters button[type=submit]")
    answer = page.locator("article.answer")
    assert answer.count() == 1 and ents[0]["name"] in answer.inner_text()
    assert answer.locator("dd.bad").inner_text() == "非常不满意"
    page.select_option("select[name=township]", "石桥镇")
    navigate(page, "#answer-filters button[type=submit]")
    assert page.locator("article.answer").count() == 0 and "没有符合条件的答卷" in page.inner_text("#answers")
    assert "township=%E7%9F%B3%E6%A1%A5%E9%95%87" in page.get_attribute("#export-xlsx", "href")
    page.select_option("select[name=township]", "城关镇")
    navigate(page, "#answer-filters button[type=submit]")
    assert page.locator("article.answer").count() == 1
    shot(page, county, "responses")
    exported = {c for r in load_workbook(io.BytesIO(downloaded(page, "#export-xlsx"))).active.iter_rows(values_only=True)
                for c in r}
    assert ents[0]["name"] in exported and ents[1]["name"] not in exported  # 城关镇 too, but no 差评
    exported = downloaded(page, "#export-csv").decode("utf-8-sig")
    assert exported.count(answerer) == 1 and ents[1]["code"] not in exported

    # 发布: the quarter's figures go to the portals (as POST /api/v1/periods/2026Q4/release), once scored.
    poll(lambda: ok(county["gateway"]("GET", "/api/v1/departments/market/index?period=2026Q4", admin), 200)["n"] == 5,
         timeout=30, what="the five answers scored")
    page.click("header nav >> text=发布")
    page.click("tr[data-period='2026Q4'] button")
    page.wait_for_selector("p.ok")
    assert [p["period"] for p in ok(api("GET", "/api/v1/periods", admin), 200)["periods"]] == ["2026Q4"]
    shot(page, county, "releases")

    # 密钥: a cadre's key, shown once, with a QR code that opens /visit with the key.
    page.click("header nav >> text=密钥")
    page.select_option("select[name=role]", "cadre")
    page.fill("input[name=name]", "张三（城关镇）")
    expires = (utcnow() + timedelta(days=90)).astimezone(SHANGHAI).date()
    page.fill("input[name=expires_at]", expires.isoformat())
    page.click("button:has-text('创建')")
    cadre_key = page.inner_text("#new-key").strip()
    assert f"至 {expires.isoformat()} 23:59" in page.inner_text(".created-key")
    listed = next(k for k in ok(api("GET", "/api/v1/keys", admin), 200)["keys"] if k["name"] == "张三（城关镇）")
    assert listed["expires_at"].startswith(f"{expires.isoformat()}T15:59:59")  # end of that day in Shanghai
    assert page.inner_text(f"tr[data-key='{listed['id']}'] td.expiry").startswith(expires.isoformat())
    qr = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("img.qr").screenshot())))
    assert [b.text for b in qr] == [f"{url}/visit#key={cadre_key}"]
    shot(page, county, "keys")

    # The cadre's visit brings two demands: one the admin assigns in the console, one to tax.
    visit = ok(api("POST", "/api/v1/visits", cadre_key, {
        "enterprise": ents[1]["code"], "visited_at": utcnow().isoformat(),
        "ratings": [{"department": "market", "level": 3, "comment": "窗口排队时间较长，希望增加自助机"}],
        "demands": [{"department": "land", "category": "用地", "text": "厂房扩建用地指标迟迟未批"},
                    {"department": "tax", "category": "税务", "text": "出口退税进度咨询"}]}), 202)
    assigned_here, for_tax = visit["demand_ids"]
    ok(api("POST", f"/api/v1/demands/{for_tax}/assign", admin, {"department": "tax"}), 200)
    late = ok(api("POST", "/api/v1/visits", cadre_key, {
        "enterprise": ents[2]["code"], "visited_at": utcnow().isoformat(),
        "demands": [{"department": "market", "category": "审批", "text": "食品经营许可证延续"}]}), 202)["demand_ids"][0]
    ok(api("POST", f"/api/v1/demands/{late}/assign", admin,
           {"department": "market", "deadline": (utcnow() - timedelta(days=3)).isoformat()}), 200)

    page.click("header nav >> text=诉求台账")
    assert page.locator(f"tr[data-id='{late}']").get_attribute("class") == "overdue"
    page.select_option("select[name=status]", "received")
    page.wait_for_function(f"() => document.querySelectorAll('#ledger tbody tr').length === 1 && "
                           f"document.querySelector('#ledger tr[data-id=\"{assigned_here}\"]') !== null")
    shot(page, county, "demands")
    page.click(f"tr[data-id='{assigned_here}'] a")
    page.select_option("#assign select[name=department]", "market")
    due = (utcnow() + timedelta(days=10)).astimezone(SHANGHAI).date()
    page.fill("#assign input[name=deadline]", due.isoformat())
    page.click("#assign button[type=submit]")
    page.wait_for_selector("p.ok")
    demand = ok(api("GET", f"/api/v1/demands/{assigned_here}", admin), 200)
    assert demand["status"] == "assigned" and demand["department"] == "market"
    assert demand["deadline"].startswith(f"{due.isoformat()}T15:59:59.999")  # end of that day in Shanghai, in UTC
    assert "交办" in page.inner_text("ol.history")
    shot(page, county, "demand")

    # 意见: what the cadre wrote down about market, with the enterprise's name for the administrator.
    navigate(page, "header nav >> text=回答与意见")
    navigate(page, "#to-comments")
    page.select_option("select[name=department]", "market")
    page.select_option("select[name=period]", "2026Q4")
    navigate(page, "form.filters button[type=submit]")
    comment = page.locator("article.comment")
    assert comment.count() == 1 and "窗口排队时间较长" in comment.inner_text()
    assert ents[1]["name"] in comment.inner_text()
    shot(page, county, "comments")

    # 可疑评价: the cadre recorded two enterprises' visits at the same moment (faster than one could travel);
    # the scan flags it, and the queue shows the flag as GET /api/v1/flags lists it, filtered by kind.
    poll(lambda: ok(api("GET", "/api/v1/flags?kind=cadre_travel", admin), 200)["total"], timeout=30,
         what="the cadre_travel flag")
    navigate(page, "header nav >> text=可疑评价")
    page.select_option("select[name=kind]", "cadre_travel")
    navigate(page, "form.filters button[type=submit]")
    flagged = page.locator("article.flag")
    assert flagged.count() == ok(api("GET", "/api/v1/flags?kind=cadre_travel", admin), 200)["total"] >= 1
    assert "走访间隔过短" in flagged.first.inner_text() and "走访 2 次" in flagged.first.inner_text()
    page.select_option("select[name=kind]", "wave")
    navigate(page, "form.filters button[type=submit]")
    assert page.locator("article.flag").count() == 0 and "没有符合条件" in page.inner_text("#flags")
    page.select_option("select[name=kind]", "cadre_travel")
    navigate(page, "form.filters button[type=submit]")
    shot(page, county, "flags")

    # Forged posts: cross-site (no cookie) and same-site cross-origin (cookie, no token) are both refused.
    forged = (f"<form method=post action='{url}/console/demands/{late}/assign'><input name=department value=tax>"
              "</form><script>document.forms[0].submit()</script>")
    for origin in ("http://evil.test", "http://127.0.0.1:65011"):
        page.route(f"{origin}/forged", lambda route: route.fulfill(content_type="text/html", body=forged))
        with page.expect_response(f"{url}/console/demands/{late}/assign") as answer:
            page.goto(f"{origin}/forged")
        assert answer.value.status == 403
    shot(page, county, "forged-refused")
    assert ok(api("GET", f"/api/v1/demands/{late}", admin), 200)["department"] == "market"
    keys_before = len(ok(api("GET", "/api/v1/keys", admin), 200)["keys"])
    forged_key = (f"<form method=post action='{url}/console/keys'><input name=role value=admin>"
                  "<input name=name value=forged><input name=expires_at value=2027-01-01></form>"
                  "<script>document.forms[0].submit()</script>")
    page.route("http://evil.test/forged-key", lambda route: route.fulfill(content_type="text/html", body=forged_key))
    with page.expect_response(f"{url}/console/keys") as answer:
        page.goto("http://evil.test/forged-key")
    assert answer.value.status == 403
    assert len(ok(api("GET", "/api/v1/keys", admin), 200)["keys"]) == keys_before

    # The department: its own queue only, overdue first; it resolves the demand the admin assigned.
    market = new_page(browser, device)
    sign_in(market, url, county["keys"]["market"])
    ids = [r.get_attribute("data-id") for r in market.locator("tr[data-id]").all()]
    bad_rating = ok(api("GET", "/api/v1/demands?category=bad_rating", admin), 200)["demands"][0]["id"]
    assert ids[0] == late and set(ids) == {late, assigned_here, bad_rating} and for_tax not in ids
    assert "逾期" in market.locator(f"tr[data-id='{late}']").inner_text()
    shot(market, county, "queue")
    for forbidden in ("/console/demands", "/console/enterprises", "/console/keys", f"/console/surveys/{survey_id}",
                      "/console/responses", "/console/flags"):
        assert market.goto(url + forbidden).status == 403
    assert market.goto(f"{url}/console/demands/{for_tax}").status == 404
    shot(market, county, "refused")
    market.goto(f"{url}/console/demands/{bad_rating}")
    assert "匿名" in market.inner_text("dl.facts")  # a 差评's enterprise stays hidden without its consent

    # 申诉: the department appeals the 差评 from its page; the appeal shows the rating, never the enterprise.
    shot(market, county, "demand-bad-rating")
    market.fill("#file-appeal textarea", "企业反映的事项属县税务局职责，非本单位办理范围")
    market.click("#file-appeal button")
    market.wait_for_selector("[data-status=pending]")
    appeal_id = market.url.rsplit("/", 1)[1].split("?")[0]
    assert "非常不满意" in market.inner_text("dl.facts") and market.locator(".anonymous").count() == 1
    assert ents[0]["name"] not in market.inner_text("main") and ents[0]["code"] not in market.inner_text("main")
    shot(market, county, "appeal-department")
    market.goto(f"{url}/console/demands/{bad_rating}")
    assert "待复核" in market.inner_text("#appeal") and market.locator("#file-appeal").count() == 0  # once

    # A forged decision is refused; the administrator decides in the queue, through the appeal's use case.
    forged_decision = (f"<form method=post action='{url}/console/appeals/{appeal_id}/decide'>"
                       "<input name=decision value=upheld></form><script>document.forms[0].submit()</script>")
    page.route("http://evil.test/forged-decision",
               lambda route: route.fulfill(content_type="text/html", body=forged_decision))
    with page.expect_response(f"{url}/console/appeals/{appeal_id}/decide") as answer:
        page.goto("http://evil.test/forged-decision")
    assert answer.value.status == 403
    assert ok(api("GET", f"/api/v1/appeals/{appeal_id}", admin), 200)["status"] == "pending"
    page.goto(url + "/console")
    page.click("header nav >> text=申诉复核")
    page.wait_for_selector(f"tr[data-appeal='{appeal_id}']")
    shot(page, county, "appeals")
    page.click(f"tr[data-appeal='{appeal_id}'] a")
    assert ents[0]["name"] in page.inner_text("dl.facts")  # the administrator sees who rated
    page.check("#decide input[value=upheld]")
    page.fill("#decide textarea", "经核实，所反映事项属县税务局职责")
    page.click("#decide button[type=submit]")
    page.wait_for_selector("[data-status=upheld]")
    decided = ok(api("GET", f"/api/v1/appeals/{appeal_id}", admin), 200)
    assert decided["status"] == "upheld" and decided["note"] == "经核实，所反映事项属县税务局职责"
    assert ok(api("GET", f"/api/v1/demands/{bad_rating}", admin), 200)["status"] == "closed"
    shot(page, county, "appeal")
    market.goto(f"{url}/console/appeals")
    assert "申诉成立" in market.inner_text(f"tr[data-appeal='{appeal_id}']")

    # Its own figures: 2026Q4 as released to the portals (five enterprises: published), and its 差评.
    market.click("header nav >> text=本单位评价")
    assert market.inner_text("select[name=period] option[selected]").startswith("2026Q4")
    released = ok(county["gateway"]("GET", "/api/v1/departments/market/index?period=2026Q4&release=1", admin), 200)
    assert market.locator("#suppressed").count() == 0 and market.inner_text("[data-figure=n]") == "5"
    assert market.inner_text("[data-figure=index]") == f"{released['index']:.1f}"
    assert market.inner_text("[data-figure=rank]") == "1 / 1"
    assert market.inner_text("tr[data-levels]").split() == ["2", "2", "0", "0", "1"]  # 非常满意 … 非常不满意
    assert market.inner_text("[data-figure=bad-raised]") == "1" and market.inner_text("[data-figure=bad-closed]") == "1"
    # each indicator by its name (the code is its tooltip), as the gateway names the released figures
    assert market.locator("td[title]").all_inner_texts() == [i["name"] for i in released["indicators"]]
    shot(market, county, "figures")
    # Its comments: the cadre's note, never the enterprise's name; asking for another department's changes nothing.
    market.goto(f"{url}/console/comments?department=tax&period=2026Q4")
    assert "县市场监督管理局" in market.inner_text("h1")
    comment = market.locator("article.comment")
    assert "窗口排队时间较长" in comment.inner_text() and ents[1]["name"] not in comment.inner_text()
    assert comment.locator(".anonymous").count() == 1
    shot(market, county, "comments-department")
    market.goto(f"{url}/console/demands/{assigned_here}")
    market.fill("#progress textarea", "已约企业现场踏勘")
    market.click("#progress button")
    market.wait_for_selector("p.ok")
    market.fill("#resolve textarea", "用地指标已纳入本季度计划，企业已确认")
    market.click("#resolve button")
    market.wait_for_selector("p.ok")
    assert ok(api("GET", f"/api/v1/demands/{assigned_here}", admin), 200)["status"] == "resolved"
    shot(market, county, "demand-department")
    market.click("header .who button")
    market.wait_for_selector("input[name=key]")
    market.context.close()

    # The cadre: the QR link keeps the key on the phone; from /visit to the callbacks waiting.
    cadre = new_page(browser, "phone")
    cadre.goto(f"{url}/visit#key={cadre_key}")
    cadre.click("#mine")
    cadre.wait_for_selector("h1:has-text('待回访诉求')")
    shot(cadre, county, "cadre")
    cadre.click(f"a[href$='{assigned_here}']")
    cadre.check("#callback input[name=level][value='4']")
    cadre.fill("#callback textarea", "企业表示满意")
    cadre.click("#callback button")
    cadre.wait_for_selector("p.ok")
    assert ok(api("GET", f"/api/v1/demands/{assigned_here}", admin), 200)["status"] == "closed"
    shot(cadre, county, "demand-cadre")
    cadre.context.close()
    page.context.close()
