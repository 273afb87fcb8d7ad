"""Seed-study protocols end to end in Debian chromium (1366 x 768): built on the coordinator's
pages, read in the reader's workspace, exported and analysed on the exports pages.

Seed 002: cases imported from subtype phantoms with their truth (ICH present and subtypes), the
preset's multi-label question with a confidence per label, design "unaided only"; READS has
one row per reader x case x label and the report a section per label.
"""

import csv
import io
import json
import zlib
from pathlib import Path

import pytest
from django.core.management import call_command

from readerstudy.cases.models import Case
from readerstudy.exports.models import AnalysisRun
from readerstudy.studies.models import Assignment, ReaderStudy
from tests.browser.helpers import add_probability_only_condition, login
from tests.factories import CoordinatorFactory, ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/e2e")
LABELS = ["any", "iph", "ivh", "sah", "sdh", "edh"]
# What the reader answers on the n-th case shown: ICH present, the subtypes ticked, and a
# confidence per label (0-100).
ANSWERS = [
    (True, ["iph"], [90, 80, 10, 20, 5, 0]),
    (False, [], [10, 5, 5, 5, 5, 5]),
    (True, ["ivh", "sah"], [85, 15, 70, 75, 10, 5]),
    (True, ["sdh", "edh"], [95, 10, 5, 10, 60, 55]),
]


def _truth(case) -> dict[str, int]:
    truth = case.ground_truth
    present = {s.lower() for s in truth.subtypes}
    return {"any": int(bool(truth.ich_present)), **{s: int(s in present) for s in LABELS[1:]}}


def _from_preset(page, preset: str, title: str) -> tuple[ReaderStudy, list[str]]:
    """The coordinator creates an unaided-only study from ``preset``: it, its questions' codes."""
    page.click("nav >> text=Studies")
    page.select_option("#id_preset", preset)
    page.fill("#id_title", title)
    page.select_option("#id_design", "unaided_only")
    with page.expect_navigation():
        page.click("text=Create study")
    codes = page.locator("#question-list tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.code)"
    )
    return ReaderStudy.objects.get(title=title), codes


def _choose_and_open(page, cases, readers) -> None:
    """On the draft study's page: choose its cases and readers, then open it."""
    for case in cases:
        page.check(f'#case-form input[value="{case.pk}"]')
    with page.expect_navigation():
        page.click("text=Save case selection")
    for reader in readers:
        page.check(f"#reader-form label:has-text('{reader.username}') input")
    with page.expect_navigation():
        page.click("text=Save reader selection")
    with page.expect_navigation():
        page.click("#open-study button[type=submit]")
    assert page.locator("#study-status").inner_text() == "open"


def _close(page, live_server, study) -> None:
    page.goto(f"{live_server.url}/studies/{study.pk}/")
    with page.expect_navigation():
        page.click("text=Close study")
    assert page.locator("#study-status").inner_text() == "closed"


def _reads_csv(page, live_server, title):
    """The closed study's row on the exports page (truth no longer withheld) and its READS."""
    page.goto(f"{live_server.url}/exports/")
    row = page.locator("tr", has_text=title)
    assert "blinded" not in row.inner_text()
    with page.expect_download() as download:
        row.locator("a", has_text="csv").first.click()
    return row, list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))


def _read_subtype_case(page, answer, *, shot=None) -> str:
    """Answer the case on screen (ICH present, subtypes, per-label confidence) and submit it;
    returns its code."""
    present, subtypes, ratings = answer
    code = page.locator("#rs-case").inner_text().removeprefix("Case ")
    if present:
        page.locator('input[name="ich.present"]').check()
    for value in subtypes:
        page.locator(f'input[name="ich.subtypes"][value="{value}"]').check()
    for label, rating in zip(LABELS, ratings, strict=True):
        page.locator(f'input[data-question="confidence"][data-label="{label}"]').fill(str(rating))
    if shot:
        page.evaluate(
            "() => { const h = document.getElementById('rs-help'); if (h) h.open = false; }"
        )
        page.screenshot(path=str(shot))
    page.click("#rs-submit")
    page.wait_for_function(
        """(code) => { const t = document.querySelector('#rs-case').innerText;
                       return t.includes('All reads are done') || (t.startsWith('Case ') && t !== 'Case ' + code); }""",
        arg=code,
        timeout=60000,
    )
    return code


