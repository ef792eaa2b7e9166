"""Raw answers as files: CSV (UTF-8 with BOM, so Excel opens it) streamed as it is read, and .xlsx written
row by row into a temporary file (shared.xlsx_stream), then streamed. One row per answer, one column per
question (a multi-choice question one column per option), questions in survey order, Chinese headers.
"""
import csv
import io
import tempfile

from services.survey.responses import rules
from services.survey.responses.identity import IDENTITY_FIELDS, IDENTITY_HEADERS, identity_of, identity_visible
from services.survey.responses.reading import batches, names_of
from shared.labels import VALUE_NAMES
from shared.sheets import cell, generated_at
from shared.xlsx_stream import BOLD, SheetWriter

LEAD_HEADERS = ("答卷编号", "提交时间")
CODED = ("scale", "ownership", "capital")  # stored as codes, written in Chinese


class Table:
    """The header and rows of one survey's raw answers as `key` may read them."""

    def __init__(self, archive, survey, query, key):
        self.archive, self.survey, self.query, self.key = archive, survey, query, key
        numbers = rules.numbers_of(survey["questions"])
        self.questions = rules.questions_about(survey["questions"], query.get("department"))
        self.columns = rules.question_columns(self.questions, numbers)
        self.with_identity = identity_visible(key)

    def header(self):
        return [*LEAD_HEADERS, *(IDENTITY_HEADERS if self.with_identity else ()), *(c.header for c in self.columns)]

    def widths(self):
        lead = [34, 20] + ([22, 28, 8, 8, 10, 12, 12] if self.with_identity else [])
        return lead + [min(40, max(8, len(c.header) * 1.6)) for c in self.columns]

    def rows(self):
        for docs in batches(self.archive, self.survey, self.query):
            names = names_of(self.archive, self.key, docs)
            for doc in docs:
                row = [doc["_id"], rules.local_time(doc["created_at"])]
                if self.with_identity:
                    who = identity_of(self.key, doc, names) or {}
                    row += [VALUE_NAMES.get(who.get(f), who.get(f)) if f in CODED else who.get(f)
                            for f in IDENTITY_FIELDS]
                row += rules.question_cells(self.columns, doc["answers"])
                yield [cell(v) for v in row]


def csv_chunks(table):
    """The CSV as byte chunks, a batch of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([cell(h) for h in table.header()])
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for n, row in enumerate(table.rows(), start=1):
        writer.writerow(row)
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(table, title):
    """The workbook in a temporary file (deleted when closed), positioned at its start."""
    out = tempfile.TemporaryFile()
    with SheetWriter(out, "原始答卷", table.widths(), header_row=3, landscape=True) as sheet:
        sheet.append([title], style=BOLD)
        sheet.append([f"问卷 {table.survey['code']} 第 {table.survey['version']} 版 · 期间 {table.survey['period']}"
                      f" · 生成时间 {generated_at()}（北京时间）· 评价等级 5 非常满意 … 1 非常不满意；多选题 1 = 选中"])
        sheet.append(table.header(), style=BOLD)
        for row in table.rows():
            sheet.append(row)
    out.seek(0)
    return out


def file_chunks(file, size=1 << 16):
    """A file's bytes in chunks, closing (so deleting) it once sent."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()
