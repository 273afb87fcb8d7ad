"""Practice in Debian chromium: the reader sees the task and the shortcuts, reads the practice
cases with feedback (truth, model output, own answer), fails the rule, tries again, passes,
and the study's first case opens. The coordinator's practice card is shown too."""

from pathlib import Path

import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.cases.models import GroundTruth
from readerstudy.reading.practice import PracticeAnswer
from readerstudy.studies import practice_services as setup
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design
from readerstudy.studies.practice import PracticeRule
from tests.browser.helpers import login
from tests.factories import (
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    make_inference_output,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/practice")


def _world(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 4, 5, matrix=128, positive_fraction=0.5)
    cases = [import_study(tmp_path / "ph" / r["case_id"]).case for r in records]
    study = study_services.create_study(
        title="Head CT reading", design=Design.UNAIDED_ONLY, randomization_seed=1
    )
    study_services.add_cases(study, cases[:2])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    version = ModelVersionFactory()
    study_services.configure_assistance(study, model_version=version)
    coordinator = CoordinatorFactory()
    for case, truth in zip(cases[2:], ["cvst_ich", "sich"], strict=True):
        GroundTruth.objects.update_or_create(case=case, defaults={"etiology": truth})
        make_inference_output(case, version, methods=())
        setup.add_case(study, case, by=coordinator)
    setup.configure(
        study, by=coordinator, task_text="Decide for each head CT: CVST-related ICH or not.",
        rule=PracticeRule.AT_LEAST, min_correct=2, max_attempts=1,
    )  # fmt: skip
    study = study_services.open_study(study, truth_pending_allowed=True)
    return study, reader, coordinator


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def _answer(page, diagnosis):
    page.wait_for_selector("#rs-form fieldset[data-code=diagnosis]")
    page.check(f"#rs-form input[name=diagnosis][value={diagnosis}]")
    page.fill("#rs-form input[type=number][name=confidence]", "70")
    page.click("#rs-submit")
    page.wait_for_selector("#rs-feedback:not([hidden])")


def test_practice_feedback_qualification_then_the_study(live_server, page, new_page, tmp_path):
    study, reader, coordinator = _world(tmp_path)
    login(page, live_server, reader)
    page.goto(f"{live_server.url}/read/{study.pk}/")
    page.wait_for_selector("#rs-intro:not([hidden])")
    assert "CVST-related ICH or not" in page.inner_text("#rs-intro")
    assert "window presets" in page.inner_text("#rs-intro")
    assert "at least 2 of the 2" in page.inner_text("#rs-practice-rule")
    page.evaluate("() => document.querySelector('#rs-intro').scrollIntoView()")
    _shot(page, "task_description.png")
    page.click("#rs-begin")
    page.wait_for_function(
        "() => document.querySelector('#rs-case').textContent.startsWith('Practice case 1')"
    )
    _answer(page, "sich")  # wrong: the truth is CVST-related ICH
    feedback = page.inner_text("#rs-feedback")
    assert (
        "Truth" in feedback
        and "CVST-related ICH" in feedback
        and "81.3%" in feedback.replace("81.2%", "81.3%")
    )
    assert "not correct" in feedback
    _shot(page, "practice_feedback.png")
    page.click("#rs-practice-next")
    _answer(page, "sich")
    page.click("#rs-practice-next")
    page.wait_for_selector("#rs-blocked:not([hidden])")
    assert "ask the study coordinator" in page.inner_text("#rs-blocked")
    _shot(page, "qualification_blocked.png")
    # The coordinator grants another attempt on the study page.
    coord = new_page()
    login(coord, live_server, coordinator)
    coord.goto(f"{live_server.url}/studies/{study.pk}/#study-practice")
    coord.click("#practice-readers button[value=attempt]")
    coord.wait_for_selector("#practice-readers")
    coord.locator("#study-practice").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    coord.locator("#study-practice").screenshot(path=str(SHOTS / "coordinator_practice_setup.png"))
    coord.context.close()
    page.reload()
    page.click("#rs-practice-again")
    _answer(page, "cvst_ich")
    page.click("#rs-practice-next")
    _answer(page, "sich")
    assert "the study's cases are open" in page.inner_text("#rs-feedback")
    page.click("#rs-practice-next")
    page.wait_for_function(
        "() => document.querySelector('#rs-case').textContent.startsWith('Case ')", timeout=30000
    )
    assert PracticeAnswer.objects.filter(reader__user=reader).count() == 4


# Whether any word of the feedback cards is split across two lines (a mid-word break) or a
# card is wider than its box.
_LAYOUT_JS = """(where) => {
  const cards = [...document.querySelectorAll(where + ' .rs-fb-card')];
  const problems = [];
  for (const card of cards) {
    if (card.scrollWidth > card.clientWidth + 1) problems.push('overflow: ' + card.innerText);
    const walker = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) problems.push('broken: ' + m[0]);
      }
    }
  }
  return { cards: cards.length, problems };
}"""


def _aided_world(tmp_path):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 2, 9, matrix=128, positive_fraction=0.5)
    cases = [import_study(tmp_path / "ph" / r["case_id"]).case for r in records]
    study = study_services.create_study(
        title="Head CT reading, aided", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=3
    )
    study_services.add_cases(study, cases[:1])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    version = ModelVersionFactory()
    study_services.configure_assistance(study, model_version=version, heatmaps=["gradcampp", "ig"])
    coordinator = CoordinatorFactory()
    practice = cases[1]
    GroundTruth.objects.update_or_create(case=practice, defaults={"etiology": "cvst_ich"})
    series = practice.primary_series
    make_inference_output(practice, version, shape=(series.num_slices, 128, 128))
    setup.add_case(study, practice, by=coordinator)
    setup.configure(
        study, by=coordinator, rule=PracticeRule.ALL_DONE,
        task_text="Decide for each head CT: CVST-related ICH or spontaneous ICH.",
    )  # fmt: skip
    return study_services.open_study(study, truth_pending_allowed=True), reader


