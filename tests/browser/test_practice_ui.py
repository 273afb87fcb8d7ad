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
from tests.factories import (
    PASSWORD,
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


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def _answer(page, diagnosis):
    page.wait_for_selector("#rs-form fieldset[data-code=diagnosis]")
    page.check(f"#rs-form input[name=diagnosis][value={diagnosis}]")
    page.fill("#rs-form input[type=number][name=confidence]", "70")
    page.click("#rs-submit")
    page.wait_for_selector("#rs-feedback:not([hidden])")


def test_practice_feedback_qualification_then_the_study(live_server, page, tmp_path):
    study, reader, coordinator = _world(tmp_path)
    _login(page, live_server, reader)
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
    context = page.context.browser.new_context(viewport={"width": 1366, "height": 768})
    coord = context.new_page()
    _login(coord, live_server, coordinator)
    coord.goto(f"{live_server.url}/studies/{study.pk}/#study-practice")
    coord.click("#practice-readers button[value=attempt]")
    coord.wait_for_selector("#practice-readers")
    coord.locator("#study-practice").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    coord.locator("#study-practice").screenshot(path=str(SHOTS / "coordinator_practice_setup.png"))
    context.close()
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
