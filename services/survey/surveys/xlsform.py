"""XLSForm (the KoboToolbox / ODK spreadsheet standard) → a Manyi survey definition.

pyxform reads the file (.xlsx, .xls, .csv in UTF-8 with or without BOM or in GBK, Markdown); the mapping
below is ours and pure. What it maps:
- `select_one hcp5` (choices 1–5) → rating5; other `select_one` → single; `select_multiple` → multi;
  `integer` constrained to 0–10 → nps; `text` → text (a constraint `string-length(.) <= N` → max_length);
- `relevant`: `${q} = 'value'` and `selected(${q}, 'value')` joined by `and` → show_if (`selected` for a
  multi-choice question means "value is among those chosen", which is what show_if means for one; `=` on a
  multi-choice question means "exactly that choice" in ODK, which show_if cannot say, so it is refused);
- groups are flattened: their `relevant` is added to each question inside (refused where the two disagree);
- `hint`, `required`, `required_message`; columns `department`, `indicator`, `weight`; settings `form_id` →
  code (else the file name), `form_title` → title, `period`;
- label translations: the Chinese label (a language named zh/chinese/中文), else the default language.
Ignored with a warning in the reply: metadata rows (start, end, today, deviceid, …), notes, `appearance`,
`constraint_message` of a mapped constraint, labels in other languages, columns we do not know.
Anything else that changes what is asked or accepted is refused with its row and reason, never dropped.
"""
import csv
import hashlib
import io
import re
from pathlib import PurePath

from openpyxl import load_workbook
from pyxform.errors import PyXFormError
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from services.survey.uploads import NotAWorkbook, check_workbook
from shared.domain import period_of, utcnow
from shared.errors import Invalid, pair

RATING_LIST = "hcp5"
EQUALS = re.compile(r"""\$\{([A-Za-z_][\w.-]*)\}\s*=\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))""")
SELECTED = re.compile(r"""selected\(\s*\$\{([A-Za-z_][\w.-]*)\}\s*,\s*(?:'([^']*)'|"([^"]*)"|(-?\d+))\s*\)""")
AND = re.compile(r"\s+and\s+")
BOUND = re.compile(r"\.\s*(>=|<=|>|<)\s*(-?\d+)")
LENGTH = re.compile(r"string-length\(\s*\.\s*\)\s*(<=|<)\s*(\d+)")
TRUE = ("yes", "true", "true()", "1")
META = "meta"  # pyxform adds this group (instanceID) to every form; it is not a question
METADATA = ("start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username", "email",
            "audit", "start-geopoint", "background-audio", "imei", "uri:deviceid", "uri:email", "uri:username")
CODE_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
# Columns (as written on the survey sheet, before any ::language) the mapping turns into the definition.
MAPPED_COLUMNS = frozenset(("type", "name", "label", "hint", "required", "required_message", "relevant",
                            "constraint", "department", "indicator", "indicator_name", "weight"))
# Element keys pyxform produces that the mapping reads; anything else is warned about or refused below.
READ_KEYS = {"type", "name", "label", "hint", "bind", "choices", "list_name", "itemset", "parameters", "children",
             "department", "indicator", "indicator_name", "weight", "control"}
READ_BIND = {"required", "jr:requiredMsg", "relevant", "constraint", "jr:constraintMsg"}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class XLSFormRefused(Invalid):
    """The workbook cannot become a survey (400); `errors` names each row and why."""


class Unmappable(Exception):
    def __init__(self, zh, en):
        super().__init__(en)
        self.pair = pair(zh, en)


def refuse_file(zh, en):
    return XLSFormRefused(f"not a readable XLSForm: {en}", {"file": [zh, en]})


# --- reading the file ---------------------------------------------------------------------------------------
def kind_of(content, filename):
    """(pyxform file type, bytes to give it): workbooks by their magic bytes, text decoded as UTF-8 or GBK."""
    if content.startswith(b"PK\x03\x04"):
        return ".xlsx", content
    if content.startswith(OLE2):
        return ".xls", content
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise refuse_file("文件既不是 Excel 工作簿（.xlsx/.xls），也不是 UTF-8 或 GBK 编码的 CSV",
                          "neither a workbook (.xlsx/.xls) nor a CSV in UTF-8 or GBK")
    if "\x00" in text:
        raise refuse_file("文件不是文本，也不是 Excel 工作簿", "not text and not a workbook")
    if (filename or "").lower().endswith(".md") or text.lstrip().startswith("|"):
        return ".md", text.encode()
    return ".csv", sectioned_csv(text).encode()


