"""Reader-study statistics for readerstudy (no Django imports).

Main entry points::

    from readerstudy.analysis import build_report, ReportOptions
    report = build_report(reads_df, model_scores_df=None, options=ReportOptions())
    report.write(out_dir, formats=("json", "csv", "md", "html", "png", "svg"))

See docs/analysis.md for the statistics, the JSON keys and the CLI.
"""

from .agreement import cohen_kappa, dice, dice_summary, fleiss_kappa
from .delong import delong_ci, delong_cov, delong_paired
from .fom import MrmcDesignError
from .lmm import fit_lmm, reader_lmm
from .metrics import Confusion, confusion_metrics
from .mrmc import delong_per_reader, mrmc_analysis
from .operating_points import select_operating_point
from .performance import model_performance
from .power import OrVarianceComponents, or_power, or_sample_size
from .reads import ReadsValidationError, validate_reads, validate_scores
from .report import Report, ReportOptions, build_report
from .roc import empirical_auc, roc_curve

__all__ = [
    "Confusion",
    "MrmcDesignError",
    "OrVarianceComponents",
    "ReadsValidationError",
    "Report",
    "ReportOptions",
    "build_report",
    "cohen_kappa",
    "confusion_metrics",
    "delong_ci",
    "delong_cov",
    "delong_paired",
    "delong_per_reader",
    "dice",
    "dice_summary",
    "empirical_auc",
    "fit_lmm",
    "fleiss_kappa",
    "model_performance",
    "mrmc_analysis",
    "or_power",
    "or_sample_size",
    "reader_lmm",
    "roc_curve",
    "select_operating_point",
    "validate_reads",
    "validate_scores",
]
