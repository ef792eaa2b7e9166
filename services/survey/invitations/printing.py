"""What cadres print and hand out: QR codes of invitation links, a PDF sheet of cards, an Excel list.

Pure functions from rows to bytes. A row is what `tracking.invitation_rows` gives: enterprise, name,
township, industry, url, status, expires_at, …
"""
import io

import segno
from openpyxl import Workbook
from openpyxl.drawing.image import Image as SheetImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from shared.domain import local_time
from shared.exports import cell_text, safe_row

# A CID font built into every PDF reader's Chinese support: no font file to ship or embed.
CHINESE_FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CHINESE_FONT))
STATUS_NAMES = {"sent": "未打开", "opened": "已打开未提交", "answered": "已提交"}
COLUMNS, ROWS = 2, 3
# A link that cannot be shown again (no token key, or a changed one): printed as this, with no QR code.
REISSUE = "（链接无法再次显示，请重新邀请该企业以生成新链接）"


def qr(url):
    # Level M survives a crease or a smudge on a printed sheet and keeps the code small enough for a phone.
    return segno.make(url, error="m")


def qr_png(url, scale=8):
    out = io.BytesIO()
    qr(url).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(url, scale=8):
    out = io.BytesIO()
    qr(url).save(out, kind="svg", scale=scale, border=4, xmldecl=True)
    return out.getvalue()


def _draw_qr(pdf, url, x, y, size):
    """The QR code as vector squares: sharp at any printer resolution."""
    matrix = qr(url).matrix
    cell = size / (len(matrix) + 8)  # four modules of quiet zone each side
    pdf.setFillColorRGB(0, 0, 0)
    for r, line in enumerate(matrix):
        c = 0
        while c < len(line):
            if not line[c]:
                c += 1
                continue
            run = c
            while run < len(line) and line[run]:
                run += 1
            # one rectangle per run of dark modules: a county's thousand cards stay a small, fast file
            pdf.rect(x + (c + 4) * cell, y + size - (r + 5) * cell, (run - c) * cell, cell, stroke=0, fill=1)
            c = run


def _fit(text, font, size, width):
    """`text` cut into lines no wider than `width` points (Chinese has no spaces to break at)."""
    lines, line = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line else lines


def invitations_pdf(survey_title, rows):
    """A4 pages of six cards each: enterprise name, QR code, link, and how to answer."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    survey_title = cell_text(survey_title)
    pdf.setTitle(f"{survey_title} 邀请二维码")
    page_w, page_h = A4
    card_w, card_h = page_w / COLUMNS, page_h / ROWS
    for index, row in enumerate(rows):
        if index and index % (COLUMNS * ROWS) == 0:
            pdf.showPage()
        slot = index % (COLUMNS * ROWS)
        x, y = (slot % COLUMNS) * card_w, page_h - (slot // COLUMNS + 1) * card_h
        pdf.setStrokeColorRGB(0.7, 0.7, 0.7)
        pdf.setDash(3, 3)
        pdf.rect(x + 4 * mm, y + 4 * mm, card_w - 8 * mm, card_h - 8 * mm)  # cut along the dashes
        pdf.setDash()
        top = y + card_h - 14 * mm
        pdf.setFont(CHINESE_FONT, 13)
        for n, line in enumerate(_fit(cell_text(row["name"] or row["enterprise"]), CHINESE_FONT, 13, card_w - 20 * mm)[:2]):
            pdf.drawCentredString(x + card_w / 2, top - n * 16, line)
        pdf.setFont(CHINESE_FONT, 9)
        pdf.drawCentredString(x + card_w / 2, top - 34, _fit(survey_title, CHINESE_FONT, 9, card_w - 20 * mm)[0])
        size = 52 * mm
        if not row["url"]:
            pdf.setFont(CHINESE_FONT, 8)
            for n, line in enumerate(_fit(REISSUE, CHINESE_FONT, 8, card_w - 20 * mm)):
                pdf.drawCentredString(x + card_w / 2, top - 60 - n * 11, line)
            continue
        _draw_qr(pdf, row["url"], x + (card_w - size) / 2, top - 38 - size, size)
        pdf.setFont(CHINESE_FONT, 10)
        pdf.drawCentredString(x + card_w / 2, top - 52 - size, "请用手机微信扫码填写问卷")
        pdf.setFont("Helvetica", 6.5)
        for n, line in enumerate(_fit(row["url"], "Helvetica", 6.5, card_w - 14 * mm)):
            pdf.drawCentredString(x + card_w / 2, top - 64 - size - n * 8, line)
    if not rows:
        pdf.setFont(CHINESE_FONT, 14)
        pdf.drawString(20 * mm, page_h - 30 * mm, "没有符合条件的邀请。")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def invitations_xlsx(survey_title, rows, with_qr=True):
    """One line per invitation with its QR code: to print, or to feed an SMS / WeChat reminder."""
    book = Workbook()
    sheet = book.active
    sheet.title = "邀请名单"
    sheet.append(["企业名称", "统一社会信用代码", "乡镇", "行业", "问卷链接", "状态", "首次打开", "提交时间", "链接有效期至"]
                 + (["二维码"] if with_qr else []))
    for column, width in zip("ABCDEFGHIJ", (30, 22, 12, 12, 60, 14, 18, 18, 18, 16)):
        sheet.column_dimensions[column].width = width
    for n, row in enumerate(rows, start=2):
        sheet.append(safe_row([row["name"], row["enterprise"], row["township"], row["industry"], row["url"] or REISSUE,
                               STATUS_NAMES[row["status"]], local_time(row["opened_at"]), local_time(row["answered_at"]),
                               local_time(row["expires_at"])]))
        if with_qr and row["url"]:
            image = SheetImage(io.BytesIO(qr_png(row["url"], scale=3)))
            sheet.add_image(image, f"J{n}")
            sheet.row_dimensions[n].height = image.height * 0.75 + 4  # points from pixels
    sheet.freeze_panes = "A2"
    book.properties.title = cell_text(survey_title)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
