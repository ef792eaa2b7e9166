"""The administrators' files against the real MongoDB: enterprise lists in, XLSForm in, QR codes and sheets out,
invitation tracking and response rates."""
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pypdfium2
import pytest
import zxingcpp
from openpyxl import load_workbook
from PIL import Image

from tests.api import FlaskApi, ok
from tests.factories import enterprise, uscc, xlsx
from tests.harness import ROOT

ZH_HEADER = ["统一社会信用代码", "企业名称", "企业规模", "所有制", "内外资", "乡镇", "行业"]


@pytest.fixture
def app(survey_app):
    return survey_app


@pytest.fixture
def api(app):
    return FlaskApi(app)


def upload(app, path, filename, content, key):
    r = app.test_client().post(path, headers={"Authorization": f"Bearer {key}"},
                               data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data")
    return r.status_code, r.get_json()



def decode(png_bytes):
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png_bytes)))]


def decode_pdf(pdf_bytes):
    """Every QR code on every page, as a phone would read the printed sheet."""
    pages = pypdfium2.PdfDocument(pdf_bytes)
    try:
        return [b.text for page in pages for b in zxingcpp.read_barcodes(page.render(scale=1.5).to_pil())]
    finally:
        pages.close()


# --- enterprise lists ----------------------------------------------------------------------------------
def test_import_creates_then_updates_and_refuses_a_bad_file_whole(app, api, config):
    admin = config.admin_key
    a, b = uscc(), uscc()
    status, body = upload(app, "/api/v1/enterprises/import", "名单.xlsx",
                          xlsx([ZH_HEADER, [a, "甲公司", "大型", "国有", "内资", "城关镇", "制造业"],
                                [b, "乙公司", "小型", "民营", "外资", "石桥镇", "建筑业"]]), admin)
    assert (status, body) == (200, {"created": 2, "updated": 0})
    csv = f"code,name,scale,ownership,capital,township,industry\n{a},甲公司（更名）,medium,state,domestic,城关镇,制造业\n"
    assert upload(app, "/api/v1/enterprises/import", "list.csv", csv.encode(), admin) == \
        (200, {"created": 0, "updated": 1})
    got = ok(api("GET", f"/api/v1/enterprises/{a}", admin), 200)
    assert (got["name"], got["scale"]) == ("甲公司（更名）", "medium")

    c = uscc()
    status, body = upload(app, "/api/v1/enterprises/import", "名单.xlsx",
                          xlsx([ZH_HEADER, [c, "丙公司", "小型", "民营", "内资", "城关镇", "制造业"],
                                [b, "乙公司", "巨型", "民营", "内资", "城关镇", "制造业"]]), admin)
    assert status == 400 and list(body["errors"]) == ["row 3"] and "scale" in body["errors"]["row 3"]
    assert api("GET", f"/api/v1/enterprises/{c}", admin).status == 404  # all-or-nothing: the good row is not in
    assert ok(api("GET", f"/api/v1/enterprises/{b}", admin), 200)["scale"] == "small"


def test_import_needs_an_admin_key_and_a_file(app, api, config):
    assert upload(app, "/api/v1/enterprises/import", "a.csv", b"x", "wrong")[0] == 401
    cadre = ok(api("POST", "/api/v1/keys", config.admin_key, {"role": "cadre", "name": "干部"}), 201)["key"]
    assert upload(app, "/api/v1/enterprises/import", "a.csv", b"x", cadre)[0] == 403
    r = app.test_client().post("/api/v1/enterprises/import", headers={"Authorization": f"Bearer {config.admin_key}"},
                               data={}, content_type="multipart/form-data")
    assert r.status_code == 400 and "file" in r.get_json()["errors"]


def test_the_template_downloads_and_imports(app, api, config):
    r = app.test_client().get("/api/v1/enterprises/import-template.xlsx",
                              headers={"Authorization": f"Bearer {config.admin_key}"})
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert [c.value for c in load_workbook(io.BytesIO(r.data)).active[1]] == ZH_HEADER
    assert upload(app, "/api/v1/enterprises/import", "t.xlsx", r.data, config.admin_key) == \
        (200, {"created": 1, "updated": 0})


def ten_thousand_rows():
    ents = [enterprise(township=f"镇{i % 7}") for i in range(10_000)]
    return ents, xlsx([ZH_HEADER] + [[e["code"], e["name"], "小型", "民营", "内资", e["township"], "制造业"] for e in ents])