def test_a_seed_002_study_is_built_read_exported_and_analysed(
    live_server, page, new_page, tmp_path
):
    from phantoms.subtype_dataset import generate_subtype_dataset

    SHOTS.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "ph"
    generate_subtype_dataset(out, 4, 2, normal_fraction=0.25, matrix=64)
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    cases = list(Case.objects.order_by("code"))
    assert len(cases) == 4
    truth = {c.code: _truth(c) for c in cases}
    assert sorted(t["any"] for t in truth.values()) == [0, 1, 1, 1]  # one normal head
    reader = ReaderFactory()
    coordinator = CoordinatorFactory()

    # The coordinator: a study from preset seed 002, unaided only, four cases, one reader.
    login(page, live_server, coordinator)
    study, codes = _from_preset(page, "seed002", "Subtypes study")
    assert codes == ["ich", "confidence"]
    _choose_and_open(page, cases, [reader])
    assert study.study_cases.count() == 4 and study.assignments.count() == 4

    # The reader reads every case.
    reading = new_page()
    login(reading, live_server, reader)
    reading.goto(f"{live_server.url}/read/{study.pk}/")
    clicked: dict[str, tuple] = {}
    for i, answer in enumerate(ANSWERS):
        reading.wait_for_function(
            "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment"
            " && document.querySelector('input[name=\"ich.present\"]')",
            timeout=60000,
        )
        code = _read_subtype_case(
            reading, answer, shot=SHOTS / "seed002-reader.png" if i == 0 else None
        )
        clicked[code] = answer
    assert set(clicked) == set(truth)
    reading.wait_for_function(
        "() => document.getElementById('rs-progress').textContent === '4 / 4 reads locked'",
        timeout=30000,
    )
    reading.context.close()

    # Open, the exports page withholds the analysis from the coordinator (blinded).
    page.goto(f"{live_server.url}/exports/")
    row = page.locator("tr", has_text="Subtypes study")
    assert "blinded: no truth" in row.inner_text()
    assert row.locator("text=Run analysis").count() == 0
    _close(page, live_server, study)

    # Closed: READS with truth, one row per reader x case x label.
    row, rows = _reads_csv(page, live_server, "Subtypes study")
    assert len(rows) == 4 * len(LABELS)
    assert {(r["reader"], r["case"], r["endpoint"]) for r in rows} == {
        (reader.username, code, label) for code in truth for label in LABELS
    }
    for r in rows:
        present, subtypes, ratings = clicked[r["case"]]
        label = r["endpoint"]
        said = present if label == "any" else label in subtypes
        assert r["condition"] == "unaided"
        assert int(r["decision"]) == int(said), r
        assert float(r["rating"]) == ratings[LABELS.index(label)], r
        assert int(r["truth"]) == truth[r["case"]][label], r

    # Run analysis on the exports page: a report with a section per label.
    with page.expect_navigation():
        row.locator("text=Run analysis").click()
    page.wait_for_selector("text=Open the report", timeout=300000)
    run = AnalysisRun.objects.get(study=study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    assert "Succeeded" in page.locator("#analysis-status").inner_text()
    sections = page.locator("ul.endpoint-sections li").all_inner_texts()
    assert len(sections) == len(LABELS)
    page.screenshot(path=str(SHOTS / "seed002-analysis.png"), full_page=True)
    href = page.locator("a", has_text="report.json").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok
    report = json.loads(response.body())
    assert set(report["endpoints"]) == set(LABELS)
    assert report["meta"]["primary_endpoint"] == "any"
    for label in LABELS:
        section = report["endpoints"][label]
        assert section["kind"] == "binary" and section["n_reads"] == 4
        said = {c: a[0] if label == "any" else label in a[1] for c, a in clicked.items()}
        counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
        for code, t in truth.items():
            counts[
                ("t" if said[code] == bool(t[label]) else "f") + ("p" if said[code] else "n")
            ] += 1
        (row,) = section["per_reader"]
        assert {k: row[k] for k in counts} == counts, label


# --- three conditions: unaided / probability only / probability + heatmaps, crossover ---------
CONDITIONS = ["unaided", "probability_only", "aided"]


def _next_read(page, previous) -> dict | None:
    """Wait for the next read to be ready to submit (the model output shown for an aided one);
    returns its assignment, or None once every read is done."""
    handle = page.wait_for_function(
        """(prev) => {
             if (document.querySelector('#rs-case').innerText.includes('All reads are done'))
               return {done: true};
             const ws = window.readerstudyWorkspace, a = ws && ws.assignment;
             const ready = a && a.id !== prev && !document.getElementById('rs-submit').disabled
               && document.querySelector('input[name="diagnosis"]');
             return ready ? {id: a.id, condition: a.condition, code: a.case_code} : null;
           }""",
        arg=previous,
        timeout=60000,
    )
    value = handle.json_value()
    return None if value.get("done") else value


def _crossover_answer(n: int, case: int, condition: str, truth: str) -> tuple[str, int]:
    """Reader n's answer on the case-th phantom: right or wrong and a confidence of CVST-ICH,
    both by a fixed pseudo-random rule (different per reader, case and condition; not by case
    code, which is keyed by each run's secret key)."""
    key = zlib.crc32(f"{n}/{case}/{condition}".encode())
    call = truth if key % 3 else ("sich" if truth == "cvst_ich" else "cvst_ich")
    return call, 5 + (key >> 4) % 91


def _auc(pairs) -> float:
    """Empirical AUC of (truth 0/1, rating) pairs, ties counted one half."""
    pos = [r for t, r in pairs if t]
    neg = [r for t, r in pairs if not t]
    return sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))


