"""FROC / LROC data in RJafroc's data file layout: reading, validating and writing.

Layout (``.xlsx`` workbook, sheet names matched case-insensitively, in any order):

* ``TRUTH``: ``CaseID, LesionID, Weight, ReaderID, ModalityID, Paradigm``. One row per
  non-diseased case (``LesionID`` 0, ``Weight`` 0) and one per lesion of a diseased case
  (``LesionID`` 1..n). A case's weights sum to 1; all zeros mean equal weights; a sum within
  0.99-1.01 is rescaled to 1. ``ReaderID`` / ``ModalityID`` are comma-separated lists
  (``"1,3,4,5"``); ``Paradigm`` holds ``FROC`` or ``LROC`` in row 1 and ``FCTRL`` in row 2.
  Older files have only the first three columns: a fully crossed FROC study whose readers and
  modalities are those found in the mark sheets.
* ``FP`` or ``NL``: ``ReaderID, ModalityID, CaseID, FP_Rating``, one row per non-lesion mark.
* ``TP`` or ``LL``: ``ReaderID, ModalityID, CaseID, LesionID, TP_Rating``, one row per marked
  lesion.

The rating column is read by position (the 4th of ``FP``, the 5th of ``TP``; older files call it
``NLRating`` / ``LLRating``); the ID columns by name. IDs are labels: ``1``, ``1.0`` and ``"1"``
are the same. Extra columns are ignored. In an LROC file every case carries at most one mark: a
``TP`` row is a correct localisation, an ``FP`` row on a diseased case an incorrect one.

The directory form holds ``TRUTH.csv``, ``NL.csv`` (or ``FP.csv``) and ``LL.csv`` (or ``TP.csv``)
with the same columns. :func:`records_to_xlsx` / :func:`records_to_csv_dir` write the layout
from plain records (the platform's export of a study's marks).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .reads import natural_sorted

PARADIGMS = ("FROC", "LROC")
_MAX_ERRORS = 50
_SHEETS = {"TRUTH": ("TRUTH",), "NL": ("NL", "FP"), "LL": ("LL", "TP")}
_DISPLAY = {"TRUTH": "TRUTH", "NL": "FP/NL", "LL": "TP/LL"}
Cell = Any
Table = list[list[Cell]]


class FrocDataError(ValueError):
    """The data file is not a valid FROC/LROC file; ``errors`` lists every problem found."""

    def __init__(self, errors: Sequence[str], source: str = "") -> None:
        self.errors = list(errors)
        self.source = source
        head = f"invalid FROC data file {source}".rstrip() + ":"
        shown = self.errors[:_MAX_ERRORS]
        more = len(self.errors) - len(shown)
        lines = [head, *(f"  - {e}" for e in shown)]
        if more > 0:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class FrocDataset:
    """A validated, fully crossed FROC or LROC study.

    Cases are ordered non-diseased first (``normal_cases``), then diseased
    (``diseased_cases``); case index ``k`` runs over that order. Marks are stored as parallel
    arrays; ``nl_*`` index all cases, ``ll_k2`` indexes diseased cases and ``ll_l`` the position
    of the lesion in ``lesion_ids[k2]``.
    """

    paradigm: str
    modalities: list[str]
    readers: list[str]
    normal_cases: list[str]
    diseased_cases: list[str]
    lesion_ids: list[list[int]]
    lesion_weights: list[list[float]]
    nl_m: np.ndarray
    nl_r: np.ndarray
    nl_k: np.ndarray
    nl_rating: np.ndarray
    ll_m: np.ndarray
    ll_r: np.ndarray
    ll_k2: np.ndarray
    ll_l: np.ndarray
    ll_rating: np.ndarray

    @property
    def k1(self) -> int:
        return len(self.normal_cases)

    @property
    def k2(self) -> int:
        return len(self.diseased_cases)

    @property
    def cases(self) -> list[str]:
        return [*self.normal_cases, *self.diseased_cases]

    @property
    def lesions_per_case(self) -> np.ndarray:
        return np.array([len(x) for x in self.lesion_ids], dtype=int)

    @property
    def max_lesions(self) -> int:
        return max((len(x) for x in self.lesion_ids), default=0)

    def weight_matrix(self) -> np.ndarray:
        """(K2, Lmax) lesion weights, 0 where a case has fewer lesions."""
        w = np.zeros((self.k2, max(self.max_lesions, 1)))
        for k, ws in enumerate(self.lesion_weights):
            w[k, : len(ws)] = ws
        return w

    def nl_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(I, J, K) highest NL rating per case (-inf if none) and NL mark counts."""
        shape = (len(self.modalities), len(self.readers), self.k1 + self.k2)
        top = np.full(shape, -np.inf)
        count = np.zeros(shape, dtype=int)
        np.maximum.at(top, (self.nl_m, self.nl_r, self.nl_k), self.nl_rating)
        np.add.at(count, (self.nl_m, self.nl_r, self.nl_k), 1)
        return top, count

    def ll_array(self) -> np.ndarray:
        """(I, J, K2, Lmax) lesion ratings, -inf for unmarked (and absent) lesions."""
        shape = (len(self.modalities), len(self.readers), self.k2, max(self.max_lesions, 1))
        ll = np.full(shape, -np.inf)
        ll[self.ll_m, self.ll_r, self.ll_k2, self.ll_l] = self.ll_rating
        return ll


