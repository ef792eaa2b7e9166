"""Exports cannot be weaponised or broken: each dangerous string is stored through the API, then every
export is opened (issue 11). Before the fix a control character failed the whole export for every
reader, and `=`-text became a live formula."""
import io

import pypdfium2
import pytest
from openpyxl import load_workbook

from gateway.reports import Sheet, build_report
from services.survey import create_app
from shared.exports import cell_text
from tests.api import FlaskApi, ok, setup_survey
from tests.factories import enterprise

DANGEROUS = ['=HYPERLINK("http://evil.example","点我")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)",
             "\t=1+1", "\r=1+1", "企业\x00名\x01称\x1b", "结束\x7f"]


@pytest.fixture
def app(config):
    app = create_app(config, background=False)
    yield app
    app.extensions["manyi"].outbox.stop()


def cells(workbook_bytes):
    book = load_workbook(io.BytesIO(workbook_bytes))  # raises on a broken file
    return [(cell.value, cell.data_type) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_inert(workbook_bytes):
    found = cells(workbook_bytes)
    assert all(data_type != "f" for _, data_type in found), [v for v, t in found if t == "f"]
    texts = [v for v, _ in found if isinstance(v, str)]
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts), texts
    assert not any(ch in t for t in texts for ch in "\x00\x01\x1b\x7f")
    return texts


def test_every_survey_export_opens_and_holds_no_formula(app, config):
    api, admin = FlaskApi(app), config.admin_key
    firms = [enterprise(name=text) for text in DANGEROUS]
    survey_id, _, _ = setup_survey(api, admin, [{"id": "q1", "type": "rating5", "text": "满意度",
                                                 "department": "market", "required": True}], enterprises=firms)
    ok(api("POST", "/api/v1/departments", admin, {"code": "evil", "name": "=1+1\x07"}), 201)
    for text in DANGEROUS:
        ok(api("POST", "/api/v1/visits", admin, {
            "enterprise": firms[0]["code"], "visited_at": "2026-11-20T10:00:00+08:00", "ratings": [],
            "demands": [{"department": "evil", "category": text, "text": text, "urgency": "ordinary"}]}), 202)

    ledger = api("GET", "/api/v1/demands/ledger.xlsx", admin)
    assert ledger.status == 200, ledger
    texts = assert_inert(ledger.raw)
    assert "'" + DANGEROUS[0] in texts and "企业名称" in texts

    listing = api("GET", f"/api/v1/surveys/{survey_id}/invitations.xlsx", admin)
    assert listing.status == 200, listing
    assert "'@SUM(1+1)" in assert_inert(listing.raw)

    sheets = api("GET", f"/api/v1/surveys/{survey_id}/invitations.pdf", admin)
    assert sheets.status == 200, sheets
    pdf = pypdfium2.PdfDocument(sheets.raw)
    text = "".join(page.get_textpage().get_text_range() for page in pdf)
    pdf.close()
    assert "\x00" not in text and "\x1b" not in text


def test_the_ranking_report_neutralises_department_names():
    report = build_report([Sheet("排名\x01", [("名称", None), ("指数", "0.0")], [[name, 80.5] for name in DANGEROUS], [])])
    texts = assert_inert(report)
    assert "'-2+3" in texts


def test_cell_text_per_owasp():
    assert cell_text("=1+1") == "'=1+1"
    assert cell_text("a=1") == "a=1"
    assert cell_text("第一行\n第二行") == "第一行\n第二行"
    assert cell_text("a\x00b\x0bc\x85") == "abc"
    assert cell_text(-5) == -5 and cell_text(None) is None
