"""What every export shares: the one function a cell's value goes through, print setup, and the download name.

Every value an export writes (CSV or .xlsx) passes through `cell`, so a rule about cell contents (such as
neutralising spreadsheet formulas in what enterprises typed) is applied in one place for every export.
"""
import re
import unicodedata
from urllib.parse import quote

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shared.domain import SHANGHAI, utcnow
from shared.exports import cell_text

ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def cell(value):
    """The value as an export writes it (the single hook for rules about cell contents): text that would be a
    formula is neutralised, control characters dropped (shared.exports.cell_text)."""
    return cell_text(value)


def content_disposition(filename, ascii_fallback):
    """RFC 6266: `filename` for old clients (ASCII, so `curl -OJ` saves a sane name) and `filename*` in UTF-8."""
    fallback = ASCII_SAFE.sub("-", unicodedata.normalize("NFKD", ascii_fallback)).strip("-.") or "export"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def generated_at():
    return utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def title_rows(sheet, title, detail, width):
    """A title row and a row with the period and generation time above a table, merged across it."""
    sheet.append([cell(title)])
    sheet.append([cell(detail)])
    if width > 1 and isinstance(sheet, Worksheet):
        for row in (1, 2):
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def print_setup(sheet, widths, header_row, landscape=None):
    """A4, fit to the page's width, the header row repeated on every printed page, readable column widths.

    Wide tables (more than 8 columns) print landscape unless told otherwise.
    """
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    wide = len(widths) > 8 if landscape is None else landscape
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE if wide else Worksheet.ORIENTATION_PORTRAIT
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.freeze_panes = f"A{header_row + 1}"
