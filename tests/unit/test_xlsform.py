"""XLSForm → survey definition: one workbook per mapping rule and per refusal (pyxform parses; mapping is pure)."""
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from services.survey.surveys.xlsform import XLSFormRefused, definition_of, is_nps_constraint, parse

HEADER = ("type", "name", "label", "required", "relevant", "constraint", "department", "indicator", "weight")
HCP5 = [("hcp5", str(n), label) for n, label in ((5, "非常满意"), (4, "满意"), (3, "基本满意"), (2, "不满意"), (1, "非常不满意"))]
YESNO = [("yesno", "yes", "是"), ("yesno", "no", "否")]


def workbook(*survey, choices=(), settings=(("form_id", "form_title", "period"), ("s-code", "问卷", "2026Q3"))):
    book = Workbook()
    for title, rows in (("survey", [HEADER, *survey]), ("choices", [("list_name", "name", "label"), *HCP5, *YESNO,
                                                                     *choices]), ("settings", settings)):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row) + [None] * (len(HEADER) - len(row)) if title == "survey" else list(row))
    del book["Sheet"]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def mapped(*survey, **kw):
    return definition_of(*parse(workbook(*survey, **kw)))


def refusal(*survey, **kw):
    with pytest.raises(XLSFormRefused) as caught:
        mapped(*survey, **kw)
    return caught.value.errors


def test_settings_give_code_title_and_period():
    d = mapped(("text", "q1", "意见"))
    assert (d["code"], d["title"], d["period"]) == ("s-code", "问卷", "2026Q3")


def test_select_one_hcp5_is_rating5_with_department_indicator_weight_required():
    q, = mapped(("select_one hcp5", "q1", "市场监管服务", "yes", None, None, "market", "licensing", 2))["questions"]
    assert q == {"id": "q1", "text": "市场监管服务", "required": True, "type": "rating5", "department": "market",
                 "indicator": "licensing", "weight": 2.0}


def test_an_indicator_name_column_names_the_indicator():
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "department", "indicator", "indicator_name"])
    sheet.append(["select_one hcp5", "q1", "您对市场监管局办理许可的满意程度", "market", "licensing", "许可办理"])
    choices = book.create_sheet("choices")
    for row in [("list_name", "name", "label"), *HCP5]:
        choices.append(list(row))
    out = io.BytesIO()
    book.save(out)
    q, = definition_of(*parse(out.getvalue()))["questions"]
    assert (q["indicator"], q["indicator_name"]) == ("licensing", "许可办理")


def test_select_one_is_single_and_select_multiple_is_multi_with_labels_as_options():
    q1, q2 = mapped(("select_one yesno", "q1", "是否办理？"), ("select_multiple yesno", "q2", "哪些？", "true()"))["questions"]
    assert q1 == {"id": "q1", "text": "是否办理？", "required": False, "type": "single", "options": ["是", "否"]}
    assert q2 == {"id": "q2", "text": "哪些？", "required": True, "type": "multi", "options": ["是", "否"]}


@pytest.mark.parametrize("constraint", [". >= 0 and . <= 10", ".<=10 and .>=0", ". > -1 and . < 11"])
def test_integer_bounded_to_0_10_is_nps(constraint):
    q, = mapped(("integer", "q1", "推荐意愿", None, None, constraint))["questions"]
    assert q["type"] == "nps"


def test_text_is_text():
    assert mapped(("text", "q1", "意见"))["questions"][0]["type"] == "text"


def test_relevant_equalities_joined_by_and_are_show_if_in_answer_terms():
    d = mapped(("select_one yesno", "q1", "办理过？"), ("select_one hcp5", "q2", "满意度", None, None, None, "land"),
               ("text", "q3", "为什么不满意？", None, "${q1} = 'yes' and ${q2}='1'"),
               ("text", "q4", "补充", None, '${q1} = "no"'))
    assert d["questions"][2]["show_if"] == {"q1": "是", "q2": 1}
    assert d["questions"][3]["show_if"] == {"q1": "否"}