def test_aided_practice_feedback_shows_the_models_heatmap(live_server, new_page, tmp_path):
    study, reader = _aided_world(tmp_path)
    page = new_page()
    heatmap_requests: list[str] = []
    page.on("request", lambda r: "/heatmaps/" in r.url and heatmap_requests.append(r.url))
    login(page, live_server, reader)
    page.goto(f"{live_server.url}/read/{study.pk}/")
    page.wait_for_selector("#rs-intro:not([hidden])")
    assert "Read the practice case to open" in page.inner_text("#rs-practice-rule")
    page.evaluate("() => document.querySelector('#rs-intro').scrollIntoView()")
    _shot(page, "practice_task_screen.png")
    page.click("#rs-begin")
    page.wait_for_function(
        "() => { const ws = window.readerstudyWorkspace; return ws.viewer"
        " && ws.viewer.getState().timings.firstImageMs != null; }",
        timeout=60000,
    )
    # The unaided practice read: nothing of the model, no map asked for.
    assert page.locator("#rs-assistance").is_hidden() and heatmap_requests == []
    assert page.evaluate("() => window.readerstudyWorkspace.viewer.getOverlays().overlays") == {}
    _answer(page, "sich")
    page.wait_for_selector("[data-testid=practice-heatmaps]")
    page.wait_for_function(
        "() => Object.keys(window.readerstudyWorkspace.viewer.getOverlays().overlays).length == 2"
    )
    overlays = page.evaluate("() => window.readerstudyWorkspace.viewer.getOverlays().overlays")
    assert set(overlays) == {"gradcampp", "ig"} and overlays["gradcampp"]["visible"]
    assert all("/practice/cases/" in url for url in heatmap_requests)
    feedback = page.inner_text("#rs-feedback")
    assert "Truth" in feedback and "CVST-related ICH" in feedback and "81.3%" in feedback
    layout = page.evaluate(_LAYOUT_JS, "#rs-feedback")
    assert layout["cards"] == 2 and layout["problems"] == []
    _shot(page, "practice_feedback_unaided.png")
    page.click("#rs-practice-next")
    page.wait_for_selector("#rs-assistance:not([hidden]) [data-testid=practice-heatmaps]")
    layout = page.evaluate(_LAYOUT_JS, "#rs-assistance")
    assert layout["cards"] == 1 and layout["problems"] == []
    _shot(page, "practice_aided_read.png")
    _answer(page, "cvst_ich")
    assert "You, aided" in page.inner_text("#rs-feedback")
    layout = page.evaluate(_LAYOUT_JS, "#rs-feedback")
    assert layout["cards"] == 2 and layout["problems"] == []
    _shot(page, "practice_feedback_aided.png")
    page.click("#rs-practice-next")
    page.wait_for_function(
        "() => document.querySelector('#rs-case').textContent.startsWith('Case ')", timeout=30000
    )
    # The study's unaided read starts on a fresh viewer: no practice map survives into it.
    page.wait_for_function("() => window.readerstudyWorkspace.viewer")
    assert page.evaluate("() => window.readerstudyWorkspace.viewer.getOverlays().overlays") == {}
    page.context.close()
