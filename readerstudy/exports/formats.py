"""Serialisations of the READS table: CSV, Parquet, JSON, iMRMC and MRMCaov/RJafroc inputs."""

import io
import json

import pandas as pd

ANALYSIS_COLUMNS = ["reader", "case", "condition", "truth", "decision", "rating"]
FORMATS = {
    "csv": ("text/csv", "csv"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "json": ("application/json", "json"),
    "imrmc": ("text/plain", "imrmc"),
    "mrmcaov": ("text/csv", "mrmcaov.csv"),
}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """JSON-like columns as JSON text and times as ISO strings, for flat formats."""
    out = frame.copy()
    for column in ("assistance_shown", "answers"):
        if column in out:
            out[column] = out[column].map(
                lambda v: "" if v is None else json.dumps(v, sort_keys=True)
            )
    for column in ("started_at", "locked_at"):
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
    reads = frame[frame["condition"].isin(["unaided", "aided"])].dropna(subset=["rating"])
    if "truth" not in reads or reads["truth"].isna().any():
        raise ValueError("MRMC formats need ground truth for every read case")
    return reads


def to_imrmc(frame: pd.DataFrame) -> bytes:
    """iMRMC input: a header, BEGIN DATA:, truth rows (reader -1) then reader,case,modality,score."""
    reads = _rating_reads(frame)
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
        f"-1,{case},0,{t}"
        for case, t in zip(truth["case"], truth["truth"].astype(int).tolist(), strict=True)
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


def to_mrmcaov(frame: pd.DataFrame) -> bytes:
    """Long table for MRMCaov (and RJafroc via a data frame): reader, treatment, case, truth, rating."""
    reads = _rating_reads(frame)
    table = reads.rename(columns={"condition": "treatment"})[
        ["reader", "treatment", "case", "truth", "rating"]
    ].astype({"truth": int})
    return table.to_csv(index=False).encode()


WRITERS = {
    "csv": to_csv,
    "parquet": to_parquet,
    "json": to_json,
    "imrmc": to_imrmc,
    "mrmcaov": to_mrmcaov,
}
