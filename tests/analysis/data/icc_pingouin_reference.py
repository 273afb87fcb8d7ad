"""Regenerates icc_pingouin-0.7.0_computed.txt: pingouin 0.7.0 ``intraclass_corr`` on the ICC
data sets of this folder. pingouin is not a readerstudy dependency (GPL-3.0); run with it on the
path:  PYTHONPATH=/path/to/pingouin python tests/analysis/data/icc_pingouin_reference.py"""

from pathlib import Path

import pandas as pd
import pingouin as pg

D = Path(__file__).resolve().parent
pg.options["round.column.CI95"] = None  # full precision (pingouin rounds the CI to 2 dp)
SETS = {
    "shrout_fleiss": (pd.read_csv(D / "shrout_fleiss_1979.csv"), "target", "judge", "rating"),
    "wine": (pd.read_csv(D / "pingouin_icc_wine.csv"), "Wine", "Judge", "Scores"),
}
feats = pd.read_csv(D / "icc_features_example.csv", dtype={"session": str})
feats["column"] = feats["rater"] + "/" + feats["session"]
for feature, sub in feats.groupby("feature"):
    SETS[f"features.{feature}"] = (sub, "case", "column", "value")
    one = sub[sub["session"] == "1"]  # inter-rater: A/1 vs B/1
    SETS[f"inter.{feature}"] = (one, "case", "column", "value")

lines = [
    f"# pingouin {pg.__version__} intraclass_corr; name type ICC F df1 df2 pval ci_low ci_high"
]
for name, (data, targets, raters, ratings) in SETS.items():
    res = pg.intraclass_corr(data=data, targets=targets, raters=raters, ratings=ratings)
    for _, r in res.iterrows():
        ci = r["CI95"] if "CI95" in r else r["CI95%"]
        lines.append(
            f"{name} {r['Type']} {r['ICC']!r} {r['F']!r} {r['df1']!r} {r['df2']!r} "
            f"{r['pval']!r} {float(ci[0])!r} {float(ci[1])!r}"
        )
(D / "icc_pingouin-0.7.0_computed.txt").write_text("\n".join(lines) + "\n")