# --- cell helpers ---------------------------------------------------------------------------


def _blank(v: Cell) -> bool:
    return (
        v is None
        or (isinstance(v, str) and not v.strip())
        or (isinstance(v, float) and math.isnan(v))
    )


def _label(v: Cell) -> str | None:
    """An ID cell as a label: 1, 1.0 and '1' are the same; None when blank."""
    if _blank(v):
        return None
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    s = str(v).strip()
    if re.fullmatch(r"[+-]?\d+\.0*", s):
        return str(int(float(s)))
    return s


def _number(v: Cell) -> float | None:
    if _blank(v) or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v).strip())
    except ValueError:
        return None


def _norm(name: Cell) -> str:
    return re.sub(r"[\s_]", "", str(name or "")).lower()


def _id_list(v: Cell) -> list[str]:
    if _blank(v):
        return []
    if isinstance(v, int | float) and not isinstance(v, bool):
        return [_label(v) or ""]
    return [x for x in (_label(p) for p in str(v).split(",")) if x]


# --- reading --------------------------------------------------------------------------------


def _pick_sheets(names: Iterable[str], source: str) -> dict[str, str]:
    """Map TRUTH/NL/LL to the actual sheet (or file stem) names, case-insensitively."""
    by_upper: dict[str, str] = {}
    for n in names:
        by_upper.setdefault(n.strip().upper(), n)
    picked, errors = {}, []
    for key, options in _SHEETS.items():
        found = [by_upper[o] for o in options if o in by_upper]
        if not found:
            errors.append(
                f"missing sheet {' or '.join(options)} (found: {', '.join(sorted(names)) or 'none'})"
            )
        elif len(found) > 1:
            errors.append(f"both sheets {' and '.join(found)} present; keep one")
        else:
            picked[key] = found[0]
    if errors:
        raise FrocDataError(errors, source)
    return picked


