"""An .xlsx sheet written row by row straight into its zip, for exports too long for openpyxl.

openpyxl's write-only mode keeps memory flat but spends ~40 µs a cell; a 100,000-answer export has millions of
cells. This writes the sheet's XML directly (inline strings, numbers as numbers), with the print setup every
export shares: A4, portrait or landscape, fit to the page's width, the header row repeated on each printed
page and frozen on screen, column widths. Values go through shared.sheets.cell like every export's.
"""
import re
import zipfile
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

from shared.sheets import cell

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ' \
     'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = HEAD + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
ROOT_RELS = HEAD + (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK_RELS = HEAD + (
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>')
# Style 0: plain; 1: bold (title, header); 2: wrapped text.
STYLES = HEAD + (
    f'<styleSheet {NS}><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment wrapText="1" vertical="top"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
BOLD = 1


def _text(value):
    return escape(CONTROL.sub("", value))


class SheetWriter:
    """`with SheetWriter(file, "原始答卷", widths, header_row=3) as sheet: sheet.append([...], style=…)`."""

    def __init__(self, file, title, widths, header_row, landscape=True):
        self.title, self.widths, self.header_row, self.landscape = title, widths, header_row, landscape
        self.zip = zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.letters = [get_column_letter(n) for n in range(1, len(widths) + 1)]
        self.row = 0
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        cols = "".join(f'<col min="{n}" max="{n}" width="{w:g}" customWidth="1"/>' for n, w in enumerate(widths, 1))
        below = header_row + 1
        self.sheet.write((
            HEAD + f'<worksheet {NS}><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{header_row}" topLeftCell="A{below}" '
            f'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>').encode())

    def append(self, values, style=0):
        self.row += 1
        r, parts = self.row, [f'<row r="{self.row}">']
        attr = f' s="{style}"' if style else ""
        for n, value in enumerate(values):
            value = cell(value)
            if value is None or value == "":
                continue
            ref = f"{self.letters[n] if n < len(self.letters) else get_column_letter(n + 1)}{r}"
            if isinstance(value, bool):
                value = int(value)
            if isinstance(value, int | float):
                parts.append(f'<c r="{ref}"{attr}><v>{value!r}</v></c>')
            else:
                parts.append(f'<c r="{ref}"{attr} t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}'
                             '</t></is></c>')
        parts.append("</row>")
        self.sheet.write("".join(parts).encode())

    def close(self):
        orientation = "landscape" if self.landscape else "portrait"
        self.sheet.write((
            '</sheetData><pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
            f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
            '<headerFooter><oddFooter>&amp;C第 &amp;P 页，共 &amp;N 页</oddFooter></headerFooter></worksheet>').encode())
        self.sheet.close()
        name = _text(self.title.replace("'", "''"))
        self.zip.writestr("[Content_Types].xml", CONTENT_TYPES)
        self.zip.writestr("_rels/.rels", ROOT_RELS)
        self.zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        self.zip.writestr("xl/styles.xml", STYLES)
        self.zip.writestr("xl/workbook.xml", HEAD + (
            f'<workbook {NS}><sheets><sheet name="{_text(self.title)}" sheetId="1" r:id="rId1"/></sheets>'
            f'<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'
            f"'{name}'!${self.header_row}:${self.header_row}</definedName></definedNames></workbook>"))
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
