"""A study whose truth came from a finished truth panel: the bundle holds the panel's record
(annotators, their labels, the votes, the adjudication, each truth value's provenance) and the
import rebuilds it, so the imported study is scored on the same truth."""

import json

import pytest
from django.core.management import call_command
from django.db import connection

from readerstudy.analysis.bundle import BundleError, rerun
from readerstudy.exports.bundle_export import export_bundle
from readerstudy.exports.bundle_import import import_bundle
from readerstudy.exports.bundle_panel import FILES, PANEL
from readerstudy.exports.study_endpoints import truths_by_case
from readerstudy.panels.models import Annotation, Panel, PanelItem
from readerstudy.studies.models import ReaderStudy
from tests.exports.bundle_files import FAST, members, rewrite
from tests.exports.bundle_study import build_closed_study

pytestmark = pytest.mark.django_db


def _flush() -> None:
    """An empty database; the pending (deferred) foreign key checks of the panel's writes are
    run first, as PostgreSQL refuses to empty tables that still have some."""
    connection.check_constraints()
    call_command("flush", interactive=False)


def panel_record(study: ReaderStudy) -> dict:
    """The study's panel by natural keys: its fields, seats, labels, votes and truth."""
    panel = Panel.objects.get(pk=study.truth_panel_id)
    return {
        "panel": (panel.title, panel.rule, panel.labels, panel.status, panel.created_at,
                  panel.finished_at, panel.adjudicator.username),
        "annotators": sorted(
            (s.position, s.user.username, s.user.role) for s in panel.annotators.all()
        ),
        "annotations": sorted(
            (a.panel_case.case.code, a.annotator.user.username, json.dumps(a.values),
             a.submitted_at)
            for a in Annotation.objects.filter(panel_case__panel=panel)
        ),
        "items": sorted(
            (i.panel_case.case.code, i.key, json.dumps(i.votes, sort_keys=True),
             json.dumps(i.majority), i.needs_adjudication, json.dumps(i.value), i.method,
             i.decided_by.username if i.decided_by else None, i.decided_at)
            for i in PanelItem.objects.filter(panel_case__panel=panel)
        ),
        "truth": {
            truth.case.code: (truth.etiology, truth.provenance, truth.created_at)
            for truth in truths_by_case(study).values()
        },
    }  # fmt: skip


def test_the_panel_travels_and_the_provenance_is_equal(tmp_path):
    study = build_closed_study(n_cases=4, truth_panel=True)
    before = panel_record(study)
    methods = {code: t[1]["etiology"]["method"] for code, t in before["truth"].items()}
    assert sorted(methods.values()) == ["adjudication", "vote", "vote", "vote"]
    path = tmp_path / "panel.zip"
    export_bundle(study, path, report_options=FAST)
    files = members(path)
    assert set(FILES) <= set(files)
    assert json.loads(files["study.json"])["truth_source"] == "panel"
    manifest = json.loads(files["manifest.json"])["files"]
    assert set(FILES) <= set(manifest)

    _flush()
    imported = import_bundle(path).study

    assert imported.truth_source == "panel"
    assert panel_record(imported) == before
    assert rerun(path, tmp_path / "rerun").identical
    again = tmp_path / "again.zip"
    export_bundle(imported, again, report_options=FAST)
    second = members(again)
    for name in ("analysis/reads.csv", "analysis/scores.csv", *FILES[1:]):
        assert second[name] == files[name], name


def test_a_panel_study_without_its_panel_files_is_refused(tmp_path):
    path = tmp_path / "panel.zip"
    export_bundle(build_closed_study(n_cases=4, truth_panel=True), path, report_options=FAST)
    _flush()
    files = members(path)
    del files[PANEL]
    with pytest.raises(BundleError) as error:
        import_bundle(rewrite(path, tmp_path / "m.zip", files, rehash=True))
    assert (error.value.code, PANEL in error.value.message) == ("missing_part", True)
    assert ReaderStudy.objects.count() == 0 and Panel.objects.count() == 0


def test_tampering_with_any_panel_file_is_detected(tmp_path):
    path = tmp_path / "panel.zip"
    export_bundle(build_closed_study(n_cases=4, truth_panel=True), path, report_options=FAST)
    for name in FILES:
        files = members(path)
        data = bytearray(files[name])
        data[len(data) // 2] ^= 0x01  # one bit flipped
        files[name] = bytes(data)
        with pytest.raises(BundleError) as error:
            import_bundle(rewrite(path, tmp_path / "t.zip", files))
        assert error.value.code == "hash_mismatch" and name in error.value.message
