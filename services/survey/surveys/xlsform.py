"""XLSForm (the KoboToolbox / ODK spreadsheet standard) → a Manyi survey definition.

pyxform parses the workbook; the mapping below is ours and pure. What it maps:
`select_one hcp5` (choices 1–5) → rating5; other `select_one` → single; `select_multiple` → multi;
`integer` constrained to 0–10 → nps; `text` → text; `relevant` of the form `${q} = 'value'` joined by
`and` → show_if; columns `department`, `indicator`, `weight`, `required`; settings `form_id` → code,
`form_title` → title, `period`. Anything else is refused with its row, never dropped.
"""
import io
import re
from zipfile import BadZipFile

from openpyxl import load_workbook
from pyxform.errors import PyXFormError
from pyxform.xls2json import parse_file_to_json

from services.survey.uploads import NotAWorkbook, check_workbook
from shared.domain import period_of, utcnow
from shared.errors import Invalid, pair

RATING_LIST = "hcp5"
CLAUSE = re.compile(r"""\$\{([A-Za-z_][\w.-]*)\}\s*=\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))""")
AND = re.compile(r"\s+and\s+")
BOUND = re.compile(r"\.\s*(>=|<=|>|<)\s*(-?\d+)")
TRUE = ("yes", "true", "true()", "1")
# pyxform adds this group (instanceID) to every form; it is not a question.
META = "meta"


class XLSFormRefused(Invalid):
    """The workbook cannot become a survey (400); `errors` names each row and why."""


class Unmappable(Exception):
    def __init__(self, zh, en):
        super().__init__(en)
        self.pair = pair(zh, en)


def parse(content):
    """pyxform's JSON of the workbook, and each question name's row on the survey sheet."""
    try:
        if content[:2] == b"PK":  # a zip: an .xlsx, bounded before pyxform inflates it (CSV forms are plain text)
            check_workbook(content)
    except NotAWorkbook as refused:
        raise XLSFormRefused("not an XLSForm workbook", {"file": refused.pair}) from None
    try:
        form = parse_file_to_json(None, file_object=io.BytesIO(content), warnings=[])
    except PyXFormError as exc:
        raise XLSFormRefused("not a valid XLSForm", {"file": [f"不是有效的 XLSForm：{exc}", str(exc)]}) from exc
    except Exception as exc:  # pyxform meets a damaged workbook with whatever openpyxl raised
        raise XLSFormRefused("not a readable XLSForm", {"file": ["无法读取该 XLSForm 文件", repr(exc)[:200]]}) from exc
    return form, rows_of(content)


def rows_of(content):
    """{question name: row number on the survey sheet} (the header is row 1); empty for a CSV or Markdown
    XLSForm, which pyxform reads too: its refusals then name the question instead of the row."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True)
    except (BadZipFile, OSError, KeyError, ValueError):
        return {}
    try:
        sheet = next((s for s in book.worksheets if s.title.strip().lower() == "survey"), None)
        if sheet is None:
            return {}
        lines = sheet.iter_rows(values_only=True)
        header = [str(c).strip().lower() if c is not None else "" for c in next(lines, [])]
        if "name" not in header:
            return {}
        column = header.index("name")
        return {str(line[column]).strip(): n for n, line in enumerate(lines, start=2)
                if column < len(line) and line[column] is not None}
    finally:
        book.close()


def label_of(element):
    label = element.get("label")
    if isinstance(label, dict):  # label::中文 (zh), label::English (en) …: Chinese first
        label = next((v for k, v in label.items() if "zh" in k.lower() or "chinese" in k.lower() or "中文" in k),
                     next(iter(label.values()), None))
    return label.strip() if isinstance(label, str) else None


def is_nps_constraint(expression):
    """True for a constraint that bounds the answer to exactly 0–10, e.g. `. >= 0 and . <= 10`."""
    clauses = AND.split((expression or "").strip())
    if len(clauses) != 2:
        return False
    low = high = None
    for clause in clauses:
        m = BOUND.fullmatch(clause.strip())
        if m is None:
            return False
        op, n = m.group(1), int(m.group(2))
        if op in (">=", ">"):
            low = n if op == ">=" else n + 1
        else:
            high = n if op == "<=" else n - 1
    return (low, high) == (0, 10)


def show_if_of(expression, earlier):
    """`${q2} = '是' and ${q1} = '5'` → {"q2": "是", "q1": 5}, values as the earlier question's answers."""
    show_if = {}
    for clause in AND.split(expression.strip()):
        m = CLAUSE.fullmatch(clause.strip())
        if m is None:
            raise Unmappable(f"显示条件“{expression}”无法转换：只支持 ${{题号}} = '值'，多个条件用 and 连接",
                             f"relevant {expression!r} is not of the form ${{q}} = 'value' joined by and")
        ref = m.group(1)
        raw = next(g for g in m.groups()[1:] if g is not None)
        if ref not in earlier:
            raise Unmappable(f"显示条件引用的 {ref} 不是前面的题目", f"relevant names {ref}, not an earlier question")
        question, labels = earlier[ref]
        if question["type"] in ("rating5", "nps"):
            if not re.fullmatch(r"-?\d+", raw):
                raise Unmappable(f"显示条件中 {ref} 的取值“{raw}”不是数字", f"relevant value {raw!r} of {ref} is not a number")
            show_if[ref] = int(raw)
        elif question["type"] in ("single", "multi"):
            if raw not in labels:
                raise Unmappable(f"显示条件中 {ref} 没有选项“{raw}”", f"relevant value {raw!r} is not a choice of {ref}")
            show_if[ref] = labels[raw]
        else:
            raise Unmappable(f"显示条件不能引用文本题 {ref}", f"relevant cannot test the text question {ref}")
    return show_if


