"""A seed-003-style protocol built through the question and endpoint editors, then read.

ICH present (yes/no) and the hematoma's location, asked only when ICH is present: the
coordinator builds it on the draft's pages, opens the study, and the reader's form shows the
location question only after answering "ICH present".
"""

import pytest

from readerstudy.cases.ingest import import_study
from readerstudy.reading.models import AnswerRevision
from readerstudy.studies.models import ReaderStudy
from tests.browser.helpers import login
from tests.factories import CoordinatorFactory, ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rows(page, prefix: str, rows: list[tuple[str, str]]) -> None:
    for i, (value, label) in enumerate(rows):
        page.fill(f"#id_{prefix}-{i}-value", value)
        page.fill(f"#id_{prefix}-{i}-label", label)


def _question(page, code, qtype, text, options=(), show_if=None):
    page.click("#add-question")
    page.fill("#id_code", code)
    page.select_option("#id_type", qtype)
    page.fill("#id_text", text)
    if show_if:
        page.select_option("#id_show_if", label=show_if)
    _rows(page, "options", list(options))
    page.click("text=Save question")


def _endpoint(page, code, name, kind, truth_field, labels, question, primary=False, shot=None):
    page.click("#add-endpoint")
    page.fill("#id_code", code)
    page.fill("#id_name", name)
    page.select_option("#id_kind", kind)
    page.select_option("#id_truth_field", truth_field)
    page.select_option("#id_question", question)
    if primary:
        page.check("#id_is_primary")
    _rows(page, "labels", labels)
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.click("text=Save endpoint")


def _messages(page) -> str:
    return page.locator(".messages").inner_text()


def test_a_conditional_protocol_built_on_the_pages_is_asked_conditionally(
    live_server, page, new_page, artifacts, tmp_path
):
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=128, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    reader = ReaderFactory()
    login(page, live_server, CoordinatorFactory())

    page.click("nav >> text=Studies")
    options = page.locator("#id_preset option").all_inner_texts()
    assert len(options) == 5 and "ICH and hematoma location (seed 003)" in " ".join(options)
    assert page.locator("#id_preset").input_value() == "seed000"
    page.screenshot(path=str(artifacts / "editor-create-presets.png"), full_page=True)
    page.fill("#id_title", "Location study")
    page.select_option("#id_design", "unaided_only")
    page.click("text=Create study")
    study = ReaderStudy.objects.get(title="Location study")
    assert page.locator("#question-list tbody tr").count() == 4  # seed 000's questions

    # A binary question with three options is refused, the reason beside the form.
    _question(
        page, "ich", "binary", "Intracranial hemorrhage present?",
        [("yes", "ICH present"), ("no", "No ICH"), ("maybe", "Unsure")],
    )  # fmt: skip
    assert "a binary question needs exactly two options" in page.locator(".nonfield").inner_text()
    page.screenshot(path=str(artifacts / "editor-question-error.png"), full_page=True)
    page.fill("#id_options-2-value", "")
    page.fill("#id_options-2-label", "")
    page.click("text=Save question")
    assert "Question “ich” saved." in _messages(page)

    page.click("#add-question")
    page.click("#options-rows button.add-row")  # a fourth row, added in the page
    assert page.locator("#options-rows tbody tr").count() == 4
    page.fill("#id_code", "location")
    page.select_option("#id_type", "single_choice")
    page.fill("#id_text", "Location of the hematoma")
    page.select_option("#id_show_if", label="ich is “ICH present”")
    _rows(page, "options", [("deep", "Deep"), ("lobar", "Lobar"), ("subtentorial", "Subtentorial")])
    page.screenshot(path=str(artifacts / "editor-question-form.png"), full_page=True)
    page.click("text=Save question")
    row = page.locator('#question-list tr[data-code="location"]')
    assert "if ich is “yes”" in row.locator(".condition").inner_text()

    _endpoint(page, "ich", "ICH present", "binary", "ich_present",
              [("yes", "ICH present"), ("no", "No ICH")], "ich", primary=True)  # fmt: skip
    assert "Endpoint “ich” saved." in _messages(page)
    _endpoint(page, "location", "Hematoma location", "multi_class", "location",
              [("deep", "Deep"), ("lobar", "Lobar"), ("subtentorial", "Subtentorial")],
              "location", shot=artifacts / "editor-endpoint-form.png")  # fmt: skip
    page.click('#endpoint-list tr[data-code="etiology"] button:has-text("Delete")')
    assert "Endpoint “etiology” deleted." in _messages(page)
    for code in ("diagnosis", "confidence", "signs", "comment"):
        page.click(f'#question-list tr[data-code="{code}"] button:has-text("Delete")')
        assert f"Question “{code}” deleted." in _messages(page)
    assert list(study.questions.values_list("code", flat=True)) == ["ich", "location"]
    assert list(study.endpoints.values_list("code", flat=True)) == ["ich", "location"]
    page.screenshot(path=str(artifacts / "editor-draft-full.png"), full_page=True)
    page.locator("#study-questions").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "editor-draft-questions.png"))
    page.locator("#study-endpoints").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "editor-draft-endpoints.png"))

    # The preset chooser asks before replacing anything; keep ours.
    page.select_option("#preset-choice", "seed002")
    page.click("text=Replace…")
    assert "ICH and five subtypes (seed 002)" in page.locator("h1 + p").inner_text()
    page.screenshot(path=str(artifacts / "editor-preset-confirm.png"), full_page=True)
    page.click("text=Keep them")
    assert list(study.questions.values_list("code", flat=True)) == ["ich", "location"]

    page.check(f'#case-form input[value="{case.pk}"]')
    page.click("text=Save case selection")
    page.check(f"#reader-form label:has-text('{reader.username}') input")
    page.click("text=Save reader selection")
    page.check("#id_truth_pending_allowed")
    page.click("text=Open study (freezes the design)")
    assert page.locator("#study-status").inner_text() == "open"
    frozen = page.locator("#frozen-questions").inner_text()
    assert "Location of the hematoma" in frozen and "if ich is “yes”" in frozen
    assert page.locator("#frozen-questions button, #frozen-endpoints button").count() == 0
    page.locator("#frozen-questions").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "editor-frozen.png"))

    # The reader: location is asked only once ICH present is answered "yes".
    reading = new_page()
    login(reading, live_server, reader)
    reading.goto(f"{live_server.url}/read/{study.pk}/")
    reading.wait_for_function(
        "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment",
        timeout=30000,
    )
    location = reading.locator('fieldset[data-code="location"]')
    assert reading.locator('fieldset[data-code="ich"]').is_visible()
    assert location.is_hidden()
    reading.get_by_role("radio", name="No ICH").check()
    assert location.is_hidden()
    reading.get_by_role("radio", name="ICH present").check()
    assert location.is_visible()
    reading.get_by_role("radio", name="Lobar").check()
    reading.evaluate("() => { document.getElementById('rs-help').open = false; }")
    location.scroll_into_view_if_needed()
    reading.screenshot(path=str(artifacts / "editor-reader-conditional.png"))
    reading.get_by_role("radio", name="No ICH").check()
    assert location.is_hidden()
    reading.get_by_role("radio", name="ICH present").check()
    reading.click("#rs-submit")
    reading.wait_for_function(
        "() => document.querySelector('#rs-case').innerText.includes('All reads are done')",
        timeout=30000,
    )
    lock = AnswerRevision.objects.get(assignment__study=study, kind="lock")
    assert lock.answers == {"ich": "yes", "location": "lobar"}
    reading.context.close()