def test_ten_thousand_rows_over_http(app, config):
    ents, content = ten_thousand_rows()
    assert len(content) > 64 * 1024  # larger than the JSON endpoints accept
    status, body = upload(app, "/api/v1/enterprises/import", "big.xlsx", content, config.admin_key)
    assert (status, body) == (200, {"created": 10_000, "updated": 0})
    assert app.extensions["manyi"].store.enterprises.count_documents({}) == 10_000


def test_a_county_wide_invitation_in_one_request(app, api, config):
    """3,000 codes are a body over 64 KiB, and lookups the embedded server must be asked for in chunks."""
    admin = config.admin_key
    ents = [enterprise() for _ in range(3000)]
    csv = "code,name,scale,ownership,capital,township,industry\n" + "".join(
        f"{e['code']},{e['name']},small,private,domestic,城关镇,制造业\n" for e in ents)
    assert upload(app, "/api/v1/enterprises/import", "county.csv", csv.encode(), admin)[0] == 200
    ok(api("POST", "/api/v1/departments", admin, {"code": "market", "name": "市场监管局"}), 201)
    survey = ok(api("POST", "/api/v1/surveys", admin, {"code": "county", "title": "全县", "period": "2026Q4", "questions": [
        {"id": "q1", "type": "rating5", "text": "?", "department": "market", "required": True}]}), 201)
    codes = {"enterprises": [e["code"] for e in ents]}
    assert len(json.dumps(codes)) > 64 * 1024
    first = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin, codes), 201)["invitations"]
    assert [i["enterprise"] for i in first] == codes["enterprises"]
    again = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin, codes), 201)["invitations"]
    assert [i["token"] for i in again] == [i["token"] for i in first]  # live invitations are given back
    too_big = {"enterprises": ["x" * 60] * 20000}
    assert api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin, too_big).status == 413