def question_of(element, earlier):
    """(question, {choice name: label}) for one survey row, or Unmappable."""
    kind, name = element.get("type"), element.get("name")
    text = label_of(element)
    if not text:
        raise Unmappable(f"题目 {name} 缺少 label", f"question {name} has no label")
    bind = element.get("bind") or {}
    q = {"id": name, "text": text, "required": str(bind.get("required", "")).strip().lower() in TRUE}
    labels = {}
    if kind in ("select one", "select all that apply"):
        choices = element.get("choices") or []
        labels = {str(c.get("name")): (label_of(c) or str(c.get("name"))) for c in choices}
        if kind == "select one" and element.get("list_name") == RATING_LIST:
            if sorted(labels) != ["1", "2", "3", "4", "5"]:
                raise Unmappable(f"{RATING_LIST} 的选项必须是 1–5 五个等级", f"choices of {RATING_LIST} must be the levels 1–5")
            q["type"] = "rating5"
            labels = {level: int(level) for level in labels}
        else:
            q["type"] = "single" if kind == "select one" else "multi"
            q["options"] = list(labels.values())
    elif kind == "integer":
        if not is_nps_constraint(bind.get("constraint")):
            raise Unmappable("integer 题只支持 0–10 的推荐度（constraint 写作 . >= 0 and . <= 10）",
                             "an integer question maps only to nps, with the constraint . >= 0 and . <= 10")
        q["type"] = "nps"
    elif kind == "text":
        q["type"] = "text"
    else:
        raise Unmappable(f"题型“{kind}”无法转换（支持 select_one、select_multiple、integer 0–10、text）",
                         f"type {kind!r} cannot be mapped (select_one, select_multiple, integer 0–10, text)")
    for column in ("department", "indicator"):
        if element.get(column):
            q[column] = str(element[column]).strip()
    if element.get("weight") not in (None, ""):
        try:
            q["weight"] = float(element["weight"])
        except ValueError:
            raise Unmappable(f"权重“{element['weight']}”不是数字", f"weight {element['weight']!r} is not a number") from None
    if q["type"] == "rating5" and not q.get("department"):
        raise Unmappable("好差评题（select_one hcp5）必须填写 department 列", "a rating5 question needs the department column")
    if bind.get("relevant"):
        q["show_if"] = show_if_of(bind["relevant"], earlier)
    return q, labels


def definition_of(form, rows):
    """The survey definition an XLSForm describes, or XLSFormRefused naming every unmappable row."""
    questions, earlier, errors = [], {}, {}
    for element in form.get("children", []):
        if element.get("name") == META and element.get("type") == "group":
            continue
        where = f"row {rows[element['name']]}" if element.get("name") in rows else f"question {element.get('name')}"
        try:
            q, labels = question_of(element, earlier)
        except Unmappable as refusal:
            errors[where] = [f"第 {where[4:]} 行：{refusal.pair[0]}" if where.startswith("row") else refusal.pair[0],
                             f"{where}: {refusal.pair[1]}"]
            continue
        questions.append(q)
        earlier[q["id"]] = (q, labels)
    if errors:
        raise XLSFormRefused(f"{len(errors)} rows cannot be mapped; nothing was imported", errors)
    return {"code": form.get("id_string"), "title": form.get("title"),
            "period": str(form.get("period") or period_of(utcnow())), "questions": questions}
