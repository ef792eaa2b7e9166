"""Parsing and checking enterprise lists (pure): headers, values, and every kind of bad row."""
import csv
import io

import pytest
from openpyxl import load_workbook

from services.survey.enterprises.importing import ImportRefused, parse, template
from tests.factories import uscc, xlsx

ZH_HEADER = ["统一社会信用代码", "企业名称", "企业规模", "所有制", "内外资", "乡镇", "行业"]
EN_HEADER = ["code", "name", "scale", "ownership", "capital", "township", "industry"]



def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def refused(filename, content):
    with pytest.raises(ImportRefused) as caught:
        parse(filename, content)
    return caught.value.errors


def test_chinese_headers_and_values_in_xlsx():
    a, b = uscc(), uscc()
    ents = parse("名单.xlsx", xlsx([ZH_HEADER, [a, "甲公司", "大型", "国有", "内资", "城关镇", "制造业"],
                                   [b.lower(), " 乙公司 ", "微型", "集体", "港澳台", "石桥镇", "建筑业"]]))
    assert ents == [
        {"code": a, "name": "甲公司", "scale": "large", "ownership": "state", "capital": "domestic",
         "township": "城关镇", "industry": "制造业"},
        {"code": b, "name": "乙公司", "scale": "micro", "ownership": "collective", "capital": "foreign",
         "township": "石桥镇", "industry": "建筑业"}]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_english_headers_in_csv_any_common_encoding(encoding):
    code = uscc()
    rows = [EN_HEADER, [code, "丙公司", "medium", "private", "foreign", "南湾乡", "批发零售"], ["", "", "", "", "", "", ""]]
    assert parse("list.CSV", csv_bytes(rows, encoding)) == [
        {"code": code, "name": "丙公司", "scale": "medium", "ownership": "private", "capital": "foreign",
         "township": "南湾乡", "industry": "批发零售"}]


def test_columns_in_any_order_and_extra_columns_ignored():
    code = uscc()
    rows = [["备注", "行业", "乡镇", "内外资", "所有制", "企业规模", "企业名称", "统一社会信用代码"],
            ["x", "制造业", "城关镇", "外资", "其他", "小型", "丁公司", code]]
    assert parse("a.xlsx", xlsx(rows))[0]["ownership"] == "other"


def test_every_bad_row_and_field_is_named():
    good, dup = uscc(), uscc()
    bad_digit = good[:17] + ("0" if good[17] != "0" else "1")
    errors = refused("a.xlsx", xlsx([
        ZH_HEADER,
        [good, "好公司", "小型", "民营", "内资", "城关镇", "制造业"],
        [bad_digit, "校验位错", "小型", "民营", "内资", "城关镇", "制造业"],
        [uscc(), "规模错", "特大型", "民营", "内资", "城关镇", "制造业"],
        [dup, "甲", "小型", "民营", "内资", "城关镇", "制造业"],
        [dup, "乙", "小型", "民营", "内资", "城关镇", "制造业"],
        [uscc(), "", "小型", "公私合营", "合资", "", "制造业"],
    ]))
    assert set(errors) == {"row 3", "row 4", "row 6", "row 7"}
    assert errors["row 3"] == {"code": ["统一社会信用代码无效（长度、字符或校验位错误）",
                                        "not a valid 统一社会信用代码: length, character or check digit"]}
    assert set(errors["row 4"]) == {"scale"} and "特大型" in errors["row 4"]["scale"][0]
    assert errors["row 6"]["code"] == ["统一社会信用代码与第 5 行重复", "duplicate code, also on row 5"]
    assert set(errors["row 7"]) == {"name", "ownership", "capital", "township"}
    assert errors["row 7"]["name"] == ["缺少企业名称", "missing name"]


def test_missing_columns_wrong_type_and_empty_files_are_refused():
    assert refused("a.xlsx", xlsx([["企业名称", "乡镇"], ["x", "y"]]))["header"][1] == \
        "missing columns: code, scale, ownership, capital, industry"
    assert "file" in refused("a.xls", b"whatever")
    assert "file" in refused("a.xlsx", b"not a zip")
    assert "file" in refused("a.csv", b"")
    assert "file" in refused("a.csv", csv_bytes([EN_HEADER]))


def test_the_template_imports_as_it_is():
    content = template()
    assert [c.value for c in load_workbook(io.BytesIO(content)).active[1]] == ZH_HEADER
    assert parse("template.xlsx", content)[0]["name"] == "示例企业有限公司"
