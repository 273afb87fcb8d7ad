"""A truth panel with slice labels and hematoma masks in Debian chromium: three annotators mark
the slices with bleeding and draw the hematoma in the viewer, blind to each other; the
adjudicator decides the one slice they disagree on; the finalized truth holds the slice
labels and the consensus mask, and the report their agreement and Dice."""

from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from readerstudy.cases.ingest import import_study
from readerstudy.panels.models import Annotation, ConsensusMask, Panel, PanelItem, PanelTruth
from tests.browser.helpers import login as _login
from tests.factories import AdjudicatorFactory, AnnotatorFactory, CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/panels")


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / name))


def _wait_marks(page):
    page.wait_for_function(
        "() => { const p = window.readerstudyPanel; return p && p.marks &&"
        " p.viewer.getState().tools; }",
        timeout=60000,
    )
    page.evaluate("() => window.readerstudyPanel.marks.ready")


def _value(page) -> dict:
    return page.evaluate("() => window.readerstudyPanel.marks.value()")


def _drag(page, x0, y0, x1, y1):
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()


def _brush(page, x0, y0, x1, y1):
    """One brush stroke, repeated over the same path until the segmentation has it: on busy
    cores a stroke made before the brush tool is active is lost (the same path again adds
    nothing else)."""
    for _ in range(6):
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.keyboard.press("b")
        _drag(page, x0, y0, x1, y1)
        try:
            page.wait_for_function(
                "() => window.readerstudyPanel.marks.value().segmentation !== null",
                timeout=10000,
            )
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError("the brush stroke never reached the segmentation")


# Slices (0-based viewer positions) each annotator marks, and where they brush (offsets from
# the viewport's centre): all mark slice 2, only A1 and A3 slice 3 (the unanimous rule sends it
# to the adjudicator); A1 and A2 brush the same place, A3 elsewhere.
PLAN = [([2, 3], (-40, -10)), ([2], (-40, -10)), ([2, 3], (60, 40))]


