"""Annotator masks in Debian chromium: a coordinator uploads a mask, and with the others from
the manifest the page lists them and shows the Dice table."""

from pathlib import Path

import pytest

from readerstudy.cases.annotator_masks import import_manifest
from readerstudy.cases.labels import import_mask
from readerstudy.cases.models import AnnotatorMask
from tests.browser.helpers import login
from tests.cases.annotator_fixtures import annotated_cases, manifest
from tests.factories import CoordinatorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/icc")


def test_a_coordinator_uploads_a_mask_and_reads_the_dice_table(live_server, page, tmp_path):
    from phantoms import generate_dataset

    out = tmp_path / "ph"
    records = generate_dataset(out, 2, 11, matrix=128)
    cases, rows = annotated_cases(out, records)
    import_manifest(manifest(out, rows[1:]))  # all but the first case's A/1, uploaded below
    import_mask(cases[0], out / f"{records[0]['case_id']}_mask.nii.gz")
    user = CoordinatorFactory()
    page.set_viewport_size({"width": 1366, "height": 768})
    login(page, live_server, user)

    page.goto(f"{live_server.url}/cases/")
    page.click("text=Annotator masks")
    page.wait_for_url("**/cases/annotators/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "01-annotator-masks.png"))

    page.fill("#id_case", cases[0].code)
    page.fill("#id_annotator", "A")
    page.fill("#id_session", "1")
    page.fill("#id_date", "2024-01-10")
    page.set_input_files("#id_file", str(out / f"{cases[0].code}_a1.nii.gz"))
    page.click("#annotator-mask-form button[type=submit]")
    page.wait_for_selector("text=1 annotator mask of 1 case stored")
    assert AnnotatorMask.objects.count() == 6
    assert page.locator("#annotator-mask-table tbody tr").count() == 6
    assert page.locator("#dice-table tbody tr").count() == 2 + 2 + 3  # inter, intra, vs truth
    page.screenshot(path=str(SHOTS / "02-uploaded.png"), full_page=True)
    page.locator("#dice-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "03-dice-table.png"))

    # a label map instead of a mask: refused with the reason, nothing stored
    from tests.cases.annotator_fixtures import phantom_mask, write_mask

    write_mask(out / "labels.nii.gz", phantom_mask(out, records[0]["case_id"]) * 2, cases[0])
    page.fill("#id_case", cases[0].code)
    page.fill("#id_annotator", "C")
    page.set_input_files("#id_file", str(out / "labels.nii.gz"))
    page.click("#annotator-mask-form button[type=submit]")
    page.wait_for_selector("#annotator-mask-errors")
    assert "the mask is not binary" in page.locator("#annotator-mask-errors").inner_text()
    assert AnnotatorMask.objects.count() == 6
    page.screenshot(path=str(SHOTS / "04-refused.png"))
