"""Text bound for a spreadsheet or a PDF that readers open: never a live formula, never a broken file.

Stored text comes from strangers (a cadre's demand text, an enterprise name from an import). In a cell,
text starting with `=`, `+`, `-` or `@` (or tab / carriage return, which some programs skip before
looking) becomes a formula — OWASP's CSV injection — so such text is prefixed with a single quote, as
OWASP recommends. Control characters make openpyxl refuse the whole workbook (one enterprise's name
broke the export for every reader), so they are dropped; newlines stay, cells wrap them.
"""
import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# C0 controls but tab and newline, DEL, C1 controls, lone surrogates, and the two non-characters XML refuses.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def cell_text(value):
    """`value` safe for a cell (xlsx, csv) or a PDF line; non-text values pass unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES):
        value = "'" + value
    return _UNPRINTABLE.sub("", value)


def safe_row(values):
    return [cell_text(v) for v in values]
