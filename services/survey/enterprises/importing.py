"""Importing enterprises from the administrators' Excel or CSV lists: parse, check every row, write in batches.

Parsing and checking are pure; `import_file` hands the checked list to the enterprises store. A file is all-or-nothing: any bad row and
nothing is written. Errors are keyed "row N" (N as the spreadsheet shows it, the header being row 1),
then by field, each an [中文, English] pair.
"""
import csv
import io
from datetime import datetime

from openpyxl import Workbook, load_workbook

from services.survey.uploads import NotAWorkbook, check_workbook
from shared.domain import CAPITALS, OWNERSHIPS, SCALES, SEGMENT_ATTRIBUTES, uscc_check_char, uscc_is_valid, utcnow
from shared.errors import Invalid

FIELDS = ("code", "name", *SEGMENT_ATTRIBUTES)
CHINESE_HEADERS = {"统一社会信用代码": "code", "企业名称": "name", "企业规模": "scale", "所有制": "ownership",
                   "内外资": "capital", "乡镇": "township", "行业": "industry"}
HEADER_OF = {v: k for k, v in CHINESE_HEADERS.items()}
CHINESE_VALUES = {
    "scale": {"大型": "large", "中型": "medium", "小型": "small", "微型": "micro"},
    "ownership": {"国有": "state", "民营": "private", "私营": "private", "集体": "collective", "其他": "other"},
    "capital": {"内资": "domestic", "外资": "foreign", "港澳台": "foreign", "港澳台资": "foreign"},
}
ALLOWED = {"scale": SCALES, "ownership": OWNERSHIPS, "capital": CAPITALS}


class ImportRefused(Invalid):
    """The file cannot be imported (400); `errors` names every bad row and field."""


def read_table(filename, content):
    """The file's rows as lists of strings (first row the header), from .xlsx or .csv bytes."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        try:
            check_workbook(content)
        except NotAWorkbook as refused:
            raise ImportRefused("not a readable .xlsx workbook", {"file": refused.pair}) from None
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise ImportRefused("not a readable .xlsx workbook", {"file": ["无法读取该 Excel 文件", repr(exc)[:200]]}) from exc
        rows = [[_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
        return rows
    if name.endswith(".csv"):
        # Excel in China saves CSV as GB18030 unless told otherwise; UTF-8 (with or without BOM) first.
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ImportRefused("unreadable CSV encoding", {"file": ["CSV 编码无法识别（请用 UTF-8）", "not UTF-8 or GB18030"]})
        try:
            return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
        except csv.Error as exc:  # a field over csv's 131,072-character limit, a NUL byte, …
            raise ImportRefused("unreadable CSV", {"file": ["CSV 文件格式有误（字段过长或含非法字符）",
                                                         str(exc)[:200]]}) from None
    raise ImportRefused("only .xlsx and .csv files", {"file": ["仅支持 .xlsx 或 .csv 文件", "must be .xlsx or .csv"]})


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date().isoformat()
    return str(value).strip()


def header_fields(header):
    """Column index → field for a header row in Chinese or English; refuses a missing column."""
    columns = {}
    for index, title in enumerate(header):
        key = CHINESE_HEADERS.get(title.strip()) or (title.strip().lower() if title.strip().lower() in FIELDS else None)
        if key:
            columns[index] = key
    missing = [f for f in FIELDS if f not in columns.values()]
    if missing:
        raise ImportRefused("missing columns", {"header": [
            "缺少列：" + "、".join(HEADER_OF[f] for f in missing), "missing columns: " + ", ".join(missing)]})
    return columns


def _value(field, raw):
    if field in CHINESE_VALUES:
        return CHINESE_VALUES[field].get(raw, raw.lower())
    if field == "code":
        return raw.upper()
    return raw


def row_errors(enterprise):
    """{field: [zh, en]} for one row's enterprise; empty when it is acceptable."""
    errors = {}
    code = enterprise["code"]
    if not code:
        errors["code"] = ["缺少统一社会信用代码", "missing code"]
    elif not uscc_is_valid(code):
        errors["code"] = ["统一社会信用代码无效（长度、字符或校验位错误）", "not a valid 统一社会信用代码: length, character or check digit"]
    for field in ("name", "township", "industry"):
        if not enterprise[field]:
            errors[field] = [f"缺少{HEADER_OF[field]}", f"missing {field}"]
        elif len(enterprise[field]) > (200 if field == "name" else 100):
            errors[field] = [f"{HEADER_OF[field]}过长", f"{field} too long"]
    for field, allowed in ALLOWED.items():
        if enterprise[field] not in allowed:
            zh = "、".join(CHINESE_VALUES[field])
            errors[field] = [f"{HEADER_OF[field]}“{enterprise[field]}”无效，应为：{zh}",
                             f"unknown {field} {enterprise[field]!r}; one of {', '.join(allowed)}"]
    return errors


def parse(filename, content):
    """The enterprises of a file, or ImportRefused naming every bad row and field."""
    rows = read_table(filename, content)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ImportRefused("the file is empty", {"file": ["文件为空", "empty file"]})
    columns = header_fields(rows[0])
    enterprises, errors, first_row_of = [], {}, {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        ent = {field: _value(field, row[i] if i < len(row) else "") for i, field in columns.items()}
        problems = row_errors(ent)
        if ent["code"] and ent["code"] in first_row_of:
            problems["code"] = [f"统一社会信用代码与第 {first_row_of[ent['code']]} 行重复",
                                f"duplicate code, also on row {first_row_of[ent['code']]}"]
        first_row_of.setdefault(ent["code"], number)
        if problems:
            errors[f"row {number}"] = problems
        enterprises.append(ent)
    if errors:
        raise ImportRefused(f"{len(errors)} bad rows; nothing was imported / {len(errors)} 行有误，未导入任何数据", errors)
    if not enterprises:
        raise ImportRefused("no enterprises in the file", {"file": ["文件中没有企业数据", "no rows"]})
    return enterprises


def import_file(services, filename, content, progress=None):
    """Check a file and store its enterprises, all or nothing: {"created", "updated"} or ImportRefused."""
    enterprises = parse(filename, content)
    created = services.enterprises.save_all(enterprises, utcnow(), progress)
    return {"created": created, "updated": len(enterprises) - created}


def template():
    """The import template as .xlsx bytes: the Chinese header and one example row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "企业名单"
    sheet.append([HEADER_OF[f] for f in FIELDS])
    example = "91410100MA0000000"
    sheet.append([example + uscc_check_char(example), "示例企业有限公司", "小型", "民营", "内资", "城关镇", "制造业"])
    for column, width in zip("ABCDEFG", (24, 30, 10, 10, 10, 14, 14)):
        sheet.column_dimensions[column].width = width
    # As text: Excel keeps only 15 digits of a number, and some codes are all digits.
    sheet.column_dimensions["A"].number_format = "@"
    notes = book.create_sheet("填写说明")
    for line in (["列", "可填写的值"], ["统一社会信用代码", "18 位，含校验位（GB 32100-2015）"],
                 ["企业规模", "大型、中型、小型、微型（或 large/medium/small/micro）"],
                 ["所有制", "国有、民营、集体、其他（或 state/private/collective/other）"],
                 ["内外资", "内资、外资、港澳台（或 domestic/foreign）"], ["乡镇、行业", "文字"]):
        notes.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
