"""The FROC analysis of a study's marks, run as an analysis run (``options["froc"]``): the
study's RJafroc workbook, the figure of merit (wAFROC by default) with OR (and DBM), the
report.json of ``python -m readerstudy.analysis froc`` and its curves."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from readerstudy.studies.errors import ProtocolConflict

from .froc_data import froc_data
from .models import AnalysisRun

FROC_OPTIONS = {"fom": None, "method": "OR", "varcomp": "readerstudy", "level": 0.95}


def build_froc(
    run: AnalysisRun,
    names: list[str],
    steps: dict[str, float],
    store: Callable[[AnalysisRun, list[Path], list[str]], None],
) -> dict:
    from readerstudy.analysis.froc import froc_analysis
    from readerstudy.analysis.froc_io import FrocDataError, read_froc_xlsx
    from readerstudy.analysis.froc_report import write_froc_report

    options = {**FROC_OPTIONS, **(run.options.get("froc") or {})}
    t = time.perf_counter()
    run.progress(AnalysisRun.Phase.INPUTS, done=0, total=0)
    data = froc_data(run.study)
    workbook = data.xlsx()
    steps["inputs_s"] = time.perf_counter() - t
    t = time.perf_counter()
    run.progress(AnalysisRun.Phase.STATISTICS)
    try:
        dataset = read_froc_xlsx(workbook)
        analysis = froc_analysis(
            dataset,
            options["fom"],
            options["method"],
            level=options["level"],
            varcomp=options["varcomp"],
        )
    except FrocDataError as exc:
        raise ProtocolConflict("invalid_froc_data", str(exc)) from None
    except ValueError as exc:
        raise ProtocolConflict("froc_refused", str(exc)) from None
    steps["statistics_s"] = time.perf_counter() - t
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        paths = write_froc_report(analysis, out, ("png", "svg"), source=f"study {run.study_id}")
        (out / "froc-data.xlsx").write_bytes(workbook)
        store(run, sorted({*paths, out / "froc-data.xlsx"}), names)
    steps["files_s"] = time.perf_counter() - t
    result = analysis.to_dict()
    rrrc = result["or_rrrc"]
    return {
        "kind": "froc",
        "scoring": data.settings,
        "fom_name": result["fom_name"],
        "method": result["method"],
        "modalities": result["modalities"],
        "readers": result["readers"],
        "n_normal_cases": result["n_normal_cases"],
        "n_diseased_cases": result["n_diseased_cases"],
        "n_lesions": result["n_lesions"],
        "means": result["means"],
        "or_rrrc": {k: rrrc[k] for k in ("F", "df1", "ddf", "p")} | {"diffs": rrrc["diffs"]},
    }