def read_froc_xlsx(source: str | Path | bytes) -> FrocDataset:
    """Read an RJafroc-layout ``.xlsx`` workbook (path or bytes)."""
    from openpyxl import load_workbook

    label = "<bytes>" if isinstance(source, bytes) else str(source)
    stream: Any = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        wb = load_workbook(stream, read_only=True, data_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # openpyxl raises several types for non-xlsx input
        raise FrocDataError([f"cannot open as an .xlsx workbook: {exc}"], label) from exc
    try:
        picked = _pick_sheets(wb.sheetnames, label)
        tables = {
            key: [list(row) for row in wb[name].iter_rows(values_only=True)]
            for key, name in picked.items()
        }
    finally:
        wb.close()
    return parse_tables(tables["TRUTH"], tables["NL"], tables["LL"], label, picked)


def read_froc_dir(path: str | Path) -> FrocDataset:
    """Read the directory form: ``TRUTH.csv``, ``NL.csv``/``FP.csv``, ``LL.csv``/``TP.csv``."""
    path = Path(path)
    files = {p.stem: p for p in path.iterdir() if p.suffix.lower() == ".csv"}
    picked = _pick_sheets(files, str(path))
    tables: dict[str, Table] = {}
    for key, stem in picked.items():
        with files[stem].open(newline="", encoding="utf-8-sig") as fh:
            tables[key] = [list(row) for row in csv.reader(fh)]
    names = {k: files[v].name for k, v in picked.items()}
    return parse_tables(tables["TRUTH"], tables["NL"], tables["LL"], str(path), names)


def read_froc(path: str | Path) -> FrocDataset:
    """Read a FROC/LROC study from an ``.xlsx`` file or a directory of CSV files."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    return read_froc_dir(path) if path.is_dir() else read_froc_xlsx(path)


def _columns(
    header: list[Cell], wanted: Mapping[str, tuple[str, ...]], sheet: str, errors: list[str]
) -> dict[str, int]:
    names = [_norm(h) for h in header]
    cols: dict[str, int] = {}
    for key, aliases in wanted.items():
        hit = [i for i, n in enumerate(names) if n in aliases]
        if hit:
            cols[key] = hit[0]
        else:
            errors.append(f"sheet {sheet}: missing column {key}")
    return cols


def _cell(row: list[Cell], i: int) -> Cell:
    return row[i] if i < len(row) else None


@dataclass
class _Truth:
    """What the TRUTH sheet says, collected row by row."""

    sheet: str
    paradigm_cells: list[str] = field(default_factory=list)
    reader_lists: list[tuple[int, list[str]]] = field(default_factory=list)
    modality_lists: list[tuple[int, list[str]]] = field(default_factory=list)
    seen: dict[tuple[str, int], int] = field(default_factory=dict)
    normal: dict[str, int] = field(default_factory=dict)
    lesions: dict[str, list[tuple[int, float, int]]] = field(default_factory=dict)


def _truth_row(
    tr: _Truth,
    r: int,
    row: list[Cell],
    tc: dict[str, int],
    extra: dict[str, int],
    errors: list[str],
) -> None:
    if "paradigm" in extra and not _blank(_cell(row, extra["paradigm"])):
        tr.paradigm_cells.append(str(_cell(row, extra["paradigm"])).strip().upper())
    core = [_cell(row, tc[k]) for k in ("CaseID", "LesionID", "Weight")]
    if all(_blank(v) for v in core):
        return
    where = f"sheet {tr.sheet}, row {r}"
    n0 = len(errors)
    case = _label(core[0])
    lid_num = _number(core[1])
    weight = 0.0 if _blank(core[2]) else _number(core[2])
    if case is None:
        errors.append(f"{where}, column CaseID: empty")
    if lid_num is None or not float(lid_num).is_integer() or lid_num < 0:
        errors.append(f"{where}, column LesionID: {core[1]!r} is not an integer >= 0")
    if weight is None or not math.isfinite(weight) or weight < 0:
        errors.append(f"{where}, column Weight: {core[2]!r} is not a number >= 0")
    for key, col, store in (
        ("readerid", "ReaderID", tr.reader_lists),
        ("modalityid", "ModalityID", tr.modality_lists),
    ):
        if key in extra:
            ids = _id_list(_cell(row, extra[key]))
            if not ids:
                errors.append(f"{where}, column {col}: empty")
            store.append((r, ids))
    if len(errors) > n0 or case is None or lid_num is None or weight is None:
        return
    lid = int(lid_num)
    if (case, lid) in tr.seen:
        errors.append(f"{where}: CaseID {case} LesionID {lid} repeats row {tr.seen[(case, lid)]}")
        return
    tr.seen[(case, lid)] = r
    if lid == 0:
        tr.normal[case] = r
    else:
        tr.lesions.setdefault(case, []).append((lid, weight, r))


def _paradigm(tr: _Truth, has_column: bool, errors: list[str]) -> str:
    if not has_column:
        return "FROC"
    if not tr.paradigm_cells:
        errors.append(f"sheet {tr.sheet}, column Paradigm: empty (row 2 must be FROC or LROC)")
        return "FROC"
    paradigm = tr.paradigm_cells[0]
    if paradigm not in PARADIGMS:
        errors.append(
            f"sheet {tr.sheet}, row 2, column Paradigm: {paradigm!r} is not supported "
            "(FROC or LROC; ROC data: use the 'report' command)"
        )
    design = tr.paradigm_cells[1] if len(tr.paradigm_cells) > 1 else "FCTRL"
    if design not in ("FCTRL", "CROSSED"):
        errors.append(
            f"sheet {tr.sheet}, row 3, column Paradigm: design {design!r} is not supported "
            "(only FCTRL, fully crossed)"
        )
    return paradigm


def _common_ids(
    lists: list[tuple[int, list[str]]], sheet: str, col: str, errors: list[str]
) -> list[str] | None:
    """The reader (modality) list shared by every TRUTH row; None without the column."""
    if not lists:
        return None
    first = lists[0][1]
    for r, ids in lists[1:]:
        if set(ids) != set(first):
            errors.append(
                f"sheet {sheet}, row {r}, column {col}: {','.join(ids)} differs from "
                f"{','.join(first)} in row {lists[0][0]}; only fully crossed (FCTRL) designs "
                "are supported"
            )
            break
    dup = sorted({x for x in first if first.count(x) > 1})
    if dup:
        errors.append(f"sheet {sheet}, row {lists[0][0]}, column {col}: repeated {dup}")
    return list(dict.fromkeys(first))


def _lesion_table(
    tr: _Truth, paradigm: str, errors: list[str]
) -> tuple[list[str], list[list[int]], list[list[float]]]:
    """Diseased cases, their lesion IDs (sorted) and weights (normalised to sum 1)."""
    cases = list(tr.lesions)
    ids_out: list[list[int]] = []
    w_out: list[list[float]] = []
    for case in cases:
        items = sorted(tr.lesions[case])
        ws = np.array([w for _, w, _ in items])
        total = float(ws.sum())
        rows = ", ".join(str(x[2]) for x in items)
        if total == 0:
            ws = np.full(len(items), 1.0 / len(items))
        elif 0.99 <= total <= 1.01:
            ws = ws / total
        else:
            errors.append(
                f"sheet {tr.sheet}, rows {rows}, column Weight: the weights of CaseID {case} "
                f"sum to {total:g} (must be 1, or all 0 for equal weights)"
            )
        if paradigm == "LROC" and len(items) > 1:
            errors.append(
                f"sheet {tr.sheet}, rows {rows}: LROC diseased CaseID {case} has {len(items)} "
                "lesions (LROC allows exactly one)"
            )
        ids_out.append([lid for lid, _, _ in items])
        w_out.append([float(w) for w in ws])
    return cases, ids_out, w_out


@dataclass
class _Index:
    sheet: str
    paradigm: str
    readers: dict[str, int]
    modalities: dict[str, int]
    cases: dict[str, int]
    diseased: dict[str, int]
    lesions: list[dict[int, int]]
    per_case: dict[tuple[int, int, int], tuple[str, int]] = field(default_factory=dict)

    def ids_ok(
        self, sheet: str, row: int, reader: str, modality: str, case: str, errors: list[str]
    ) -> bool:
        where = f"sheet {sheet}, row {row}"
        n0 = len(errors)
        if reader not in self.readers:
            errors.append(f"{where}, column ReaderID: reader {reader} is not in TRUTH's ReaderID")
        if modality not in self.modalities:
            errors.append(
                f"{where}, column ModalityID: modality {modality} is not in TRUTH's ModalityID"
            )
        if case not in self.cases:
            errors.append(f"{where}, column CaseID: case {case} is not in sheet {self.sheet}")
        return len(errors) == n0

    def one_per_case(
        self, key: tuple[int, int, int], sheet: str, row: int, what: str, errors: list[str]
    ) -> bool:
        """LROC: at most one mark per reader x modality x case."""
        if self.paradigm != "LROC":
            return True
        if key in self.per_case:
            s, r = self.per_case[key]
            errors.append(
                f"sheet {sheet}, row {row}: second mark for {what} (LROC allows one mark per "
                f"case; the other is in sheet {s} row {r})"
            )
            return False
        self.per_case[key] = (sheet, row)
        return True


def _nl_marks(
    rows: list[tuple[int, str, str, str, int | None, float]],
    ix: _Index,
    sheet: str,
    errors: list[str],
) -> list[tuple[int, int, int, float]]:
    out: list[tuple[int, int, int, float]] = []
    for row, reader, modality, case, _, rating in rows:
        if not ix.ids_ok(sheet, row, reader, modality, case, errors):
            continue
        key = (ix.modalities[modality], ix.readers[reader], ix.cases[case])
        what = f"reader {reader}, modality {modality}, case {case}"
        if ix.one_per_case(key, sheet, row, what, errors):
            out.append((*key, rating))
    return out


def _ll_marks(
    rows: list[tuple[int, str, str, str, int | None, float]],
    ix: _Index,
    sheet: str,
    lesion_ids: list[list[int]],
    errors: list[str],
) -> list[tuple[int, int, int, int, float]]:
    out: list[tuple[int, int, int, int, float]] = []
    seen: dict[tuple[int, int, int, int], int] = {}
    for row, reader, modality, case, lesion, rating in rows:
        if not ix.ids_ok(sheet, row, reader, modality, case, errors):
            continue
        where = f"sheet {sheet}, row {row}"
        if case not in ix.diseased:
            errors.append(
                f"{where}, column CaseID: case {case} is non-diseased (LesionID 0 in "
                f"{ix.sheet}); lesion marks need a diseased case"
            )
            continue
        k2 = ix.diseased[case]
        if lesion is None or lesion not in ix.lesions[k2]:
            errors.append(
                f"{where}, column LesionID: case {case} has no lesion {lesion} in {ix.sheet} "
                f"(lesions: {', '.join(map(str, lesion_ids[k2]))})"
            )
            continue
        m, r = ix.modalities[modality], ix.readers[reader]
        key4 = (m, r, k2, ix.lesions[k2][lesion])
        if key4 in seen:
            errors.append(
                f"{where}: lesion {lesion} of case {case} marked twice by reader {reader} in "
                f"modality {modality} (first in row {seen[key4]})"
            )
            continue
        seen[key4] = row
        what = f"reader {reader}, modality {modality}, case {case}"
        if ix.one_per_case((m, r, ix.cases[case]), sheet, row, what, errors):
            out.append((*key4, rating))
    return out


def _columns_of(rows: Sequence[tuple[Any, ...]], n: int) -> list[np.ndarray]:
    if not rows:
        return [np.zeros(0, dtype=int)] * (n - 1) + [np.zeros(0)]
    cols = list(zip(*rows, strict=True))
    return [np.asarray(c, dtype=int) for c in cols[:-1]] + [np.asarray(cols[-1], float)]


def parse_tables(
    truth: Table,
    nl: Table,
    ll: Table,
    source: str = "",
    sheet_names: Mapping[str, str] | None = None,
) -> FrocDataset:
    """Validate raw sheet rows (header first) and build a :class:`FrocDataset`.

    Errors name the sheet, the spreadsheet row (the header is row 1) and the column."""
    names = {k: (sheet_names or {}).get(k, _DISPLAY[k]) for k in _SHEETS}
    errors: list[str] = []
    t_sheet = names["TRUTH"]
    if not truth:
        raise FrocDataError([f"sheet {t_sheet} is empty"], source)
    wanted = {"CaseID": ("caseid",), "LesionID": ("lesionid",), "Weight": ("weight",)}
    tc = _columns(truth[0], wanted, t_sheet, errors)
    hnames = [_norm(h) for h in truth[0]]
    extra = {k: hnames.index(k) for k in ("readerid", "modalityid", "paradigm") if k in hnames}
    if errors:
        raise FrocDataError(errors, source)
    tr = _Truth(t_sheet)
    for r, row in enumerate(truth[1:], start=2):
        _truth_row(tr, r, row, tc, extra, errors)
    for case in sorted(set(tr.normal) & set(tr.lesions)):
        errors.append(
            f"sheet {t_sheet}, row {tr.normal[case]}: CaseID {case} has LesionID 0 "
            f"(non-diseased) and lesions (rows {', '.join(str(x[2]) for x in tr.lesions[case])})"
        )
    paradigm = _paradigm(tr, "paradigm" in extra, errors)
    readers = _common_ids(tr.reader_lists, t_sheet, "ReaderID", errors)
    modalities = _common_ids(tr.modality_lists, t_sheet, "ModalityID", errors)
    diseased, lesion_ids, lesion_weights = _lesion_table(tr, paradigm, errors)
    normal = list(tr.normal)
    if not normal and not diseased and not errors:
        errors.append(f"sheet {t_sheet}: no cases")
    nl_rows = _parse_marks(nl, names["NL"], False, errors)
    ll_rows = _parse_marks(ll, names["LL"], True, errors)
    all_marks = nl_rows + ll_rows
    readers = readers if readers is not None else natural_sorted([m[1] for m in all_marks])
    modalities = modalities if modalities is not None else natural_sorted([m[2] for m in all_marks])
    if (not readers or not modalities) and not errors:
        errors.append("no readers or modalities: TRUTH has no ReaderID/ModalityID and no marks")
    ix = _Index(
        t_sheet,
        paradigm,
        {x: i for i, x in enumerate(readers)},
        {x: i for i, x in enumerate(modalities)},
        {c: i for i, c in enumerate(normal + diseased)},
        {c: i for i, c in enumerate(diseased)},
        [{lid: p for p, lid in enumerate(ids)} for ids in lesion_ids],
    )
    nl_arr = _nl_marks(nl_rows, ix, names["NL"], errors)
    ll_arr = _ll_marks(ll_rows, ix, names["LL"], lesion_ids, errors)
    if errors:
        raise FrocDataError(errors, source)
    nm, nr, nk, nrat = _columns_of(nl_arr, 4)
    lm, lr, lk2, lpos, lrat = _columns_of(ll_arr, 5)
    return FrocDataset(
        paradigm,
        list(modalities),
        list(readers),
        normal,
        diseased,
        lesion_ids,
        lesion_weights,
        nm,
        nr,
        nk,
        nrat,
        lm,
        lr,
        lk2,
        lpos,
        lrat,
    )


def _parse_marks(
    table: Table, sheet: str, lesion: bool, errors: list[str]
) -> list[tuple[int, str, str, str, int | None, float]]:
    """(row, reader, modality, case, lesion, rating) of every non-blank mark row."""
    if not table:
        errors.append(f"sheet {sheet} is empty (it needs at least the header row)")
        return []
    wanted = {"ReaderID": ("readerid",), "ModalityID": ("modalityid",), "CaseID": ("caseid",)}
    if lesion:
        wanted["LesionID"] = ("lesionid",)
    n0 = len(errors)
    cols = _columns(table[0], wanted, sheet, errors)
    if len(errors) > n0:
        return []
    rating_col = 4 if lesion else 3
    rating_name = _label(_cell(table[0], rating_col)) or f"column {rating_col + 1}"
    out: list[tuple[int, str, str, str, int | None, float]] = []
    for r, row in enumerate(table[1:], start=2):
        cells = [_cell(row, i) for i in (*cols.values(), rating_col)]
        if all(_blank(v) for v in cells):
            continue
        where = f"sheet {sheet}, row {r}"
        ids = {k: _label(_cell(row, i)) for k, i in cols.items()}
        bad = False
        for k, v in ids.items():
            if v is None:
                errors.append(f"{where}, column {k}: empty")
                bad = True
        lid: int | None = None
        if lesion and ids.get("LesionID") is not None:
            num = _number(_cell(row, cols["LesionID"]))
            if num is None or not num.is_integer() or num < 1:
                errors.append(f"{where}, column LesionID: {ids['LesionID']!r} is not >= 1")
                bad = True
            else:
                lid = int(num)
        raw = _cell(row, rating_col)
        rating = _number(raw)
        if rating is None or not math.isfinite(rating):
            errors.append(f"{where}, column {rating_name}: {raw!r} is not a finite number")
            bad = True
        if bad or rating is None:
            continue
        out.append(
            (r, str(ids["ReaderID"]), str(ids["ModalityID"]), str(ids["CaseID"]), lid, rating)
        )
    return out


# --- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TruthRecord:
    """One TRUTH row: ``lesion`` 0 for a non-diseased case, 1..n for a diseased case's lesions."""

    case: str
    lesion: int = 0
    weight: float = 0.0


@dataclass(frozen=True)
class MarkRecord:
    """One mark: ``lesion`` 0 = non-lesion (FP/NL) mark, else the marked lesion's ID."""

    reader: str
    modality: str
    case: str
    rating: float
    lesion: int = 0


def _get(rec: object, key: str, default: object = None) -> Any:
    if isinstance(rec, Mapping):
        return rec.get(key, default)
    return getattr(rec, key, default)


def _out_id(v: object) -> Cell:
    """Numeric-looking IDs as integers (as RJafroc's files hold them), others as text."""
    s = _label(v)
    if s is not None and re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    return s


def build_tables(
    truth: Iterable[TruthRecord | Mapping[str, Any]],
    marks: Iterable[MarkRecord | Mapping[str, Any]],
    readers: Sequence[str],
    modalities: Sequence[str],
    paradigm: str = "FROC",
) -> dict[str, Table]:
    """The three sheets (header row first) for plain records.

    ``truth`` records: ``case, lesion, weight``; ``marks``: ``reader, modality, case, rating,
    lesion`` (lesion 0 or missing = non-lesion mark). Readers and modalities go into TRUTH's
    comma-separated lists in the order given."""
    paradigm = paradigm.upper()
    if paradigm not in PARADIGMS:
        raise ValueError(f"paradigm must be one of {PARADIGMS}, not {paradigm!r}")
    rdr = ",".join(str(_label(x)) for x in readers)
    mod = ",".join(str(_label(x)) for x in modalities)
    t: Table = [["CaseID", "LesionID", "Weight", "ReaderID", "ModalityID", "Paradigm"]]
    for i, trec in enumerate(truth):
        lesion = int(_get(trec, "lesion", 0) or 0)
        weight = float(_get(trec, "weight", 0.0) or 0.0)
        para = paradigm if i == 0 else ("FCTRL" if i == 1 else None)
        t.append([_out_id(_get(trec, "case")), lesion, weight, rdr, mod, para])
    if len(t) == 2:  # a single case: the design still needs its row
        t.append([None, None, None, None, None, "FCTRL"])
    nl: Table = [["ReaderID", "ModalityID", "CaseID", "FP_Rating"]]
    ll: Table = [["ReaderID", "ModalityID", "CaseID", "LesionID", "TP_Rating"]]
    for rec in marks:
        ids = [_out_id(_get(rec, k)) for k in ("reader", "modality", "case")]
        rating = float(_get(rec, "rating"))
        lesion = int(_get(rec, "lesion", 0) or 0)
        if lesion:
            ll.append([*ids, lesion, rating])
        else:
            nl.append([*ids, rating])
    return {"TRUTH": t, "FP": nl, "TP": ll}


def tables_to_xlsx(tables: Mapping[str, Table]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    first = True
    for name, rows in tables.items():
        ws = wb.active if first else wb.create_sheet()
        assert ws is not None
        ws.title = name
        first = False
        for row in rows:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def tables_to_csv_dir(tables: Mapping[str, Table], path: str | Path) -> list[Path]:
    """Write ``TRUTH.csv``, ``NL.csv`` and ``LL.csv`` (the FP/TP sheets) into ``path``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    out = []
    for name, rows in tables.items():
        stem = {"FP": "NL", "TP": "LL"}.get(name.upper(), name.upper())
        p = path / f"{stem}.csv"
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            for row in rows:
                w.writerow(["" if v is None else _fmt(v) for v in row])
        out.append(p)
    return out


def _fmt(v: Cell) -> str:
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() else repr(v)
    return str(v)


def records_to_xlsx(
    truth: Iterable[TruthRecord | Mapping[str, Any]],
    marks: Iterable[MarkRecord | Mapping[str, Any]],
    readers: Sequence[str],
    modalities: Sequence[str],
    paradigm: str = "FROC",
) -> bytes:
    """RJafroc-layout workbook (``.xlsx`` bytes) for plain records; see :func:`build_tables`."""
    return tables_to_xlsx(build_tables(truth, marks, readers, modalities, paradigm))


def records_to_csv_dir(
    truth: Iterable[TruthRecord | Mapping[str, Any]],
    marks: Iterable[MarkRecord | Mapping[str, Any]],
    readers: Sequence[str],
    modalities: Sequence[str],
    path: str | Path,
    paradigm: str = "FROC",
) -> list[Path]:
    """The directory form (``TRUTH.csv``, ``NL.csv``, ``LL.csv``) for plain records."""
    return tables_to_csv_dir(build_tables(truth, marks, readers, modalities, paradigm), path)


def dataset_records(ds: FrocDataset) -> tuple[list[TruthRecord], list[MarkRecord]]:
    """The records a dataset was built from (for re-export)."""
    truth = [TruthRecord(c, 0, 0.0) for c in ds.normal_cases]
    for c, ids, ws in zip(ds.diseased_cases, ds.lesion_ids, ds.lesion_weights, strict=True):
        truth += [TruthRecord(c, lid, w) for lid, w in zip(ids, ws, strict=True)]
    cases = ds.cases
    marks = [
        MarkRecord(ds.readers[r], ds.modalities[m], cases[k], float(x))
        for m, r, k, x in zip(ds.nl_m, ds.nl_r, ds.nl_k, ds.nl_rating, strict=True)
    ]
    marks += [
        MarkRecord(
            ds.readers[r], ds.modalities[m], ds.diseased_cases[k2], float(x), ds.lesion_ids[k2][lp]
        )
        for m, r, k2, lp, x in zip(ds.ll_m, ds.ll_r, ds.ll_k2, ds.ll_l, ds.ll_rating, strict=True)
    ]
    return truth, marks
