"""The case page shows where the case's truth mask came from: the panel whose consensus was
written for a reader study (method, outcome, who, when), or an imported mask, with the record
of every panel's consensus meeting it. The section comes from the panels app (the case
library cannot import it) through ``cases.case_sections``."""

import pytest
from django.urls import reverse

from readerstudy.cases.case_sections import case_sections
from readerstudy.cases.ingest import import_study
from readerstudy.panels.case_page import TEMPLATE
from readerstudy.studies.truth_source import set_truth_source
from tests.factories import CoordinatorFactory, cases_with_series

from .test_case_truth_masks import _finished, _imported, _study


@pytest.fixture
def case(tmp_path):
    """A phantom case with one series (as ``test_case_truth_masks``)."""
    from phantoms import generate_dataset

    records = generate_dataset(tmp_path / "ph", 1, 5, matrix=64, positive_fraction=1.0)
    return import_study(tmp_path / "ph" / records[0]["case_id"]).case


pytestmark = pytest.mark.django_db


def _page(client, user, case) -> str:
    client.force_login(user)
    response = client.get(reverse("case-detail", args=[case.code]))
    assert response.status_code == 200
    return response.content.decode()


def _section(html: str) -> str:
    start = html.index('id="truth-mask-provenance"')
    return html[start : html.index("</section>", start)]


def test_a_mask_written_from_a_panel_names_the_panel_study_and_coordinator(case, client):
    panel, coordinator = _finished(client, case)
    study = _study(case)
    set_truth_source(study, panel.pk, user=coordinator)
    section = _section(_page(client, coordinator, case))
    assert "100 voxels" in section
    assert f'href="{reverse("panel-detail", args=[panel.pk])}">{panel.title}</a>' in section
    assert f'href="{reverse("study-detail", args=[study.pk])}">study {study.pk}</a>' in section
    assert "consensus of the annotators" in section and coordinator.username in section
    assert "written (the case had no truth mask)" in section
    assert section.count('data-outcome="written"') == 1
    assert "Imported" not in section


def test_a_kept_imported_mask_is_shown_as_imported_with_the_panel_s_record(case, client):
    panel, coordinator = _finished(client, case)
    _imported(case, lesions=False)
    set_truth_source(_study(case), panel.pk, replace_masks=False, user=coordinator)
    section = _section(_page(client, coordinator, case))
    assert "50 voxels" in section
    assert "Imported: no panel" in section
    assert section.count('data-outcome="kept"') == 1 and "written (" not in section


def test_a_case_without_mask_or_record_has_no_mask_section(client):
    (bare,) = cases_with_series(1)
    assert [s.template for s in case_sections(bare)] == []
    assert 'id="truth-mask-provenance"' not in _page(client, CoordinatorFactory(), bare)


def test_the_section_is_registered_by_the_panels_app(case, client):
    panel, coordinator = _finished(client, case)
    set_truth_source(_study(case), panel.pk, user=coordinator)
    (section,) = case_sections(case)
    assert section.template == TEMPLATE and section.context["written"].panel_id == panel.pk