def test_the_cli_imports_ten_thousand_rows_with_a_progress_bar(env, tmp_path):
    config, variables = env
    ents, content = ten_thousand_rows()
    path = tmp_path / "企业名单.xlsx"
    path.write_bytes(content)
    run = subprocess.run([sys.executable, "-m", "manyi.cli", "import-enterprises", str(path)], cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", **variables}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == '{"created": 10000, "updated": 0}'
    assert "10000/10000" in run.stderr and "#" * 30 in run.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,scale,ownership,capital,township,industry\n123,x,small,private,domestic,a,b\n")
    run = subprocess.run([sys.executable, "-m", "manyi.cli", "import-enterprises", str(bad)], cwd=ROOT,
                         env={"PATH": "/usr/bin:/bin", **variables}, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "row 2" in run.stderr and "check digit" in run.stderr


# --- XLSForm --------------------------------------------------------------------------------------------
def test_the_sample_xlsform_becomes_a_draft_survey(app, api, config):
    admin = config.admin_key
    for code in ("market", "land"):
        ok(api("POST", "/api/v1/departments", admin, {"code": code, "name": code}), 201)
    with open(ROOT / "docs" / "sample-xlsform.xlsx", "rb") as f:
        status, body = upload(app, "/api/v1/surveys/import", "sample-xlsform.xlsx", f.read(), admin)
    assert status == 201 and body["status"] == "draft" and body["code"] == "2026Q4-enterprise"
    survey = ok(api("GET", f"/api/v1/surveys/{body['id']}", admin), 200)
    assert survey["period"] == "2026Q4" and survey["title"] == "2026年第四季度企业满意度调查"
    q3 = survey["questions"][2]
    assert (q3["type"], q3["department"], q3["indicator"], q3["weight"], q3["show_if"]) == \
        ("rating5", "land", "property-registration", 2.0, {"q2": "是"})


def test_an_xlsform_naming_an_unknown_department_or_unmappable_rows_is_refused(app, config):
    admin = config.admin_key
    with open(ROOT / "docs" / "sample-xlsform.xlsx", "rb") as f:
        content = f.read()
    status, body = upload(app, "/api/v1/surveys/import", "s.xlsx", content, admin)  # no departments yet
    assert status == 400 and set(body["errors"]) == {"row 2", "row 4"}
    assert body["errors"]["row 2"][1] == "unknown department market"
    book = load_workbook(io.BytesIO(content))
    book["survey"].append(["geopoint", "where", "位置"])
    out = io.BytesIO()
    book.save(out)
    status, body = upload(app, "/api/v1/surveys/import", "s.xlsx", out.getvalue(), admin)
    assert status == 400 and list(body["errors"]) == ["row 8"] and "geopoint" in body["errors"]["row 8"][1]
    assert app.extensions["manyi"].store.surveys.count_documents({}) == 0


# --- QR codes, sheets, tracking -------------------------------------------------------------------------
@pytest.fixture
def invited(app, api, config):
    """Five enterprises in two townships invited to an open survey; (survey id, {code: invitation}, ents)."""
    admin = config.admin_key
    ok(api("POST", "/api/v1/departments", admin, {"code": "market", "name": "市场监管局"}), 201)
    ents = [enterprise(township="城关镇", scale="small"), enterprise(township="城关镇", scale="large"),
            enterprise(township="城关镇", scale="small"), enterprise(township="石桥镇", scale="small"),
            enterprise(township="石桥镇", scale="micro")]
    for e in ents:
        ok(api("POST", "/api/v1/enterprises", admin, e), 201)
    question = {"id": "q1", "type": "rating5", "text": "服务", "department": "market", "required": True}
    survey = ok(api("POST", "/api/v1/surveys", admin, {"code": "t", "title": "满意度调查", "period": "2026Q4",
                                                     "questions": [question]}), 201)
    ok(api("POST", f"/api/v1/surveys/{survey['id']}/open", admin, {}), 200)
    inv = ok(api("POST", f"/api/v1/surveys/{survey['id']}/invitations", admin,
                 {"enterprises": [e["code"] for e in ents]}), 201)["invitations"]
    return survey["id"], {i["enterprise"]: i for i in inv}, ents


def test_qr_codes_decode_to_the_invitation_url(app, config, invited):
    _, invitations, ents = invited
    inv = invitations[ents[0]["code"]]
    assert inv["url"] == f"{config.public_url}/s/{inv['token']}"
    client, auth = app.test_client(), {"Authorization": f"Bearer {config.admin_key}"}
    png = client.get(f"/api/v1/invitations/{inv['token']}/qr.png", headers=auth)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode(png.data) == [inv["url"]]
    svg = client.get(f"/api/v1/invitations/{inv['token']}/qr.svg", headers=auth)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert ET.fromstring(svg.data).tag == "{http://www.w3.org/2000/svg}svg"
    assert client.get("/api/v1/invitations/nope/qr.png", headers=auth).status_code == 404
    assert client.get(f"/api/v1/invitations/{inv['token']}/qr.png").status_code == 401


def test_printable_sheets_carry_every_enterprise_and_its_qr(app, config, invited):
    survey_id, invitations, ents = invited
    client, auth = app.test_client(), {"Authorization": f"Bearer {config.admin_key}"}
    sheet = client.get(f"/api/v1/surveys/{survey_id}/invitations.xlsx", headers=auth)
    assert sheet.status_code == 200
    ws = load_workbook(io.BytesIO(sheet.data)).active
    rows = {r[1]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {e["code"] for e in ents}
    assert all(rows[e["code"]][0] == e["name"] and rows[e["code"]][4] == invitations[e["code"]]["url"] for e in ents)
    decoded = sorted(decode(image.ref.getvalue())[0] for image in ws._images)
    assert decoded == sorted(i["url"] for i in invitations.values())
    pdf = client.get(f"/api/v1/surveys/{survey_id}/invitations.pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert len(pypdfium2.PdfDocument(pdf.data)) == 1 and b"STSong-Light" in pdf.data  # five cards fit one page
    assert sorted(decode_pdf(pdf.data)) == sorted(i["url"] for i in invitations.values())
    assert client.get("/api/v1/surveys/nope/invitations.pdf", headers=auth).status_code == 404


def test_tracking_lists_who_opened_and_answered_and_the_rates(app, api, config, invited):
    survey_id, invitations, ents = invited
    admin = config.admin_key
    client = app.test_client()
    token = {e["code"]: invitations[e["code"]]["token"] for e in ents}
    assert client.get(f"/s/{token[ents[0]['code']]}").status_code == 200  # opened, then answered
    assert client.get(f"/s/{token[ents[0]['code']]}").status_code == 200  # a second view changes nothing
    ok(api("POST", "/api/v1/responses", body={"token": token[ents[0]["code"]], "answers": {"q1": 5}}), 202)
    assert client.get(f"/s/{token[ents[3]['code']]}").status_code == 200  # opened only
    ok(api("POST", "/api/v1/responses", body={"token": token[ents[4]["code"]], "answers": {"q1": 2}}), 202)  # by API

    def listed(status):
        reply = ok(api("GET", f"/api/v1/surveys/{survey_id}/invitations?status={status}", admin), 200)
        return {i["enterprise"]: i["status"] for i in reply["invitations"]}
    codes = [e["code"] for e in ents]
    assert listed("all") == {codes[0]: "answered", codes[1]: "sent", codes[2]: "sent", codes[3]: "opened",
                             codes[4]: "answered"}
    assert listed("unanswered") == {codes[1]: "sent", codes[2]: "sent", codes[3]: "opened"}
    assert listed("answered") == {codes[0]: "answered", codes[4]: "answered"}
    # An answer implies the link was opened, even one sent straight to the API.
    assert listed("opened") == {codes[0]: "answered", codes[3]: "opened", codes[4]: "answered"}
    assert api("GET", f"/api/v1/surveys/{survey_id}/invitations?status=maybe", admin).status == 400
    row = ok(api("GET", f"/api/v1/surveys/{survey_id}/invitations?status=answered", admin), 200)["invitations"][0]
    assert row["opened_at"] and row["answered_at"] and row["sent_at"] and row["name"]
    db = app.extensions["manyi"].store
    assert db.invitation_events.count_documents({"survey_id": survey_id}) == 2

    reminder = app.test_client().get(f"/api/v1/surveys/{survey_id}/invitations.xlsx?status=unanswered",
                                     headers={"Authorization": f"Bearer {admin}"})
    names = [r[0] for r in load_workbook(io.BytesIO(reminder.data)).active.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(ents[i]["name"] for i in (1, 2, 3))

    # A changed questionnaire is a new version: whoever answered the old one is not reminded again.
    survey = ok(api("GET", f"/api/v1/surveys/{survey_id}", admin), 200)
    v2 = ok(api("PUT", f"/api/v1/surveys/{survey_id}", admin,
                {k: survey[k] for k in ("code", "title", "period", "scale", "questions")}), 201)
    ok(api("POST", f"/api/v1/surveys/{v2['id']}/open", admin, {}), 200)
    ok(api("POST", f"/api/v1/surveys/{v2['id']}/invitations", admin, {"enterprises": codes}), 201)
    v2_rows = ok(api("GET", f"/api/v1/surveys/{v2['id']}/invitations?status=unanswered", admin), 200)["invitations"]
    assert sorted(r["enterprise"] for r in v2_rows) == sorted(codes[i] for i in (1, 2, 3))
    plain = app.test_client().get(f"/api/v1/surveys/{survey_id}/invitations.xlsx",
                                  query_string={"status": "unanswered", "township": "石桥镇", "qr": "false"},
                                  headers={"Authorization": f"Bearer {admin}"})
    sheet = load_workbook(io.BytesIO(plain.data)).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == [ents[3]["name"]] and not sheet._images
    assert listed("all&township=城关镇") == {codes[0]: "answered", codes[1]: "sent", codes[2]: "sent"}

    progress = ok(api("GET", f"/api/v1/surveys/{survey_id}/progress", admin), 200)
    assert (progress["invited"], progress["opened"], progress["answered"], progress["response_rate"]) == (5, 3, 2, 0.4)
    assert progress["by_township"] == [
        {"value": "城关镇", "invited": 3, "opened": 1, "answered": 1, "response_rate": 1 / 3},
        {"value": "石桥镇", "invited": 2, "opened": 2, "answered": 1, "response_rate": 0.5}]
    assert progress["segments"]["township"] == progress["by_township"]
    scale = {s["value"]: (s["invited"], s["answered"]) for s in progress["segments"]["scale"]}
    assert scale == {"large": (1, 0), "micro": (1, 1), "small": (3, 1)}
    # An independent recount from the raw documents.
    answered = {r["enterprise"] for r in db.responses.find({"survey_id": survey_id})}
    assert progress["answered"] == len(answered) and progress["invited"] == len(
        {i["enterprise"] for i in db.invitations.find({"survey_id": survey_id})})