def test_a_three_condition_crossover_is_built_read_and_analysed(
    live_server, page, new_page, tmp_path
):
    from phantoms import generate_dataset
    from readerstudy.reading.models import AnswerRevision
    from tests.factories import ModelVersionFactory, make_inference_output

    out = tmp_path / "ph"
    generate_dataset(out, 4, 11, matrix=64, positive_fraction=0.5)
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    cases = list(Case.objects.order_by("pk"))
    index = {c.code: i for i, c in enumerate(cases)}
    truth = {c.code: c.ground_truth.etiology for c in cases}
    assert sorted(truth.values()) == ["cvst_ich", "cvst_ich", "sich", "sich"]
    model = ModelVersionFactory()
    for case in cases:  # the model's outputs (the pages would run a real model)
        s = case.primary_series
        make_inference_output(case, model, shape=(s.num_slices, s.rows, s.columns))
    readers = [ReaderFactory() for _ in range(3)]

    # The coordinator: crossover (preset seed 000); the aided condition shows the probability
    # and two heatmaps, an added one the probability only, between unaided and aided.
    login(page, live_server, CoordinatorFactory())
    page.click("nav >> text=Studies")
    page.fill("#id_title", "Three conditions")
    page.select_option("#id_design", "crossover")
    page.fill("#id_randomization_seed", "5")
    page.click("text=Create study")
    study = ReaderStudy.objects.get(title="Three conditions")
    page.click("#condition-aided summary")
    form = page.locator("#condition-aided form")
    form.locator('select[name$="model_version"]').select_option(str(model.pk))
    form.locator('input[name$="show_probability"]').check()
    for box in ("show_decision", "show_mask_outline"):
        form.locator(f'input[name$="{box}"]').uncheck()
    for box in form.locator('input[name$="heatmaps"]').all():
        box.set_checked(box.get_attribute("value") in ("gradcampp", "ig"))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    add_probability_only_condition(page, model)
    with page.expect_navigation():
        page.click('button[aria-label="Move Probability only up"]')
    codes = page.locator("#condition-list tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.code)"
    )
    assert codes == CONDITIONS
    aided = study.conditions.get(code="aided").assistance
    assert (aided.model_version, aided.show_probability, sorted(aided.heatmaps)) == (
        model,
        True,
        ["gradcampp", "ig"],
    )
    _choose_and_open(page, cases, readers)
    assert study.assignments.count() == 3 * 4 * 3

    # Each reader reads their schedule; what each condition shows is checked on the way.
    clicked: dict[tuple[str, str, str], tuple[str, int]] = {}
    for n, reader in enumerate(readers):
        reading = new_page()
        login(reading, live_server, reader)
        reading.goto(f"{live_server.url}/read/{study.pk}/")
        previous, order = None, []
        while read := _next_read(reading, previous):
            condition, code = read["condition"], read["code"]
            assistance = reading.locator("#rs-assistance")
            if condition == "unaided":
                assert assistance.is_hidden()
            else:
                assert "probability of CVST-ICH" in assistance.inner_text()
                maps = reading.locator(".rs-map-row").count()
                assert maps == (2 if condition == "aided" else 0), condition
            call, confidence = _crossover_answer(n, index[code], condition, truth[code])
            reading.locator(f'input[name="diagnosis"][value="{call}"]').check()
            reading.locator("input[type=number][name=confidence]").fill(str(confidence))
            reading.click("#rs-submit")
            clicked[(reader.username, code, condition)] = (call, confidence)
            order.append((code, condition))
            previous = read["id"]
        # The schedule drawn for the reader's arm, in its order: every case in every condition.
        schedule = Assignment.objects.filter(reader__user=reader).order_by(
            "session__index", "position"
        )
        assert order == [(a.study_case.case.code, a.condition) for a in schedule]
        assert len(set(order)) == 12
        reading.context.close()
    assert len(clicked) == 36
    locks = AnswerRevision.objects.filter(assignment__study=study, kind="lock")
    assert {
        (
            r.assignment.reader.user.username,
            r.assignment.study_case.case.code,
            r.assignment.condition,
        ): (r.answers["diagnosis"], r.answers["confidence"])
        for r in locks.select_related("assignment__reader__user", "assignment__study_case__case")
    } == clicked

    # Closed, the coordinator runs the analysis on the exports page.
    _close(page, live_server, study)
    page.goto(f"{live_server.url}/exports/")
    with page.expect_navigation():
        page.locator("tr", has_text="Three conditions").locator("text=Run analysis").click()
    page.wait_for_selector("text=Open the report", timeout=300000)
    run = AnalysisRun.objects.get(study=study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    page.screenshot(path=str(SHOTS / "crossover-analysis.png"), full_page=True)
    href = page.locator("a", has_text="report.json").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok
    report = json.loads(response.body())
    # in the study's order, whatever each reader happened to read first
    assert report["meta"]["conditions"] == [*CONDITIONS, "model"]

    # What was clicked, per reader and condition: AUC of the confidence, accuracy of the call.
    auc, accuracy = {}, {}
    for condition in CONDITIONS:
        per_reader_auc, per_reader_acc = [], []
        for reader in readers:
            mine = [(code, clicked[(reader.username, code, condition)]) for code in truth]
            per_reader_auc.append(_auc([(truth[c] == "cvst_ich", r) for c, (_, r) in mine]))
            per_reader_acc.append(sum(call == truth[c] for c, (call, _) in mine) / len(mine))
        auc[condition] = sum(per_reader_auc) / len(readers)
        accuracy[condition] = sum(per_reader_acc) / len(readers)
    assert len(set(auc.values())) > 1  # the conditions differ

    # OR/DBM over the three reader conditions: the overall F test and every pair.
    mrmc = report["mrmc"]["auc"]
    assert mrmc["comparison"] == "overall" and mrmc["n_readers"] == 3
    assert mrmc["means"] == pytest.approx(auc, abs=1e-9)
    overall = mrmc["or_rrrc"]
    assert overall["df1"] == 2 and overall["F"] >= 0 and 0 <= overall["p"] <= 1
    # every pair, later minus earlier in the report's order of conditions
    order = [c for c in report["meta"]["conditions"] if c != "model"]
    pairs = {p["comparison"]: p for p in overall["pairwise"]}
    assert set(pairs) == {f"{b} - {a}" for i, a in enumerate(order) for b in order[i + 1 :]}
    for name, p in pairs.items():
        later, earlier = name.split(" - ")
        assert p["diff"] == pytest.approx(auc[later] - auc[earlier], abs=1e-9), name
        assert p["ci_low"] <= p["diff"] <= p["ci_high"]
    # The LMM of the correct calls: each aided condition against unaided.
    contrasts = report["lmm"]["accuracy"]["contrasts"]
    for condition in ("aided", "probability_only"):
        estimate = contrasts[f"{condition} - unaided"]["estimate"]
        assert estimate == pytest.approx(accuracy[condition] - accuracy["unaided"], abs=1e-6)


# --- seed 003: ICH yes / no and, when yes, the haematoma's location ---------------------------
LOCATIONS = ["deep", "lobar", "subtentorial"]
# What the reader answers on the n-th phantom (import order, not case code): ICH present and,
# when present, a location. Phantoms of seed 4: IPH deep, IPH deep, IPH subtentorial, a normal
# head, IPH lobar (every ICH case has a location, so every case has truth for both endpoints).
SEED003_ANSWERS = [
    ("yes", "deep"),  # right, right
    ("yes", "subtentorial"),  # ICH right, location wrong
    ("no", None),  # missed: no location answered (the class "unanswered")
    ("yes", "lobar"),  # false positive; the normal head has no location (outside the endpoint)
    ("yes", "lobar"),  # right, right
]


def test_a_seed_003_study_is_built_read_exported_and_analysed(
    live_server, page, new_page, tmp_path
):
    from phantoms.subtype_dataset import generate_subtype_dataset

    shots = Path("/tmp/shots/e3")
    shots.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "ph"
    generate_subtype_dataset(out, 5, 4, normal_fraction=0.2, matrix=64)
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    cases = list(Case.objects.order_by("pk"))  # the phantoms' order
    assert len(cases) == 5
    index = {c.code: i for i, c in enumerate(cases)}
    truth = {
        c.code: (int(bool(c.ground_truth.ich_present)), c.ground_truth.location or "")
        for c in cases
    }
    assert [truth[c.code] for c in cases] == [
        (1, "deep"),
        (1, "deep"),
        (1, "subtentorial"),
        (0, ""),
        (1, "lobar"),
    ]
    reader = ReaderFactory()
    coordinator = CoordinatorFactory()

    # The coordinator: a study from preset seed 003, unaided only, five cases, one reader.
    login(page, live_server, coordinator)
    study, codes = _from_preset(page, "seed003", "Location study")
    assert codes == ["ich", "location"]
    _choose_and_open(page, cases, [reader])
    assert study.study_cases.count() == 5 and study.assignments.count() == 5

    # The reader: ICH yes / no; the location is asked only after "yes".
    reading = new_page()
    login(reading, live_server, reader)
    reading.goto(f"{live_server.url}/read/{study.pk}/")
    location = reading.locator('fieldset[data-code="location"]')
    clicked: dict[str, tuple[str, str | None]] = {}
    previous, shot = None, False
    while True:
        handle = reading.wait_for_function(
            """(prev) => {
                 if (document.querySelector('#rs-case').innerText.includes('All reads are done'))
                   return {done: true};
                 const ws = window.readerstudyWorkspace, a = ws && ws.assignment;
                 const ready = a && a.id !== prev && !document.getElementById('rs-submit').disabled
                   && document.querySelector('input[name="ich"]');
                 return ready ? {id: a.id, code: a.case_code} : null;
               }""",
            arg=previous,
            timeout=60000,
        )
        read = handle.json_value()
        if read.get("done"):
            break
        code = read["code"]
        present, where = SEED003_ANSWERS[index[code]]
        assert location.is_hidden()  # nothing answered yet
        reading.locator('input[name="ich"][value="yes"]').check()
        location.wait_for(state="visible", timeout=30000)
        assert (
            location.locator('input[name="location"]').evaluate_all("es => es.map(e => e.value)")
            == LOCATIONS
        )
        if present == "no":
            reading.locator('input[name="ich"][value="no"]').check()
            location.wait_for(state="hidden", timeout=30000)
        else:
            reading.locator(f'input[name="location"][value="{where}"]').check()
            if not shot:
                reading.evaluate(
                    "() => { const h = document.getElementById('rs-help'); if (h) h.open = false; }"
                )
                reading.screenshot(path=str(shots / "seed003-reader-location.png"))
                shot = True
        reading.click("#rs-submit")
        clicked[code] = (present, where)
        previous = read["id"]
    assert shot and set(clicked) == set(truth)
    reading.wait_for_function(
        "() => document.getElementById('rs-progress').textContent === '5 / 5 reads locked'",
        timeout=30000,
    )
    reading.context.close()

    # Closed: READS with truth, one row per reader x case x endpoint.
    _close(page, live_server, study)
    row, rows = _reads_csv(page, live_server, "Location study")
    assert len(rows) == 5 * 2
    assert {(r["reader"], r["case"], r["endpoint"]) for r in rows} == {
        (reader.username, code, e) for code in truth for e in ("ich", "location")
    }
    for r in rows:
        present, where = clicked[r["case"]]
        ich, loc = truth[r["case"]]
        assert r["condition"] == "unaided"
        # a hidden location is not sent
        assert json.loads(r["answers"]) == {
            "ich": present,
            **({"location": where} if where else {}),
        }
        if r["endpoint"] == "ich":
            assert r["decision"] == str(int(present == "yes")), r
            assert r["truth"] == str(ich), r
        else:
            assert r["decision"] == (where or ""), r
            assert r["truth"] == loc, r

    # Run analysis on the exports page: a binary ICH section and a multi-class location one.
    with page.expect_navigation():
        row.locator("text=Run analysis").click()
    page.wait_for_selector("text=Open the report", timeout=300000)
    run = AnalysisRun.objects.get(study=study)
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    href = page.locator("a", has_text="report.json").get_attribute("href")
    response = page.request.get(f"{live_server.url}{href}")
    assert response.ok
    report = json.loads(response.body())
    assert set(report["endpoints"]) == {"ich", "location"}
    ich = report["endpoints"]["ich"]
    assert ich["kind"] == "binary" and ich["n_reads"] == 5
    counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    for code, (present, _) in clicked.items():
        said = present == "yes"
        counts[("t" if said == bool(truth[code][0]) else "f") + ("p" if said else "n")] += 1
    assert counts == {"tp": 3, "fn": 1, "fp": 1, "tn": 0}
    (mine,) = ich["per_reader"]
    assert {k: mine[k] for k in counts} == counts

    # Location: only the cases with a location in their truth (IPH); a missed bleed's read
    # has no location and counts as the class "unanswered".
    section = report["endpoints"]["location"]
    assert section["kind"] != "binary"
    confusion = section["confusion"]["unaided"]
    labels = confusion["labels"]
    assert set(LOCATIONS) <= set(labels) and "unanswered" in labels
    expected = [[0] * len(labels) for _ in labels]
    for code, (_, where) in clicked.items():
        if truth[code][1]:
            expected[labels.index(truth[code][1])][labels.index(where or "unanswered")] += 1
    assert confusion["matrix"] == expected
    assert confusion["n"] == 4
    assert "endpoints.location.cases_outside" in report["skipped"]
