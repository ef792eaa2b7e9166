"""XLSForm → survey definition: one workbook per mapping rule and per refusal (pyxform parses; mapping is pure)."""
import io

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
    (("note", "q2", "说明"), "题型“note”无法转换"),
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


def test_relevant_on_a_later_question_and_groups_are_refused():
    errors = refusal(("text", "q1", "a", None, "${q2} = 'x'"), ("text", "q2", "b"),
                     ("begin_group", "g1", "分组"), ("text", "q3", "c"), ("end_group",))
    assert "不是前面的题目" in errors["row 2"][0]
    assert "题型“group”无法转换" in errors["row 4"][0]


def test_a_hcp5_list_without_the_five_levels_is_refused():
    errors = refusal(("select_one hcp5", "q1", "满意度", None, None, None, "market"),
                     choices=[("hcp5", "6", "超满意")])
    assert "必须是 1–5 五个等级" in errors["row 2"][0]


def test_a_csv_xlsform_maps_and_its_refusals_name_the_question():
    d = definition_of(*parse("survey,,,\n,type,name,label\n,text,q1,意见\n".encode()))
    assert d["questions"] == [{"id": "q1", "text": "意见", "required": False, "type": "text"}]
    with pytest.raises(XLSFormRefused) as caught:
        definition_of(*parse("survey,,,\n,type,name,label\n,decimal,q1,营收\n".encode()))
    assert list(caught.value.errors) == ["question q1"]


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