def sectioned_csv(text):
    """pyxform's CSV puts the sheet name in the first column; a flat `type,name,label` table (the survey sheet
    alone, as people write one by hand) becomes that shape."""
    rows = list(csv.reader(io.StringIO(text)))
    first = next((r for r in rows if any(c.strip() for c in r)), [])
    header = [c.strip().lower() for c in first]
    if "type" in header and "name" in header:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["survey"] + [""] * len(first))
        for row in rows:
            writer.writerow([""] + row)
        return out.getvalue()
    return text


def parse(content, filename=None):
    """pyxform's JSON of the form, each question name's row on the survey sheet, and pyxform's settings."""
    file_type, data = kind_of(content, filename)
    stem = PurePath(filename or "").stem
    try:
        if file_type in (".xlsx", ".xlsm"):  # a zip: bounded before pyxform inflates it (CSV forms are plain text)
            check_workbook(content)
    except NotAWorkbook as refused:
        raise XLSFormRefused("not an XLSForm workbook", {"file": refused.pair}) from None
    try:
        book = get_xlsform(io.BytesIO(data), file_type=file_type)
        warnings = []
        form = workbook_to_json(workbook_dict=book, form_name="data", fallback_form_name=code_from_name(stem, content),
                                default_language="default", warnings=warnings)
    except PyXFormError as exc:
        raise XLSFormRefused("not a valid XLSForm", {"file": [f"不是有效的 XLSForm：{exc}", str(exc)]}) from exc
    except Exception as exc:  # pyxform's own failures on odd files (a KeyError, a TypeError …) are refusals too
        raise XLSFormRefused("not a readable XLSForm", {"file": [f"无法读取此 XLSForm：{type(exc).__name__}: {exc}",
                                                                 f"cannot read this XLSForm: {type(exc).__name__}: {exc}"]}) from exc
    form["_title_from_file"] = stem or None
    form["_has_form_id"] = bool((book.settings or [{}])[0].get("form_id")) if book.settings else False
    return form, rows_of(file_type, data)


def code_from_name(stem, content):
    """A survey code from the file name; a name with no usable letters gets one from the file's digest, so two
    unrelated forms never share a code."""
    code = CODE_UNSAFE.sub("-", stem).strip("-._")[:64]
    return code if code and code[0].isalnum() else f"xlsform-{hashlib.sha256(content).hexdigest()[:8]}"


def rows_of(file_type, data):
    """{question name: row number on the survey sheet (or line, for CSV and Markdown)}; {} when unknown."""
    try:
        lines = list(survey_lines(file_type, data))
    except Exception:  # noqa: BLE001 - rows only improve messages; pyxform has already read the file
        return {}
    for n, (_, cells) in enumerate(lines):
        header = [str(c).strip().lower() if c is not None else "" for c in cells]
        if "name" in header:
            column = header.index("name")
            return {str(c[column]).strip(): row for row, c in lines[n + 1:]
                    if column < len(c) and c[column] not in (None, "")}
    return {}