def test_the_shipped_sample_maps_completely():
    with open("docs/sample-xlsform.xlsx", "rb") as f:
        d = definition_of(*parse(f.read()))
    assert [q["type"] for q in d["questions"]] == ["rating5", "single", "rating5", "nps", "multi", "text"]
    assert d["questions"][2]["show_if"] == {"q2": "是"}


@pytest.mark.parametrize("row, reason", [
    (("integer", "q2", "年龄"), "integer 题只支持 0–10"),
    (("integer", "q2", "分数", None, None, ". >= 1 and . <= 10"), "integer 题只支持 0–10"),
    (("decimal", "q2", "营收"), "题型“decimal”无法转换"),
    (("date", "q2", "日期"), "题型“date”无法转换"),
    (("text", "q2", "x", None, "${q1} != 'yes'"), "显示条件“${q1} != 'yes'”无法转换"),
    (("text", "q2", "x", None, "${q1} = 'yes' or ${q1} = 'no'"), "无法转换"),
    (("text", "q2", "x", None, "${q1} = 'maybe'"), "没有选项“maybe”"),
    (("select_one hcp5", "q2", "满意度"), "必须填写 department 列"),
    (("select_one hcp5", "q2", "满意度", None, None, None, "market", None, "heavy"), "权重“heavy”不是数字"),
])
def test_unmappable_rows_are_refused_naming_the_row_and_reason(row, reason):
    errors = refusal(("select_one yesno", "q1", "办理过？"), row)
    assert list(errors) == ["row 3"]
    assert errors["row 3"][0].startswith("第 3 行：") and reason in errors["row 3"][0]
    assert errors["row 3"][1].startswith("row 3: ")


def test_relevant_on_a_later_question_is_refused():
    errors = refusal(("text", "q1", "a", None, "${q2} = 'x'"), ("text", "q2", "b"))
    assert "不是前面的题目" in errors["row 2"][0]


def test_a_hcp5_list_without_the_five_levels_is_refused():
    errors = refusal(("select_one hcp5", "q1", "满意度", None, None, None, "market"),
                     choices=[("hcp5", "6", "超满意")])
    assert "必须是 1–5 五个等级" in errors["row 2"][0]


def test_a_csv_xlsform_maps_and_its_refusals_name_the_line():
    d = definition_of(*parse("survey,,,\n,type,name,label\n,text,q1,意见\n".encode()))
    assert d["questions"] == [{"id": "q1", "text": "意见", "required": False, "type": "text"}]
    with pytest.raises(XLSFormRefused) as caught:
        definition_of(*parse("survey,,,\n,type,name,label\n,decimal,q1,营收\n".encode()))
    assert list(caught.value.errors) == ["row 3"]  # the line of the CSV


def test_a_file_that_is_not_an_xlsform_is_refused():
    with pytest.raises(XLSFormRefused) as caught:
        parse(b"not a workbook at all")
    assert "file" in caught.value.errors


def test_nps_constraint_recognition():
    assert is_nps_constraint(". >= 0 and . <= 10")
    assert not is_nps_constraint(". >= 0")
    assert not is_nps_constraint(". >= 0 and . <= 10 and . != 5")
    assert not is_nps_constraint(None)


def test_a_bilingual_form_takes_the_chinese_labels():
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)", "label::中文 (zh)"])
    survey.append(["select_one yn", "q1", "Done?", "办理过吗？"])
    choices = book.create_sheet("choices")
    for row in (["list_name", "name", "label::English (en)", "label::中文 (zh)"], ["yn", "y", "Yes", "是"],
                ["yn", "n", "No", "否"]):
        choices.append(row)
    out = io.BytesIO()
    book.save(out)
    q, = definition_of(*parse(out.getvalue()))["questions"]
    assert (q["text"], q["options"]) == ("办理过吗？", ["是", "否"])


