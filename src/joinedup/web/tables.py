"""Tables as downloads: one table to a CSV response, one or more tables to an XLSX workbook.

Generic on purpose: any app can hand a ``Table`` (a title, column headings and rows of
plain values) to ``csv_response`` or ``xlsx_response``. It must never decide what a
table may contain: suppression and access are the calling app's job.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

Cell = str | int | float | date | datetime | None
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    note: str = ""


def _safe(value: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _filename(name: str, extension: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "table"
    return f"{stem}.{extension}"


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM lets Excel read UTF-8


def csv_response(table: Table, *, filename: str) -> HttpResponse:
    response = HttpResponse(csv_bytes(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "csv")}"'
    return response


def xlsx_bytes(tables: Table | Sequence[Table]) -> bytes:
    """A workbook with one sheet per table: heading row in bold, a note row if given."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    used: set[str] = set()
    for table in [tables] if isinstance(tables, Table) else tables:
        sheet = book.create_sheet(_sheet_name(table.title, used))
        if table.note:
            sheet.append([table.note])
        sheet.append(list(table.columns))
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_safe(v) for v in row])
        for letter, width in _widths(table).items():
            sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(tables: Table | Sequence[Table], *, filename: str) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(tables), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_filename(filename, "xlsx")}"'
    return response


def _sheet_name(title: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the book."""
    base = "".join(" " if c in "[]:*?/\\" else c for c in title)[:31].strip() or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _widths(table: Table) -> dict[str, float]:
    from openpyxl.utils import get_column_letter

    widths = {}
    for index, heading in enumerate(table.columns):
        longest = max([len(str(heading))] + [len(str(r[index])) for r in table.rows[:200]])
        widths[get_column_letter(index + 1)] = min(60.0, longest + 2.0)
    return widths
