"""Multi-endpoint reports (issue #18): every per-endpoint number against an independent
computation - scikit-learn metrics, statsmodels' inter-rater statistics, plain pandas - on a
simulated study with six binary ICH labels (any, iph, ivh, sah, sdh, edh), a multi-class
location (deep, lobar, subtentorial), three reading conditions and slice-level scores."""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    log_loss,
    recall_score,
    roc_auc_score,
)
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from readerstudy.analysis import ReportOptions, build_report
from readerstudy.analysis.bootstrap import chunked_cluster_weights
from readerstudy.analysis.reads import ReadsValidationError
from readerstudy.analysis.simulate import ICH_LABELS, LOCATIONS, simulate_endpoint_study
from readerstudy.analysis.study import validate_study_reads, validate_study_scores

CONDITIONS = ("unaided", "aided", "second")


@pytest.fixture(scope="module")
def sim() -> tuple[pd.DataFrame, pd.DataFrame]:
    return simulate_endpoint_study(
        5,
        90,
        conditions=CONDITIONS,
        multiclass={"location": LOCATIONS},
        n_slices=6,
        slice_reads=3,
        prevalence=0.6,
        seed=11,
    )


@pytest.fixture(scope="module")
def report(sim):
    reads, scores = sim
    return build_report(
        reads, scores, ReportOptions(n_bootstrap=200, seed=3, operating_point="threshold:0.5")
    )


@pytest.fixture(scope="module")
def doc(report) -> dict:
    return json.loads(json.dumps(report.to_dict(), allow_nan=False))