# --- issue 14: forms as people really write them -----------------------------------------------------------
FIXTURES = Path(__file__).parent.parent / "fixtures"
LONG_HEADER = ("type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
               "constraint_message", "appearance", "default", "choice_filter", "department")


def long_workbook(*survey, choices=(), settings=(("form_id", "form_title", "period"), ("s-code", "问卷", "2026Q3")),
                  header=LONG_HEADER):
    book = Workbook()
    for title, rows in (("survey", [header, *survey]), ("choices", [("list_name", "name", "label"), *HCP5, *YESNO,
                                                                     *choices]), ("settings", settings)):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    del book["Sheet"]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(**columns):
    return tuple(columns.get(c) for c in LONG_HEADER)


def imported(*survey, filename="form.xlsx", **kw):
    warnings = []
    return definition_of(*parse(long_workbook(*survey, **kw), filename), warnings), warnings


def refused(*survey, **kw):
    with pytest.raises(XLSFormRefused) as caught:
        imported(*survey, **kw)
    return caught.value.errors


@pytest.mark.parametrize("name", ["flat-utf8.csv", "flat-utf8-bom.csv", "flat-gbk.csv"])
def test_flat_csv_in_utf8_with_or_without_bom_and_in_gbk(name):
    d = definition_of(*parse((FIXTURES / "xlsform" / name).read_bytes(), name))
    assert [(q["id"], q["text"], q.get("hint")) for q in d["questions"]] == [
        ("q1", "意见和建议", "请写下您的意见"), ("q2", "其他建议", None)]
    assert d["code"] == name[:-4]  # no settings: the file name


@pytest.mark.parametrize("name", ["sectioned-gbk.csv", "sectioned-utf8-bom.csv"])
def test_pyxform_csv_with_choices_and_settings_in_gbk_and_with_a_bom(name):
    d = definition_of(*parse((FIXTURES / "xlsform" / name).read_bytes(), name))
    assert (d["code"], d["title"], d["period"]) == ("csv-form", "CSV 问卷", "2026Q4")
    assert d["questions"][0] == {"id": "q1", "text": "是否办理过不动产登记？", "required": False, "type": "single",
                                 "options": ["是", "否"], "hint": "请如实填写"}


def test_an_xls_workbook_imports():
    path = FIXTURES / "pyxform" / "example_xls__yes_or_no_question.xls"
    d = definition_of(*parse(path.read_bytes(), path.name))
    assert d["questions"][0]["options"] == ["yes", "no"] and d["code"] == "example_xls__yes_or_no_question"


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary", b"\xff\xfe\xfd\xfc" * 10, b"PK\x03\x04broken zip",
                                     b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1broken xls", b""])
def test_what_is_not_a_form_is_refused_naming_the_file(content):
    with pytest.raises(XLSFormRefused) as caught:
        parse(content, "upload.xlsx")
    assert list(caught.value.errors) == ["file"] and len(caught.value.errors["file"]) == 2


def test_code_from_form_id_else_the_file_name_never_a_shared_default():
    assert imported(row(type="text", name="q1", label="意见"))[0]["code"] == "s-code"
    plain = dict(settings=(("form_title",), ("问卷",)))
    assert imported(row(type="text", name="q1", label="意见"), filename="county-2026.xlsx", **plain)[0]["code"] == \
        "county-2026"
    a = imported(row(type="text", name="q1", label="意见"), filename="满意度调查.xlsx", **plain)[0]["code"]
    b = imported(row(type="text", name="q1", label="建议"), filename="满意度调查.xlsx", **plain)[0]["code"]
    assert a.startswith("xlsform-") and b.startswith("xlsform-") and a != b


def test_hint_required_message_and_a_length_constraint_map():
    d, warnings = imported(row(type="text", name="q1", label="意见", hint="可不填", required="yes",
                               required_message="请填写意见", constraint="string-length(.) <= 300",
                               constraint_message="太长了"))
    assert d["questions"][0] == {"id": "q1", "text": "意见", "required": True, "type": "text", "hint": "可不填",
                                 "required_message": "请填写意见", "max_length": 300}
    assert [w["row"] for w in warnings] == [2] and "constraint_message" in warnings[0]["warning"][1]