def test_three_annotators_mark_slices_and_draw_masks_one_adjudication(live_server, page, tmp_path):
    from phantoms import generate_dataset

    page.set_default_timeout(90_000)  # the mask vote runs in the request; slow on busy cores
    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=128, positive_fraction=1.0)
    case = import_study(tmp_path / "ph" / records[0]["case_id"]).case
    annotators = [AnnotatorFactory() for _ in range(3)]
    adjudicator, coordinator = AdjudicatorFactory(), CoordinatorFactory()

    _login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/panels/new/")
    page.fill("#id_title", "Slices and masks panel")
    page.uncheck("input[name=labels][value=subtypes]")
    page.check("input[name=labels][value=slice_labels]")
    page.check("input[name=labels][value=hematoma_mask]")
    page.select_option("#id_rule", "unanimous")
    page.select_option("#id_cases", [str(case.pk)])
    for user in annotators:
        page.check(f"input[name=annotators][value='{user.pk}']")
    page.select_option("#id_adjudicator", str(adjudicator.pk))
    page.locator("input[name=labels][value=slice_labels]").scroll_into_view_if_needed()
    _shot(page, "01-panel-create-slices-masks.png")
    page.click("#panel-form button[type=submit]")
    page.wait_for_selector("#panel-status")
    panel = Panel.objects.get(title="Slices and masks panel")
    assert panel.labels == ["ich_present", "slice_labels", "hematoma_mask"]

    for n, (user, (slices, (dx, dy))) in enumerate(zip(annotators, PLAN, strict=True)):
        _login(page, live_server, user)
        page.goto(f"{live_server.url}/panels/{panel.pk}/annotate/{case.code}/")
        _wait_marks(page)
        # blind: nothing of the annotators before shows up
        assert _value(page)["slice_marks"] == [] and _value(page)["segmentation"] is None
        page.check("input[name=ich_present][value=yes]")
        marks = page.locator("#pn-marks")
        for position in slices:
            page.evaluate(f"() => window.readerstudyPanel.viewer.setSlice({position})")
            page.wait_for_function(
                f"() => window.readerstudyPanel.viewer.getSlice() === {position}"
            )
            marks.locator("input[data-slice-label=any]").check()
        page.evaluate("() => window.readerstudyPanel.viewer.setSlice(2)")  # brush on slice 2
        page.wait_for_function("() => window.readerstudyPanel.viewer.getSlice() === 2")
        box = page.locator(".rsv-viewport").first.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.keyboard.press("b")
        _brush(page, cx + dx, cy + dy, cx + dx + 40, cy + dy + 20)
        page.keyboard.press("w")
        if n == 0:
            _shot(page, "02-annotator-slices-and-mask.png")
            page.locator("#pn-marks .rs-marks-slice-list").scroll_into_view_if_needed()
            _shot(page, "02b-annotator-slice-list.png")
        page.click("#annotation-form button[type=submit]")
        page.wait_for_selector("#annotate-cases")
        annotation = Annotation.objects.get(panel_case__panel=panel, annotator__user=user)
        assert [m["position"] for m in annotation.values["slice_labels"]] == slices
        assert annotation.values["hematoma_mask"]["voxels"] > 0

    # The first annotator's page brings back their own marks and mask, nobody else's.
    _login(page, live_server, annotators[1])
    page.goto(f"{live_server.url}/panels/{panel.pk}/annotate/{case.code}/")
    _wait_marks(page)
    page.wait_for_function(
        "() => document.querySelector('.rs-marks-seg-status').innerText.includes('saved')",
        timeout=60000,
    )
    own = _value(page)
    assert len(own["slice_marks"]) == 1
    assert (
        own["segmentation"]["sha256"]
        == (
            Annotation.objects.get(panel_case__panel=panel, annotator__user=annotators[1]).values[
                "hematoma_mask"
            ]["sha256"]
        )
    )

    panel.refresh_from_db()
    assert panel.status == Panel.Status.ADJUDICATING
    open_items = list(
        PanelItem.objects.filter(panel_case__panel=panel, needs_adjudication=True).values_list(
            "key", flat=True
        )
    )
    assert open_items == ["slice:3:any"]

    _login(page, live_server, adjudicator)
    page.goto(f"{live_server.url}/panels/{panel.pk}/adjudicate/{case.code}/")
    item = page.locator("[id='item-slice:3:any']")
    assert "Slice 4 · ANY" in item.inner_text()
    assert not any(u.username in page.content() for u in annotators)
    item.locator("button[data-slice]").click()
    page.wait_for_function("() => window.readerstudyPanel.viewer.getSlice() === 3")
    page.select_option("[id='id-item-slice:3:any']", "yes")
    _shot(page, "03-adjudication-slice.png")
    page.click("#adjudication-form button[type=submit]")
    page.wait_for_selector("#adjudicate-cases")

    _login(page, live_server, coordinator)
    page.goto(f"{live_server.url}/panels/{panel.pk}/")
    page.click("#panel-finalize")
    page.wait_for_selector("text=finalized")
    page.goto(f"{live_server.url}/panels/{panel.pk}/report/")
    assert "adjudicated" in page.locator("#panel-slices").inner_text()
    assert page.locator("#panel-masks").count() == 1
    _shot(page, "04-panel-report-slices-masks.png")
    page.locator("#panel-masks").scroll_into_view_if_needed()
    _shot(page, "05-panel-report-masks.png")

    truth = PanelTruth.objects.get(panel=panel)
    positive = sorted(int(p) for p, labels in truth.slice_labels["slices"].items() if labels)
    assert positive == [2, 3]
    assert truth.provenance["slice_labels"]["method"] == "adjudication"
    consensus = ConsensusMask.objects.get(panel_case__panel=panel)
    assert consensus.dice["pairs"]["A1-A2"] > 0.9 and consensus.dice["pairs"]["A1-A3"] == 0.0
    assert truth.mask_voxels == consensus.voxels > 0
    assert truth.provenance["hematoma_mask"]["method"] == "vote"
    page.goto(f"{live_server.url}/cases/{case.code}/")
    rows = page.locator(f"tr[data-panel='{panel.pk}']")
    shown = " ".join(rows.all_inner_texts())
    assert f"2 of {case.primary_series.num_slices} slices positive (3, 4)" in shown
    assert f"hematoma_mask: {truth.mask_voxels} voxels" in shown
    rows.last.scroll_into_view_if_needed()
    _shot(page, "06-case-truth-provenance.png")
