"""Uploaded workbooks from strangers: bounded after decompression, refused early when they are not workbooks.

An .xlsx is a zip: 857 KiB of deflated zeros inflated a worker to 1.4 GiB. Before openpyxl or pyxform see
a file, every member is inflated in a stream, counting, and the file is refused as soon as the count
passes the limit — the declared sizes alone could lie.
"""
import io
import zipfile

INFLATED_LIMIT = 64 * 1024 * 1024  # a 20,000-enterprise list inflates to ≈ 6 MiB
MAX_MEMBERS = 2000
CHUNK = 1024 * 1024


class NotAWorkbook(Exception):
    """`pair` is the [中文, English] reason."""

    def __init__(self, zh, en):
        super().__init__(en)
        self.pair = [zh, en]


def check_workbook(content, limit=INFLATED_LIMIT):
    """Raise NotAWorkbook unless `content` is a zip holding an Excel workbook inflating to ≤ `limit` bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise NotAWorkbook("不是 Excel 工作簿（.xlsx）文件", "not an .xlsx workbook (not a zip archive)") from None
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if len(members) > MAX_MEMBERS or "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
            raise NotAWorkbook("不是 Excel 工作簿（.xlsx）文件", "not an .xlsx workbook")
        if sum(m.file_size for m in members) > limit:
            raise too_large(limit)
        inflated = 0
        try:
            for member in members:
                with archive.open(member) as stream:
                    while chunk := stream.read(CHUNK):
                        inflated += len(chunk)
                        if inflated > limit:  # stop at once: never inflate the rest of a bomb
                            raise too_large(limit)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise NotAWorkbook("Excel 文件已损坏", f"the workbook is damaged: {str(exc)[:100]}") from None


def too_large(limit):
    mib = limit // (1024 * 1024)
    return NotAWorkbook(f"工作簿解压后超过 {mib} MiB", f"the workbook inflates to more than {mib} MiB")
