"""Serialisations of the READS table: CSV, Parquet, JSON, iMRMC and MRMCaov/RJafroc inputs.

The MRMC formats hold the rated reads of one binary endpoint. A READS table with an
``endpoint`` column gives a zip with one file per binary analysis endpoint that has ratings
(``<endpoint>.imrmc`` / ``<endpoint>.mrmcaov.csv``) and a ``README.txt`` naming the endpoints
left out and why; there, as an endpoint may cover some cases only, reads of cases without truth
for an endpoint are left out of its file (and listed) instead of refusing the export.
"""

import io
import json
import zipfile

import pandas as pd

ANALYSIS_COLUMNS = ["reader", "case", "condition", "truth", "decision", "rating"]
FORMATS = {
    "csv": ("text/csv", "csv"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "json": ("application/json", "json"),
    "imrmc": ("text/plain", "imrmc"),
    "mrmcaov": ("text/csv", "mrmcaov.csv"),
}
MRMC_FORMATS = ("imrmc", "mrmcaov")
TABLE_FORMATS = ("csv", "parquet", "json")
ZIP = "application/zip"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON-like columns as JSON text and times as ISO strings, for flat formats."""
    out = frame.copy()
    for column in ("assistance_shown", "answers"):
        if column in out:
            out[column] = out[column].map(
                lambda v: "" if v is None else json.dumps(v, sort_keys=True)
            )
    for column in ("started_at", "locked_at", "server_time"):
        if column in out:
            out[column] = out[column].map(
                lambda v: "" if v is None or pd.isna(v) else v.isoformat()
            )
    return out


def to_csv(frame: pd.DataFrame) -> bytes:
    return _plain(frame).to_csv(index=False).encode()


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    _plain(frame).to_parquet(buffer, index=False)
    return buffer.getvalue()


def to_json(frame: pd.DataFrame) -> bytes:
    return _plain(frame).to_json(orient="records", indent=1).encode()


def _rating_reads(frame: pd.DataFrame) -> pd.DataFrame:
    """The readers' rated reads (the model's own reads are not an MRMC modality)."""
    reads = frame[frame["condition"] != "model"].dropna(subset=["rating"])
    if "truth" not in reads or reads["truth"].isna().any():
        raise ValueError("MRMC formats need ground truth for every read case")
    return reads.astype({"truth": int})


def _imrmc(reads: pd.DataFrame) -> bytes:
    truth = reads.drop_duplicates("case")[["case", "truth"]]
    lines = [
        "readerstudy export for iMRMC (scores: confidence rating 0-100)",
        f"NR: {reads['reader'].nunique()}",
        f"N0: {int((truth['truth'] == 0).sum())}",
        f"N1: {int((truth['truth'] == 1).sum())}",
        f"NM: {reads['condition'].nunique()}",
        "BEGIN DATA:",
    ]
    lines += [
        f"-1,{case},0,{t}" for case, t in zip(truth["case"], truth["truth"].tolist(), strict=True)
    ]
    lines += [
        f"{reader},{case},{condition},{rating:g}"
        for reader, case, condition, rating in zip(
            reads["reader"],
            reads["case"],
            reads["condition"],
            reads["rating"].astype(float).tolist(),
            strict=True,
        )
    ]
    return ("\n".join(lines) + "\n").encode()


def _mrmcaov(reads: pd.DataFrame) -> bytes:
    table = reads.rename(columns={"condition": "treatment"})[
        ["reader", "treatment", "case", "truth", "rating"]
    ]
    return table.to_csv(index=False).encode()


MRMC_WRITERS = {"imrmc": (_imrmc, "imrmc"), "mrmcaov": (_mrmcaov, "mrmcaov.csv")}


def _binary_truth(reads: pd.DataFrame) -> bool:
    return bool(reads["truth"].dropna().astype(str).isin(["0", "1"]).all())


def _endpoint_files(frame: pd.DataFrame, fmt: str) -> tuple[dict[str, bytes], list[str]]:
    write, extension = MRMC_WRITERS[fmt]
    files: dict[str, bytes] = {}
    left_out: list[str] = []
    for name, rows in frame.groupby("endpoint", sort=False):
        rated = rows[rows["condition"] != "model"].dropna(subset=["rating"])
        if not _binary_truth(rows):
            left_out.append(f"{name}: multi-class endpoint (MRMC ROC files are binary)")
        elif rated.empty:
            left_out.append(f"{name}: no confidence ratings")
        else:
            unknown = sorted(set(rated.loc[rated["truth"].isna(), "case"]))
            if unknown:
                left_out.append(
                    f"{name}: {len(unknown)} case(s) without truth: {', '.join(unknown)}"
                )
            files[f"{name}.{extension}"] = write(_rating_reads(rated.dropna(subset=["truth"])))
    return files, left_out


def _zip(frame: pd.DataFrame, fmt: str) -> bytes:
    if "truth" not in frame:
        raise ValueError("MRMC formats need ground truth for every read case")
    files, left_out = _endpoint_files(frame, fmt)
    if not files:
        raise ValueError("no binary endpoint has confidence ratings: " + "; ".join(left_out))
    readme = [f"readerstudy {fmt} files, one per binary endpoint with ratings:", *files]
    if left_out:
        readme += ["", "Left out:", *left_out]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "\n".join(readme) + "\n")
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def to_imrmc(frame: pd.DataFrame) -> bytes:
    """iMRMC input: a header, BEGIN DATA:, truth rows (reader -1) then reader,case,modality,score."""
    if "endpoint" in frame:
        return _zip(frame, "imrmc")
    return _imrmc(_rating_reads(frame))


def to_mrmcaov(frame: pd.DataFrame) -> bytes:
    """Long table for MRMCaov (and RJafroc via a data frame): reader, treatment, case, truth, rating."""
    if "endpoint" in frame:
        return _zip(frame, "mrmcaov")
    return _mrmcaov(_rating_reads(frame))


def media(fmt: str, frame: pd.DataFrame) -> tuple[str, str]:
    """Content type and file extension of ``fmt`` for this table (a zip per endpoint)."""
    if fmt in MRMC_FORMATS and "endpoint" in frame:
        return ZIP, f"{fmt}.zip"
    return FORMATS[fmt]


WRITERS = {
    "csv": to_csv,
    "parquet": to_parquet,
    "json": to_json,
    "imrmc": to_imrmc,
    "mrmcaov": to_mrmcaov,
}
