"""Label CSVs read the same way from a path (the command line) or an uploaded file (the web)."""

import csv
import io
from pathlib import Path

from readerstudy.core.jsontext import text_problem

from .errors import LabelError


def _text(source) -> str:
    try:
        data = Path(source).read_bytes() if isinstance(source, str | Path) else source.read()
    except OSError as exc:
        raise LabelError([f"the CSV cannot be read: {exc.strerror or exc}"]) from None
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")  # spreadsheets often write a byte order mark
    except UnicodeDecodeError:
        raise LabelError(["the CSV is not UTF-8 text"]) from None


def read_csv(source) -> tuple[list[str], list[tuple[int, dict]]]:
    """Header and ``(line number, row)`` of each record of a UTF-8 CSV. Raises LabelError."""
    reader = csv.DictReader(io.StringIO(_text(source), newline=""))
    try:
        header = [name for name in (reader.fieldnames or []) if name]
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise LabelError([f"line {reader.line_num}: the CSV cannot be read ({exc})"]) from None
    for name in header:
        problem = text_problem(name)
        if problem:
            raise LabelError([f"line 1: a column name {problem}"])
    return header, rows