def survey_lines(file_type, data):
    """(row number, cells) of the survey sheet."""
    if file_type == ".xlsx":
        book = load_workbook(io.BytesIO(data), read_only=True)
        try:
            sheet = next((s for s in book.worksheets if s.title.strip().lower() == "survey"), None)
            yield from enumerate((list(r) for r in sheet.iter_rows(values_only=True)), start=1) if sheet else ()
        finally:
            book.close()
    elif file_type == ".xls":
        import xlrd
        book = xlrd.open_workbook(file_contents=data)
        sheet = next((s for s in book.sheets() if s.name.strip().lower() == "survey"), None)
        if sheet is not None:
            yield from ((n + 1, sheet.row_values(n)) for n in range(sheet.nrows))
    else:
        text = data.decode()
        rows = ([[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()]
                if file_type == ".md" else list(csv.reader(io.StringIO(text))))
        sheet = None
        for n, row in enumerate(rows, start=1):
            if row and row[0].strip():
                sheet = row[0].strip().lower()
            if sheet == "survey":
                yield n, row[1:]


# --- mapping ------------------------------------------------------------------------------------------------
def text_of(value, warn, what):
    """One language of a translated text: Chinese first, else the default language, else the first given."""
    if isinstance(value, dict):
        languages = list(value)
        chosen = next((k for k in languages if "zh" in k.lower() or "chinese" in k.lower() or "中文" in k),
                      "default" if "default" in value else languages[0] if languages else None)
        others = [k for k in languages if k != chosen]
        if others:
            warn(f"{what} 只导入“{chosen}”语言，未导入：{'、'.join(others)}",
                 f"{what}: only the {chosen!r} language is imported, not {', '.join(others)}")
        value = value.get(chosen) if chosen else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def is_nps_constraint(expression):
    """True for a constraint that bounds the answer to exactly 0–10, e.g. `. >= 0 and . <= 10`."""
    return numeric_range(expression) == (0, 10)


def numeric_range(expression):
    """(low, high) of a constraint made only of bounds on `.`, e.g. `. >= 0 and . <= 10`; None otherwise."""
    clauses = AND.split((expression or "").strip())
    low = high = None
    for clause in clauses:
        m = BOUND.fullmatch(clause.strip())
        if m is None:
            return None
        op, n = m.group(1), int(m.group(2))
        if op in (">=", ">"):
            low = n if op == ">=" else n + 1
        else:
            high = n if op == "<=" else n - 1
    return (low, high) if low is not None and high is not None else None


def show_if_of(expression, earlier):
    """`${q2} = '是' and selected(${q5}, 'speed')` → {"q2": "是", "q5": "速度"}, values as the answers are."""
    show_if = {}
    for clause in AND.split(expression.strip()):
        m = EQUALS.fullmatch(clause.strip()) or SELECTED.fullmatch(clause.strip())
        if m is None:
            raise Unmappable(f"显示条件“{expression}”无法转换：只支持 ${{题号}} = '值' 和 selected(${{题号}}, '值')，"
                             "多个条件用 and 连接",
                             f"relevant {expression!r} is not made of ${{q}} = 'value' or selected(${{q}}, 'value') "
                             "joined by and")
        ref, selected = m.group(1), m.re is SELECTED
        raw = next(g for g in m.groups()[1:] if g is not None)
        if ref not in earlier:
            raise Unmappable(f"显示条件引用的 {ref} 不是前面的题目", f"relevant names {ref}, not an earlier question")
        question, labels = earlier[ref]
        if selected and question["type"] not in ("single", "multi"):
            raise Unmappable(f"selected() 只能用于选择题，{ref} 不是", f"selected() needs a choice question; {ref} is not")
        if question["type"] == "multi" and not selected:
            raise Unmappable(f"多选题 {ref} 的条件请写作 selected(${{{ref}}}, '{raw}')（= 表示恰好只选了这一项，无法转换）",
                             f"for the multi-choice {ref} write selected(${{{ref}}}, '{raw}'); = means exactly that "
                             "choice alone, which cannot be mapped")
        if question["type"] in ("rating5", "nps"):
            if not re.fullmatch(r"-?\d+", raw):
                raise Unmappable(f"显示条件中 {ref} 的取值“{raw}”不是数字", f"relevant value {raw!r} of {ref} is not a number")
            value = int(raw)
        elif question["type"] in ("single", "multi"):
            if raw not in labels:
                raise Unmappable(f"显示条件中 {ref} 没有选项“{raw}”", f"relevant value {raw!r} is not a choice of {ref}")
            value = labels[raw]
        else:
            raise Unmappable(f"显示条件不能引用文本题 {ref}", f"relevant cannot test the text question {ref}")
        if ref in show_if and show_if[ref] != value:
            raise Unmappable(f"显示条件对 {ref} 要求了两个不同的值", f"relevant asks two different values of {ref}")
        show_if[ref] = value
    return show_if


def checked_columns(element, warn):
    """Refuse what would change the question if dropped; warn about what only changes its look."""
    for key in element:
        if key in READ_KEYS:
            continue
        if key in ("default", "choice_filter", "media", "trigger", "repeat_count", "calculation", "read_only"):
            raise Unmappable(f"“{key}”列无法转换（{WHY.get(key, '本系统不支持')}）",
                             f"the {key} column cannot be mapped ({WHY_EN.get(key, 'not supported here')})")
        warn(f"“{key}”列已忽略", f"column {key} ignored")
    for key in (element.get("bind") or {}):
        if key not in READ_BIND:
            raise Unmappable(f"“{key}”设置无法转换", f"the {key} setting cannot be mapped")
    control = {k: v for k, v in (element.get("control") or {}).items() if k != "bodyless"}
    if control:
        warn(f"appearance 等显示设置已忽略：{control}", f"appearance settings ignored: {control}")
    if element.get("parameters"):
        raise Unmappable(f"parameters“{element['parameters']}”无法转换", f"parameters {element['parameters']} cannot be mapped")


WHY = {"default": "满意度调查不预设答案", "choice_filter": "不支持级联选项", "media": "不支持图片、音频",
       "trigger": "不支持触发计算", "repeat_count": "不支持重复组", "calculation": "不支持计算", "read_only": "不支持只读题"}
WHY_EN = {"default": "a satisfaction survey presets no answer", "choice_filter": "no cascading choices",
          "media": "no images or audio", "trigger": "no triggered calculations", "repeat_count": "no repeats",
          "calculation": "no calculations", "read_only": "no read-only questions"}


def question_of(element, earlier, group_show_if, warn):
    """(question, {choice name: label}) for one survey row, or Unmappable."""
    kind, name = element.get("type"), element.get("name")
    checked_columns(element, warn)
    text = text_of(element.get("label"), warn, "label")
    if not text:
        raise Unmappable(f"题目 {name} 缺少 label", f"question {name} has no label")
    bind = element.get("bind") or {}
    q = {"id": name, "text": text, "required": str(bind.get("required", "")).strip().lower() in TRUE}
    hint = text_of(element.get("hint"), warn, "hint")
    if hint:
        q["hint"] = hint
    message = text_of(bind.get("jr:requiredMsg"), warn, "required_message")
    if message:
        q["required_message"] = message
    labels = {}
    constraint = bind.get("constraint")
    if kind in ("select one", "select all that apply"):
        if constraint:
            raise Unmappable(f"选择题的 constraint“{constraint}”无法转换", f"constraint {constraint!r} on a choice question cannot be mapped")
        choices = element.get("choices") or []
        labels = {str(c.get("name")): (text_of(c.get("label"), lambda *a: None, "") or str(c.get("name")))
                  for c in choices}
        if kind == "select one" and element.get("list_name") == RATING_LIST:
            if sorted(labels) != ["1", "2", "3", "4", "5"]:
                raise Unmappable(f"{RATING_LIST} 的选项必须是 1–5 五个等级", f"choices of {RATING_LIST} must be the levels 1–5")
            q["type"] = "rating5"
            labels = {level: int(level) for level in labels}
        else:
            q["type"] = "single" if kind == "select one" else "multi"
            q["options"] = list(labels.values())
    elif kind == "integer":
        if not is_nps_constraint(constraint):
            raise Unmappable("integer 题只支持 0–10 的推荐度（constraint 写作 . >= 0 and . <= 10）",
                             "an integer question maps only to nps, with the constraint . >= 0 and . <= 10")
        q["type"] = "nps"
    elif kind == "text":
        q["type"] = "text"
        if constraint:
            m = LENGTH.fullmatch(constraint.strip())
            if m is None:
                raise Unmappable(f"文本题的 constraint“{constraint}”无法转换（只支持 string-length(.) <= N）",
                                 f"constraint {constraint!r} on a text question cannot be mapped (only "
                                 "string-length(.) <= N)")
            q["max_length"] = int(m.group(2)) - (m.group(1) == "<")
    else:
        raise Unmappable(f"题型“{kind}”无法转换（支持 select_one、select_multiple、integer 0–10、text）",
                         f"type {kind!r} cannot be mapped (select_one, select_multiple, integer 0–10, text)")
    if constraint and bind.get("jr:constraintMsg"):
        warn("constraint_message 未导入：提交时显示系统的统一提示", "constraint_message not imported: our own message is shown")
    for column in ("department", "indicator", "indicator_name"):
        if element.get(column):
            q[column] = str(element[column]).strip()
    if element.get("weight") not in (None, ""):
        try:
            q["weight"] = float(element["weight"])
        except ValueError:
            raise Unmappable(f"权重“{element['weight']}”不是数字", f"weight {element['weight']!r} is not a number") from None
    if q["type"] == "rating5" and not q.get("department"):
        raise Unmappable("好差评题（select_one hcp5）必须填写 department 列", "a rating5 question needs the department column")
    show_if = dict(group_show_if)
    if bind.get("relevant"):
        for ref, value in show_if_of(bind["relevant"], earlier).items():
            if ref in show_if and show_if[ref] != value:
                raise Unmappable(f"题目与所在分组对 {ref} 的显示条件不一致", f"the question and its group disagree on {ref}")
            show_if[ref] = value
    if show_if:
        q["show_if"] = show_if
    return q, labels


class Mapping:
    """One walk over the form's rows: questions, refusals and warnings keyed by row."""

    def __init__(self, rows):
        self.rows, self.questions, self.earlier, self.errors, self.warnings = rows, [], {}, {}, []

    def where(self, name):
        return (self.rows[name], f"row {self.rows[name]}") if name in self.rows else (None, f"question {name}")

    def note(self, name, zh, en, into):
        row, where = self.where(name)
        pair = [f"第 {row} 行：{zh}" if row else f"题目 {name}：{zh}", f"{where}: {en}"]
        if into is self.errors:
            self.errors[where] = pair
        else:
            into.append({"row": row, "question": name, "warning": pair})

    def walk(self, elements, group_show_if):
        for element in elements:
            kind, name = element.get("type"), element.get("name")
            if name == META and kind == "group":
                continue
            try:
                if kind in METADATA or kind == "note":
                    what = "说明文字（note）" if kind == "note" else f"元数据（{kind}）"
                    self.note(name, f"{what}不是题目，已忽略", f"{kind} is not a question; ignored", self.warnings)
                elif kind == "group":
                    checked_group(element, lambda zh, en, n=name: self.note(n, zh, en, self.warnings))
                    show_if = dict(group_show_if)
                    relevant = (element.get("bind") or {}).get("relevant")
                    for ref, value in (show_if_of(relevant, self.earlier) if relevant else {}).items():
                        if ref in show_if and show_if[ref] != value:
                            raise Unmappable(f"嵌套分组对 {ref} 的显示条件不一致", f"nested groups disagree on {ref}")
                        show_if[ref] = value
                    self.walk(element.get("children") or [], show_if)
                else:
                    q, labels = question_of(element, self.earlier, group_show_if,
                                            lambda zh, en, n=name: self.note(n, zh, en, self.warnings))
                    self.questions.append(q)
                    self.earlier[q["id"]] = (q, labels)
            except Unmappable as refusal:
                self.note(name, *refusal.pair, self.errors)


def checked_group(element, warn):
    if set(element) - {"type", "name", "label", "bind", "children", "control"}:
        extra = sorted(set(element) - {"type", "name", "label", "bind", "children", "control"})
        raise Unmappable(f"分组的 {'、'.join(extra)} 无法转换", f"{', '.join(extra)} of a group cannot be mapped")
    if set(element.get("bind") or {}) - {"relevant"}:
        raise Unmappable("分组只支持 relevant 设置", "a group may only carry relevant")
    control = {k: v for k, v in (element.get("control") or {}).items() if k != "bodyless"}
    if control:
        warn(f"分组的显示设置已忽略：{control}", f"group appearance ignored: {control}")


def row_order(key):
    kind, _, number = key.partition(" ")
    return (0, int(number), "") if kind == "row" and number.isdigit() else (1, 0, key)


def definition_of(form, rows, warnings=None):
    """The survey definition an XLSForm describes, or XLSFormRefused naming every unmappable row (by row
    number). `warnings` (a list) receives what was ignored, each with its row."""
    mapping = Mapping(rows)
    mapping.walk(form.get("children", []), {})
    if mapping.errors:
        errors = {k: mapping.errors[k] for k in sorted(mapping.errors, key=row_order)}
        raise XLSFormRefused(f"{len(errors)} rows cannot be mapped; nothing was imported", errors)
    if not mapping.questions:
        raise XLSFormRefused("the form has no question that can be imported",
                             {"file": ["表单中没有可以导入的题目", "the form has no question that can be imported"]})
    if warnings is not None:
        warnings.extend(sorted(mapping.warnings, key=lambda w: (w["row"] is None, w["row"] or 0)))
    title = form.get("title")
    if not form.get("_has_form_id") and title == form.get("id_string") and form.get("_title_from_file"):
        title = form["_title_from_file"]
    return {"code": form.get("id_string"), "title": title,
            "period": str(form.get("period") or period_of(utcnow())), "questions": mapping.questions}
