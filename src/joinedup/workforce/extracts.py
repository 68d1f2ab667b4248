"""The extract formats: which column of a CSV or XLSX file means which field.

Reading only: a file becomes numbered rows of normalised field names to text values.
Validation against the classifications and the organisations is the import service's
job (``joinedup.workforce.services``). Pure Python and openpyxl, no Django.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from joinedup.errors import InvalidInput

Row = dict[str, str]


@dataclass(frozen=True)
class Format:
    key: str
    label: str
    columns: dict[str, str]  # heading in the file -> field
    required: tuple[str, ...]  # headings that must be present


ESR = Format(
    "esr",
    "ESR-like NHS extract",
    {
        "Assignment Number": "staff_ref",
        "Organisation Code": "organisation",
        "Team": "team",
        "Neighbourhood": "neighbourhood",
        "Staff Group": "staff_group",
        "Job Role": "role",
        "Occupation Code": "occupation_code",
        "Pay Band": "pay_band",
        "Assignment Category": "contract",
        "Contracted Hours": "hours",
        "FTE": "wte",
        "Age Band": "age_band",
        "Gender": "sex",
        "Ethnic Origin": "ethnicity",
        "Start Date": "start_date",
        "Termination Date": "leaving_date",
    },
    ("Assignment Number", "Organisation Code", "Staff Group", "Job Role", "Start Date"),
)

SOCIAL_CARE = Format(
    "socialcare",
    "Social care extract",
    {
        "Worker ID": "staff_ref",
        "Employer Code": "organisation",
        "Team": "team",
        "Neighbourhood": "neighbourhood",
        "Job Role Category": "staff_group",
        "Main Job Role": "role",
        "Pay Grade": "pay_band",
        "Contract Type": "contract",
        "Contracted Hours": "hours",
        "Full-time Hours": "full_time_hours",
        "WTE": "wte",
        "Age Band": "age_band",
        "Sex": "sex",
        "Ethnicity": "ethnicity",
        "Start Date": "start_date",
        "Leaving Date": "leaving_date",
    },
    ("Worker ID", "Employer Code", "Main Job Role", "Start Date"),
)

ESTABLISHMENT = Format(
    "establishment",
    "Establishment",
    {
        "Organisation Code": "organisation",
        "Organisation Kind": "pooled_kind",
        "Team": "team",
        "Staff Group": "staff_group",
        "Role": "role",
        "Funded WTE": "funded_wte",
    },
    ("Staff Group", "Funded WTE"),
)

FORMATS = {f.key: f for f in (ESR, SOCIAL_CARE, ESTABLISHMENT)}


def _clean(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):  # XLSX datetimes
        return value.date().isoformat()  # type: ignore[no-any-return]
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(path: Path, content: bytes | None) -> Iterator[list[str]]:
    if path.suffix.lower() == ".xlsx":
        book = load_workbook(io.BytesIO(content) if content is not None else path, read_only=True)
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_clean(v) for v in values]
        book.close()
        return
    if path.suffix.lower() != ".csv":
        raise InvalidInput("the extract must be a .csv or .xlsx file", where=path.name)
    raw = content if content is not None else path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV file is not UTF-8 text", where=path.name) from None
    yield from csv.reader(io.StringIO(text, newline=""))


def read_rows(
    path: Path, fmt: Format, *, content: bytes | None = None
) -> Iterator[tuple[int, Row, str]]:
    """(line number, fields, the raw line) for every row after the heading.

    A row with the wrong number of values still comes through, its field ``_width``
    set, so the service can keep it with its reason; blank lines are skipped.
    """
    table = _table(path, content)
    heading = next(table, None)
    if heading is None:
        raise InvalidInput("the extract is empty", where=path.name)
    heading = [h.strip() for h in heading]
    while heading and not heading[-1]:
        heading.pop()
    missing = [h for h in fmt.required if h not in heading]
    if missing:
        raise InvalidInput(
            f"the {fmt.label} needs the column(s) {', '.join(missing)}", where=f"{path.name}:1"
        )
    fields = [fmt.columns.get(h, "") for h in heading]
    for line, values in enumerate(table, start=2):
        if not any(v.strip() for v in values):
            continue
        raw = ",".join(values)
        trimmed = list(values)
        while len(trimmed) > len(heading) and not trimmed[-1].strip():
            trimmed.pop()
        row = {f: v.strip() for f, v in zip(fields, trimmed, strict=False) if f}
        if len(trimmed) != len(heading):
            row["_width"] = f"{len(trimmed)} values for {len(heading)} columns"
        yield line, row, raw
