"""Write docs/sample-xlsform.xlsx: an XLSForm that `POST /api/v1/surveys/import` turns into a draft survey.

Run from the repository root: `.venv/bin/python docs/make_sample_xlsform.py`.
"""
from pathlib import Path

from openpyxl import Workbook

SURVEY = [
    ("type", "name", "label", "required", "relevant", "constraint", "department", "indicator", "weight"),
    ("select_one hcp5", "q1", "您对县市场监管局的服务是否满意？", "yes", None, None, "market", "market-supervision", 1),
    ("select_one yesno", "q2", "是否办理过不动产登记？", "yes", None, None, None, None, None),
    ("select_one hcp5", "q3", "不动产登记办理的满意度", None, "${q2} = '是'", None, "land", "property-registration", 2),
    ("integer", "q4", "您有多大可能向外地企业推荐来本县投资？", None, None, ". >= 0 and . <= 10", None, None, None),
    ("select_multiple improve", "q5", "您希望哪些方面改进？", None, None, None, None, None, None),
    ("text", "q6", "意见和建议", None, None, None, None, None, None),
]
CHOICES = [
    ("list_name", "name", "label"),
    ("hcp5", "5", "非常满意"), ("hcp5", "4", "满意"), ("hcp5", "3", "基本满意"),
    ("hcp5", "2", "不满意"), ("hcp5", "1", "非常不满意"),
    ("yesno", "是", "是"), ("yesno", "否", "否"),
    ("improve", "效率", "办事效率"), ("improve", "态度", "服务态度"), ("improve", "收费", "收费标准"),
]
SETTINGS = [("form_id", "form_title", "period"), ("2026Q4-enterprise", "2026年第四季度企业满意度调查", "2026Q4")]


def workbook(survey=SURVEY, choices=CHOICES, settings=SETTINGS):
    book = Workbook()
    for title, rows in (("survey", survey), ("choices", choices), ("settings", settings)):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    del book["Sheet"]
    return book


if __name__ == "__main__":
    target = Path(__file__).with_name("sample-xlsform.xlsx")
    workbook().save(target)
    print(target)