def _case_reads(reads: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    sub = reads[(reads["endpoint"] == endpoint) & reads["slice"].isna()]
    return sub.astype({"case": str, "reader": str})


def _model_reads(report, endpoint: str) -> pd.DataFrame:
    r = report.endpoint_results[endpoint].reads
    return r[r["condition"] == "model"]


# --- shape of the document -------------------------------------------------------------------
def test_simulated_labels_are_multi_label_and_location_is_for_ich_only(sim):
    reads, scores = sim
    truth = reads[reads["slice"].isna()].drop_duplicates(["endpoint", "case"])
    wide = truth.pivot(index="case", columns="endpoint", values="truth")
    sub = wide[list(ICH_LABELS[1:])].astype(int)
    anyc = wide["any"].astype(int)
    assert ((sub.max(axis=1) == 1) == (anyc == 1)).all()  # any = at least one subtype
    assert (sub.sum(axis=1) > 1).any()  # mixed subtypes occur
    located = wide["location"].dropna().index
    assert set(located) == set(anyc[anyc == 1].index)
    assert set(wide.loc[located, "location"]) <= set(LOCATIONS)


def test_document_has_an_entry_per_endpoint(doc):
    assert doc["meta"]["endpoints"] == [*ICH_LABELS, "location"]
    assert doc["meta"]["endpoint_kinds"]["location"] == "multiclass"
    assert doc["meta"]["conditions"] == [*CONDITIONS, "model"]
    assert set(doc["endpoints"]) == {*ICH_LABELS, "location"}
    for ep in ICH_LABELS:
        e = doc["endpoints"][ep]
        assert {"lmm", "mrmc", "per_reader", "group", "agreement", "discordance"} <= set(e)
        assert set(doc["model_performance"][ep]) >= {"auc", "auc_delong", "slice_level"}
    loc = doc["endpoints"]["location"]
    assert loc["kind"] == "multiclass" and loc["per_reader"] is None and loc["group"] is None
    assert set(loc["confusion"]) == {*CONDITIONS, "model"}
    assert {"seed_form", "rsna_form"} <= set(doc["model_performance"]["weighted_log_loss"])
    # the top-level keys show the primary endpoint (the first binary one)
    assert doc["meta"]["primary_endpoint"] == "any"
    assert doc["lmm"] == doc["endpoints"]["any"]["lmm"]


# --- binary endpoints: per reader, group, agreement ------------------------------------------
@pytest.mark.parametrize("endpoint", ["any", "sah"])
def test_per_reader_metrics_match_sklearn(doc, sim, endpoint):
    reads, _ = sim
    sub = _case_reads(reads, endpoint)
    rows = {(r["condition"], r["reader"]): r for r in doc["endpoints"][endpoint]["per_reader"]}
    assert len(rows) == 5 * 3 + 1  # readers x conditions + the model
    for (cond, reader), g in sub.groupby(["condition", "reader"]):
        y, d = g["truth"].astype(int), g["decision"].astype(int)
        row = rows[(cond, reader)]
        sens = recall_score(y, d)
        spec = recall_score(y, d, pos_label=0)
        assert row["sensitivity"] == pytest.approx(sens, abs=1e-12)
        assert row["specificity"] == pytest.approx(spec, abs=1e-12)
        assert row["accuracy"] == pytest.approx(accuracy_score(y, d), abs=1e-12)
        assert row["f1"] == pytest.approx(f1_score(y, d), abs=1e-12)
        # (Se + Sp) / 2 is the area under the one-point ROC curve of the binary calls
        assert row["auc_binary"] == pytest.approx(roc_auc_score(y, d), abs=1e-12)


def test_group_mean_and_sample_sd(doc, sim):
    reads, _ = sim
    sub = _case_reads(reads, "ivh")
    group = doc["endpoints"]["ivh"]["group"]
    assert set(group) == set(CONDITIONS)  # reader conditions only, not the model
    for cond in CONDITIONS:
        f1s = [
            f1_score(g["truth"].astype(int), g["decision"].astype(int))
            for _, g in sub[sub["condition"] == cond].groupby("reader")
        ]
        assert group[cond]["f1"]["mean"] == pytest.approx(np.mean(f1s), abs=1e-12)
        assert group[cond]["f1"]["sd"] == pytest.approx(np.std(f1s, ddof=1), abs=1e-12)


def _kappas(matrix: np.ndarray) -> tuple[float, float]:
    """statsmodels' Fleiss kappa and the mean pairwise scikit-learn Cohen kappa."""
    counts, _ = aggregate_raters(matrix)
    cohen = [
        cohen_kappa_score(matrix[:, a], matrix[:, b])
        for a, b in combinations(range(matrix.shape[1]), 2)
    ]
    return sm_fleiss_kappa(counts, method="fleiss"), float(np.mean(cohen))


@pytest.mark.parametrize("endpoint", ["iph", "location"])
def test_agreement_matches_statsmodels_and_sklearn(doc, sim, endpoint):
    reads, _ = sim
    sub = _case_reads(reads, endpoint)
    for cond in CONDITIONS:
        wide = sub[sub["condition"] == cond].pivot(
            index="case", columns="reader", values="decision"
        )
        fleiss, cohen = _kappas(wide.to_numpy().astype(str))
        got = doc["endpoints"][endpoint]["agreement"][cond]
        assert got["fleiss_kappa"] == pytest.approx(fleiss, abs=1e-12)
        assert got["mean_cohen_kappa"] == pytest.approx(cohen, abs=1e-12)
        assert got["n_cases"] == len(wide)


def test_slice_level_agreement(doc, sim):
    reads, _ = sim
    sl = reads[(reads["endpoint"] == "sdh") & reads["slice"].notna()]
    for cond in CONDITIONS:
        s = sl[sl["condition"] == cond]
        wide = s.pivot(index=["case", "slice"], columns="reader", values="decision")
        fleiss, cohen = _kappas(wide.to_numpy().astype(int))
        got = doc["endpoints"]["sdh"]["agreement"][cond]["slice"]
        assert got["n_slices"] == len(wide) == 90 * 3
        assert got["fleiss_kappa"] == pytest.approx(fleiss, abs=1e-12)
        assert got["mean_cohen_kappa"] == pytest.approx(cohen, abs=1e-12)


# --- multi-class endpoint --------------------------------------------------------------------
def test_confusion_matrices_match_sklearn(doc, sim):
    reads, _ = sim
    sub = _case_reads(reads, "location")
    conf = doc["endpoints"]["location"]["confusion"]
    assert doc["endpoints"]["location"]["labels"] == sorted(LOCATIONS)
    for cond in (*CONDITIONS, "model"):
        s = sub[sub["condition"] == cond]
        labels = conf[cond]["labels"]
        assert (
            conf[cond]["matrix"]
            == sk_confusion_matrix(s["truth"], s["decision"], labels=labels).tolist()
        )
        assert conf[cond]["macro_f1"] == pytest.approx(
            f1_score(s["truth"], s["decision"], labels=labels, average="macro"), abs=1e-12
        )
        assert conf[cond]["micro_f1"] == pytest.approx(
            f1_score(s["truth"], s["decision"], labels=labels, average="micro"), abs=1e-12
        )
        assert conf[cond]["accuracy"] == pytest.approx(
            accuracy_score(s["truth"], s["decision"]), abs=1e-12
        )


def test_multiclass_mixed_models_and_mrmc_use_accuracy(doc, sim):
    reads, _ = sim
    e = doc["endpoints"]["location"]
    assert set(e["lmm"]) - {"mode", "random_terms", "family", "backend"} == {"accuracy"}
    assert list(e["mrmc"]) == ["accuracy"]
    sub = _case_reads(reads, "location")
    correct = sub["truth"] == sub["decision"]
    means = correct.groupby(sub["condition"]).mean()
    # balanced design: the LMM contrasts are the differences in proportion correct
    con = e["lmm"]["accuracy"]["contrasts"]
    assert con["aided - unaided"]["estimate"] == pytest.approx(
        means["aided"] - means["unaided"], abs=1e-9
    )
    assert e["mrmc"]["accuracy"]["means"]["second"] == pytest.approx(means["second"], abs=1e-12)


# --- mixed models and OR/DBM per binary endpoint ---------------------------------------------
def test_lmm_contrasts_are_proportion_differences(doc, sim):
    reads, _ = sim
    sub = _case_reads(reads, "sah")
    sub = sub.assign(correct=(sub["truth"] == sub["decision"]).astype(int))
    lmm = doc["endpoints"]["sah"]["lmm"]
    for ep, part in (
        ("accuracy", sub),
        ("sensitivity", sub[sub["truth"] == 1]),
        ("specificity", sub[sub["truth"] == 0]),
    ):
        p = part.groupby("condition")["correct"].mean()
        con = lmm[ep]["contrasts"]
        assert set(con) == {"aided - unaided", "second - unaided", "model - unaided"}
        assert con["second - unaided"]["estimate"] == pytest.approx(
            p["second"] - p["unaided"], abs=1e-9
        )
        assert lmm[ep]["emmeans"]["aided"]["estimate"] == pytest.approx(p["aided"], abs=1e-9)


def test_mrmc_auc_means_and_pairwise_differences(doc, sim):
    reads, _ = sim
    sub = _case_reads(reads, "any")
    auc = {
        (c, r): roc_auc_score(g["truth"].astype(int), g["rating"])
        for (c, r), g in sub.groupby(["condition", "reader"])
    }
    m = doc["endpoints"]["any"]["mrmc"]["auc"]
    means = {c: np.mean([v for (cc, _), v in auc.items() if cc == c]) for c in CONDITIONS}
    for c in CONDITIONS:
        assert m["means"][c] == pytest.approx(means[c], abs=1e-12)
    assert m["or_rrrc"]["df1"] == 2
    pairs = {p["comparison"]: p for p in m["or_rrrc"]["pairwise"]}
    assert list(pairs) == ["aided - unaided", "second - unaided", "second - aided"]
    assert pairs["second - aided"]["diff"] == pytest.approx(
        means["second"] - means["aided"], abs=1e-12
    )


# --- discordance -----------------------------------------------------------------------------
def test_discordance_against_pandas(doc, report, sim):
    reads, _ = sim
    sub = _case_reads(reads, "ivh")
    model = _model_reads(report, "ivh").set_index("case")
    for cond in CONDITIONS:
        s = sub[sub["condition"] == cond]
        dec = s.pivot(index="case", columns="reader", values="decision").astype(int)
        truth = s.drop_duplicates("case").set_index("case")["truth"].astype(int)[dec.index]
        readers_right = dec.eq(truth, axis=0)
        model_right = model.loc[dec.index, "decision"] == truth
        only_model = dec.index[model_right & ~readers_right.any(axis=1)]
        only_readers = dec.index[~model_right & readers_right.all(axis=1)]
        d = doc["endpoints"]["ivh"]["discordance"][cond]
        assert d["model_right_all_readers_wrong"]["cases"] == sorted(only_model)
        assert d["all_readers_right_model_wrong"]["cases"] == sorted(only_readers)
        assert d["model_right_all_readers_wrong"]["n_positive"] == int(truth[only_model].sum())
        for row in d["per_reader"]:
            r_tp = (dec[row["reader"]] == 1) & (truth == 1)
            m_tp = (model.loc[dec.index, "decision"] == 1) & (truth == 1)
            assert row["reader_tp"] == r_tp.sum() and row["both_tp"] == (r_tp & m_tp).sum()
            assert row["model_tp_reader_fn"] == (m_tp & ~r_tp).sum()


# --- model performance -----------------------------------------------------------------------
def test_model_auc_case_slice_and_scan_level(doc, sim):
    _, scores = sim
    for ep in ("any", "sdh"):
        sl = scores[scores["endpoint"] == ep]
        mp = doc["model_performance"][ep]
        scan = sl.groupby("case").agg(truth=("truth", "max"), score=("score", "max"))
        assert mp["level"] == "scan (maximum over slices)"
        assert mp["auc"]["estimate"] == pytest.approx(
            roc_auc_score(scan["truth"], scan["score"]), abs=1e-12
        )
        assert mp["scan_level"]["auc"]["estimate"] == mp["auc"]["estimate"]
        assert mp["slice_level"]["auc"]["estimate"] == pytest.approx(
            roc_auc_score(sl["truth"], sl["score"]), abs=1e-12
        )
        assert mp["slice_level"]["n_pos"] == int(sl["truth"].sum())
        assert mp["slice_level"]["auc_delong"]["ci_low"] < mp["slice_level"]["auc"]["estimate"]
        point = mp["operating_points"]["threshold:0.5"]
        called = scan["score"] >= 0.5
        assert point["confusion"]["tp"] == int((called & (scan["truth"] == 1)).sum())


def test_model_reads_derived_per_endpoint_at_the_operating_point(report, sim):
    _, scores = sim
    for ep in ("iph", "edh"):
        model = _model_reads(report, ep).set_index("case")
        scan = scores[scores["endpoint"] == ep].groupby("case")["score"].max()
        expected = (scan[model.index] >= 0.5).astype(int)
        assert (model["decision"] == expected).all()


def test_weighted_log_loss_of_the_report(doc, sim):
    _, scores = sim
    ll = doc["model_performance"]["weighted_log_loss"]
    assert ll["level"] == "slice" and ll["n_units"] == 90 * 6
    assert ll["weights"]["any"] == 2 and ll["weights"]["iph"] == 1
    y = scores.pivot(index=["case", "slice"], columns="endpoint", values="truth")
    p = scores.pivot(index=["case", "slice"], columns="endpoint", values="score")
    eps = ll["endpoints"]
    w = np.array([ll["weights"][e] for e in eps])
    yy, pp = y[eps].to_numpy().ravel(), p[eps].to_numpy().ravel()
    ww = np.tile(w, len(y))
    # RSNA form: the sample-weighted binary log-loss over every (slice, label)
    assert ll["rsna_form"] == pytest.approx(log_loss(yy, pp, sample_weight=ww), rel=1e-12)
    # seed form: the weight on the positive term only, divided by N*C
    pos_w = np.where(yy == 1, ww, 1.0)
    seed = log_loss(yy, pp, sample_weight=pos_w, normalize=False) / yy.size
    assert ll["seed_form"] == pytest.approx(seed, rel=1e-12)


def test_cluster_bootstrap_resamples_whole_cases():
    cases = np.repeat([f"c{i}" for i in range(30)], 4)
    truth = np.zeros(120, dtype=int)
    truth[::8] = 1  # one positive slice in every other case
    w = np.concatenate(list(chunked_cluster_weights(cases, truth, 50, seed=1)))
    per_case = w.reshape(50, 30, 4)
    assert (per_case == per_case[:, :, :1]).all()  # a case's slices share its multiplicity
    pos_case = np.arange(30) % 2 == 0
    assert (per_case[:, pos_case, 0].sum(axis=1) == 15).all()  # stratified by case truth


# --- consistency with the single-endpoint report ---------------------------------------------
def test_one_endpoint_gives_the_single_endpoint_numbers():
    from readerstudy.analysis.simulate import simulate_study

    reads, scores = simulate_study(5, 50, 15, seed=4)
    opt = ReportOptions(n_bootstrap=100, seed=2)
    single = build_report(reads, scores, opt).to_dict()
    multi = build_report(reads.assign(endpoint="ich"), scores, opt).to_dict()
    e = multi["endpoints"]["ich"]
    assert json.dumps(e["lmm"]) == json.dumps(single["lmm"])
    assert json.dumps(e["mrmc"]) == json.dumps(single["mrmc"])
    assert e["agreement"] == single["agreement"]
    perf = {k: v for k, v in multi["model_performance"]["ich"].items() if k != "model"}
    assert json.dumps(perf, sort_keys=True) == json.dumps(
        {k: v for k, v in single["model_performance"].items() if k != "model"}, sort_keys=True
    )
    assert set(single) == {
        "meta",
        "model_performance",
        "decision_curve",
        "lmm",
        "lmm_extra",
        "mrmc",
        "delong_per_reader",
        "per_reader",
        "pooled_counts",
        "reader_summary",
        "agreement",
        "table2",
        "table3",
        "table3_glmm",
        "skipped",
    }


# --- validation ------------------------------------------------------------------------------
def _tiny() -> pd.DataFrame:
    rows = []
    for reader in ("A", "B"):
        for case, ich, loc in (("1", 1, "deep"), ("2", 0, None), ("3", 1, "lobar")):
            rows.append(("ich", reader, case, "unaided", ich, ich))
            if loc:
                rows.append(("location", reader, case, "unaided", loc, "deep"))
    return pd.DataFrame(
        rows, columns=["endpoint", "reader", "case", "condition", "truth", "decision"]
    )


def test_endpoint_kinds_and_labels():
    study = validate_study_reads(_tiny())
    assert study.endpoints["ich"].kind == "binary"
    assert study.endpoints["ich"].reads["truth"].dtype.kind == "i"
    assert study.endpoints["location"].kind == "multiclass"
    assert study.endpoints["location"].labels == ["deep", "lobar"]


def test_study_validation_errors():
    df = _tiny().astype({"decision": object})
    df.loc[0, "decision"] = "yes"  # binary endpoint (truth 0/1), decision not 0/1
    df = pd.concat([df, df.iloc[[2]]], ignore_index=True)  # duplicated read
    with pytest.raises(ReadsValidationError) as exc:
        validate_study_reads(df)
    text = "\n".join(exc.value.errors)
    assert "binary endpoint 'ich'" in text and "row 1" in text
    assert "duplicate reads" in text
    with pytest.raises(ReadsValidationError, match="reserved"):
        validate_study_reads(_tiny().assign(endpoint="weighted_log_loss"))


def test_score_table_needs_an_endpoint_column_for_several_endpoints():
    scores = pd.DataFrame({"case": ["1", "2"], "truth": [1, 0], "score": [0.8, 0.3]})
    with pytest.raises(ReadsValidationError, match="needs an 'endpoint' column"):
        validate_study_scores(scores, ["ich", "sah"])
    one = validate_study_scores(scores, ["ich"])
    assert list(one.endpoints) == ["ich"]


# --- files -----------------------------------------------------------------------------------
def test_html_markdown_and_csv_per_endpoint(report, tmp_path):
    paths = {p.name for p in report.write(tmp_path, ("json", "csv", "md", "html", "png"))}
    assert {"confusion_location.png", "endpoint_per_reader.csv", "endpoint_table3.csv"} <= paths
    assert {"endpoint_discordance.csv", "endpoint_confusion.csv", "endpoint_mrmc.csv"} <= paths
    html = (tmp_path / "report.html").read_text()
    for ep in (*ICH_LABELS, "location"):
        assert f'id="endpoint-{ep}"' in html
    assert html.count("data:image/png;base64,") >= 3  # ROC, forest, confusion heatmaps
    assert "Readers unaided, mean ± SD (n = 5)" in html
    assert "Model-reader discordance" in html and "model right, every reader wrong" in html
    md = (tmp_path / "report.md").read_text()
    assert "## Endpoint location (multiclass)" in md and "![confusion_location]" in md
    t3 = pd.read_csv(tmp_path / "endpoint_table3.csv")
    assert set(t3["endpoint"]) == set(ICH_LABELS)
    conf = pd.read_csv(tmp_path / "endpoint_confusion.csv")
    m = report.endpoint_results["location"].confusion["aided"]
    got = conf[conf["condition"] == "aided"].pivot(index="truth", columns="decision", values="n")
    assert got.loc[m["labels"], m["labels"]].to_numpy().tolist() == m["matrix"]