def test_selected_on_a_multi_choice_question_is_show_if_and_equals_is_refused():
    d, _ = imported(row(type="select_multiple yesno", name="q1", label="哪些？"),
                    row(type="text", name="q2", label="为什么？", relevant="selected(${q1}, 'yes')"))
    assert d["questions"][1]["show_if"] == {"q1": "是"}
    errors = refused(row(type="select_multiple yesno", name="q1", label="哪些？"),
                     row(type="text", name="q2", label="为什么？", relevant="${q1} = 'yes'"))
    assert "selected(${q1}, 'yes')" in errors["row 3"][0]


def test_metadata_rows_notes_and_appearance_are_ignored_with_a_warning():
    d, warnings = imported(row(type="start", name="start"), row(type="deviceid", name="deviceid"),
                           row(type="note", name="n1", label="请根据实际情况填写"),
                           row(type="text", name="q1", label="意见", appearance="multiline"))
    assert [q["id"] for q in d["questions"]] == ["q1"]
    assert [w["row"] for w in warnings] == [2, 3, 4, 5]
    assert "元数据" in warnings[0]["warning"][0] and "appearance" in warnings[3]["warning"][1]


def test_groups_are_flattened_with_their_relevant():
    d, _ = imported(row(type="select_one yesno", name="q1", label="办理过？"),
                    row(type="begin_group", name="g1", label="登记", relevant="${q1} = 'yes'"),
                    row(type="select_one hcp5", name="q2", label="满意度", department="land"),
                    row(type="text", name="q3", label="为什么？", relevant="${q2} = '1'"),
                    row(type="end_group"),
                    row(type="text", name="q4", label="其他"))
    assert [(q["id"], q.get("show_if")) for q in d["questions"]] == [
        ("q1", None), ("q2", {"q1": "是"}), ("q3", {"q1": "是", "q2": 1}), ("q4", None)]
    errors = refused(row(type="select_one yesno", name="q1", label="办理过？"),
                     row(type="begin_group", name="g1", label="登记", relevant="${q1} = 'yes'"),
                     row(type="text", name="q3", label="为什么？", relevant="${q1} = 'no'"),
                     row(type="end_group"))
    assert "不一致" in errors["row 4"][0]


def test_repeats_defaults_choice_filters_and_other_constraints_are_refused_row_by_row_in_order():
    rows = [row(type="text", name=f"t{n}", label="x") for n in range(8)]
    errors = refused(*rows, row(type="select_one yesno", name="q1", label="a", default="yes"),
                     row(type="select_one yesno", name="q2", label="b", choice_filter="name='yes'"),
                     row(type="select_one yesno", name="q3", label="c", constraint=". != 'no'"),
                     row(type="text", name="q4", label="d", constraint="regex(., '^[0-9]+$')"),
                     row(type="begin_repeat", name="r1", label="e"), row(type="text", name="q5", label="f"),
                     row(type="end_repeat"))
    assert list(errors) == ["row 10", "row 11", "row 12", "row 13", "row 14"]
    assert "default" in errors["row 10"][0] and "choice_filter" in errors["row 11"][0]
    assert all(zh.startswith(f"第 {k[4:]} 行：") and en.startswith(f"{k}: ") for k, (zh, en) in errors.items())


def test_label_translations_keep_chinese_and_warn_about_the_rest():
    header = ("type", "name", "label::English (en)", "label::中文 (zh)", "hint::English (en)", "hint::中文 (zh)")
    book = long_workbook(("text", "q1", "Advice", "意见", "Optional", "可不填"), header=header)
    warnings = []
    q, = definition_of(*parse(book, "f.xlsx"), warnings)["questions"]
    assert (q["text"], q["hint"]) == ("意见", "可不填")
    assert len(warnings) == 2 and "English (en)" in warnings[0]["warning"][0]
