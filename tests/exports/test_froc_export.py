"""A FROC study's marks exported as an RJafroc workbook (scored with the study's acceptance
criterion) and analysed in the platform (wAFROC, OR), with the download permissions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.files.storage import default_storage

from readerstudy.analysis.froc import froc_analysis
from readerstudy.analysis.froc_io import read_froc_xlsx
from readerstudy.cases.lesions import import_lesions_csv
from readerstudy.cases.models import Instance
from readerstudy.exports import runner
from readerstudy.exports.froc_data import froc_data
from readerstudy.exports.models import AnalysisRun
from readerstudy.reading import services as reading
from readerstudy.reading.assistance import assistance_payload
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Assignment, Design
from readerstudy.studies.questions import seed000_questions
from tests.factories import (
    CoordinatorFactory,
    ModelVersionFactory,
    ReaderFactory,
    StatisticianFactory,
    cases_with_series,
    make_inference_output,
)

pytestmark = pytest.mark.django_db
MARKS_QUESTION = {
    "code": "lesions", "type": "marks", "text": "Mark each hemorrhage", "required": False,
    "config": {"tools": ["point", "ellipse", "rectangle"], "rating_min": 1, "rating_max": 5,
               "max_marks": 10},
}  # fmt: skip
SLICES = 6
# lesions: D1 has two (weights 0.25 / 0.75), D2 one; N1, N2 are normal
LESIONS = {"D1": [(1, (50.0, 50.0, 10.0), 0.25), (2, (150.0, 150.0, 20.0), 0.75)],
           "D2": [(1, (100.0, 100.0, 15.0), None)]}  # fmt: skip


def _uid(case, z_mm: float) -> str:
    return Instance.objects.get(
        series=case.primary_series, position=round(z_mm / 5)
    ).sop_instance_uid


def _point(case, mid: str, x: float, y: float, z: float, rating: int) -> dict:
    return {"id": mid, "tool": "point", "sop_instance_uid": _uid(case, z),
            "point_mm": [x, y, z], "rating": rating}  # fmt: skip


def _marks_for(case, code: str, reader: int, condition: str) -> list[dict]:
    """Aided readers find more; reader 1 is better than reader 0."""
    aided = condition == "aided"
    out = []
    if code == "D1":
        out.append(_point(case, "a", 52.0, 50.0, 10.0, 4 + aided))  # 2 mm off lesion 1
        if aided or reader == 1:
            out.append(_point(case, "b", 150.0, 162.0, 20.0, 3 + reader))  # 12 mm off lesion 2
    if code == "D2":
        out.append(_point(case, "c", 100.0, 101.0, 15.0, 2 + aided + reader))
    if code.startswith("N") and not (aided and reader == 1):
        out.append(_point(case, "fp", 30.0, 30.0, 5.0, 1 + (code == "N2") + reader))
    return out


def _study(tmp_path, *, lock_all: bool = True):
    model = ModelVersionFactory()
    cases = cases_with_series(4)
    codes = ["D1", "D2", "N1", "N2"]
    for case, code in zip(cases, codes, strict=True):
        case.code = code
        case.save(update_fields=["code"])
        for z in range(SLICES):
            Instance.objects.create(
                series=case.primary_series, sop_instance_uid=f"2.25.{case.pk}{z}", sop_class_uid="1.2",
                transfer_syntax_uid="1.2.840.10008.1.2.1", position=z, file=f"x/{z}", sha256="0" * 64,
                size=1, pixel_offset=0, pixel_length=1, metadata={"00200032": {"vr": "DS", "Value": [0, 0, 5 * z]}},
            )  # fmt: skip
        make_inference_output(case, model)
    lines = ["case_code,lesion_id,x_mm,y_mm,z_mm,weight"]
    for code, items in LESIONS.items():
        lines += [f"{code},{i},{x},{y},{z},{'' if w is None else w}" for i, (x, y, z), w in items]
    (tmp_path / "lesions.csv").write_text("\n".join(lines) + "\n")
    import_lesions_csv(tmp_path / "lesions.csv")
    study = study_services.create_study(
        title="FROC study", design=Design.SEQUENTIAL_PER_CASE, randomization_seed=4
    )
    study_services.set_questions(study, [*seed000_questions(), MARKS_QUESTION])
    study_services.add_cases(study, cases)
    readers = [ReaderFactory(username=f"r{i}") for i in range(2)]
    for r in readers:
        study_services.enroll_reader(study, r)
    study_services.configure_assistance(study, model_version=model, heatmaps=[])
    study = study_services.open_study(study, truth_pending_allowed=True)
    by_code = dict(zip(codes, cases, strict=True))
    for n, r in enumerate(readers):
        reads = list(Assignment.objects.filter(reader__user=r).order_by("position"))
        for a in reads[: None if lock_all else 3]:
            reading.start(r, a.pk)
            if a.condition == "aided":
                assistance_payload(r, a.pk, url_for=lambda *args: "/x")
            code = a.study_case.case.code
            marks = _marks_for(by_code[code], code, n, a.condition)
            answer = {"diagnosis": "sich", "confidence": 50,
                      "lesions": {"marks": marks, "slice_marks": [], "segmentation": None}}  # fmt: skip
            reading.submit(r, a.pk, answer, client_request_id=f"{a.pk}", lock=True)
    return study


@pytest.fixture
def froc_study(tmp_path):
    return _study(tmp_path)


def _ll(ds, reader, modality, case, lesion) -> float:
    m, r = ds.modalities.index(modality), ds.readers.index(reader)
    k2 = ds.diseased_cases.index(case)
    return float(ds.ll_array()[m, r, k2, ds.lesion_ids[k2].index(lesion)])


def test_workbook_round_trips_with_ll_nl_per_reader_condition_case(froc_study, client):
    froc_study.status = "closed"
    froc_study.save(update_fields=["status"])
    client.force_login(StatisticianFactory())
    response = client.get(f"/api/exports/studies/{froc_study.pk}/froc/workbook/")
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].endswith('froc-study-froc.xlsx"')
    ds = read_froc_xlsx(response.content)
    assert ds.readers == ["r0", "r1"] and ds.modalities == ["unaided", "aided"]
    assert sorted(ds.normal_cases) == ["N1", "N2"] and sorted(ds.diseased_cases) == ["D1", "D2"]
    d1 = ds.diseased_cases.index("D1")
    assert ds.lesion_weights[d1] == [0.25, 0.75]
    assert _ll(ds, "r0", "unaided", "D1", 1) == 4
    assert _ll(ds, "r0", "aided", "D1", 1) == 5
    # 12 mm from lesion 2 is outside the default 10 mm: NL, and lesion 2 unmarked
    assert np.isneginf(_ll(ds, "r1", "aided", "D1", 2))
    top, count = ds.nl_arrays()
    m, r = ds.modalities.index("aided"), ds.readers.index("r1")
    assert count[m, r, ds.cases.index("D1")] == 1
    assert count[m, r, ds.cases.index("N1")] == 0  # the aided r1 marked no normal case
    assert count[0, 0, ds.cases.index("N2")] == 1 and top[0, 0, ds.cases.index("N2")] == 2


def test_the_acceptance_criterion_changes_the_scoring(froc_study, client):
    coordinator = CoordinatorFactory()
    client.force_login(coordinator)
    url = f"/api/exports/studies/{froc_study.pk}/froc/scoring/"
    assert client.get(url).json() == {
        "criterion": "distance", "radius_mm": 10.0, "use_lesion_radius": True, "question_code": "",
    }  # fmt: skip
    body = {
        "criterion": "distance",
        "radius_mm": 15.0,
        "use_lesion_radius": True,
        "question_code": "",
    }
    response = client.put(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["radius_mm"] == 15.0
    ds = read_froc_xlsx(froc_data(froc_study).xlsx())
    assert _ll(ds, "r1", "aided", "D1", 2) == 4  # now within R
    bad = client.put(url, {**body, "criterion": "inside"}, content_type="application/json")
    assert bad.status_code == 400 and "criterion" in bad.json()
    no_q = client.put(url, {**body, "question_code": "nope"}, content_type="application/json")
    assert no_q.status_code == 409 and no_q.json()["code"] == "no_marks_question"
    client.force_login(StatisticianFactory())
    assert client.put(url, body, content_type="application/json").status_code == 403


def test_mask_criterion_without_mask_components_is_refused(froc_study):
    from readerstudy.exports.models import LocalizationScoring
    from readerstudy.studies.errors import ProtocolConflict

    LocalizationScoring.objects.create(study=froc_study, criterion="mask")
    with pytest.raises(ProtocolConflict, match="no mask component"):
        froc_data(froc_study)


def test_download_permissions(froc_study, client):
    url = f"/api/exports/studies/{froc_study.pk}/froc/workbook/"
    assert client.get(url).status_code in (401, 403)
    client.force_login(ReaderFactory())
    assert client.get(url).status_code == 403
    client.force_login(StatisticianFactory())
    assert client.get(url).status_code == 403  # open study, no access granted
    client.force_login(CoordinatorFactory())
    assert client.get(url).status_code == 403  # blinded coordinators: the workbook holds truth
    study_services.close_study(froc_study)
    assert client.get(url).status_code == 200
    client.force_login(ReaderFactory())
    assert client.get(f"/api/exports/studies/{froc_study.pk}/froc/scoring/").status_code == 403


def test_incomplete_reads_are_refused(tmp_path):
    study = _study(tmp_path, lock_all=False)
    from readerstudy.studies.errors import ProtocolConflict

    with pytest.raises(ProtocolConflict, match="need every read locked"):
        froc_data(study)


def test_in_platform_froc_analysis_gives_wafroc_with_or(froc_study, client):
    study_services.close_study(froc_study)
    run = AnalysisRun.objects.create(study=froc_study, options={"froc": {"method": "DBM"}})
    runner.execute_analysis(run_id=str(run.pk))
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    assert run.summary["kind"] == "froc" and run.summary["fom_name"] == "wAFROC"
    names = {f.rsplit("/", 1)[-1] for f in run.files}
    assert {"report.json", "froc-data.xlsx", "wafroc.png", "froc.svg"} <= names
    report_name = next(f for f in run.files if f.endswith("report.json"))
    with default_storage.open(report_name) as fh:
        report = json.load(fh)["froc"]
    direct = froc_analysis(read_froc_xlsx(froc_data(froc_study).xlsx()), "wAFROC", "DBM")
    assert report["fom"]["aided"]["r1"] == pytest.approx(direct.foms()["aided"]["r1"])
    assert report["or_rrrc"]["F"] == pytest.approx(direct.to_dict()["or_rrrc"]["F"])
    assert report["or_rrrc"]["diffs"][0]["contrast"] == "unaided - aided"
    assert "dbm_rrrc" in report
    assert run.summary["means"]["aided"] > run.summary["means"]["unaided"]
    client.force_login(StatisticianFactory())
    file_url = f"/api/exports/analyses/{run.pk}/files/froc-data.xlsx"
    assert client.get(file_url).status_code == 200
    client.force_login(ReaderFactory())
    assert client.get(file_url).status_code == 403


def test_analysis_request_takes_report_or_froc_not_both(froc_study, client):
    study_services.close_study(froc_study)
    client.force_login(StatisticianFactory())
    url = f"/api/exports/studies/{froc_study.pk}/analyses/"
    both = client.post(url, {"report": {}, "froc": {}}, content_type="application/json")
    assert both.status_code == 400
    bad = client.post(url, {"froc": {"fom": "Wilcoxon"}}, content_type="application/json")
    assert bad.status_code == 400


def _mask_case(case, blobs) -> None:
    """A hematoma mask on the case's grid (0.45 mm pixels, 5 mm slices, origin 0)."""
    import SimpleITK as sitk

    from readerstudy.ai.outputs import save_mask
    from readerstudy.cases.models import HematomaMask

    array = np.zeros((SLICES, 512, 512), np.uint8)
    for z, lo, hi in blobs:  # lo/hi in mm, on one slice
        a, b = round(lo / 0.45), round(hi / 0.45)
        array[z, a:b, a:b] = 1
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.45, 0.45, 5.0))
    HematomaMask.objects.create(
        case=case, series=case.primary_series, file=save_mask(array, image),
        voxels=int(array.sum()), volume_ml=1.0,
    )  # fmt: skip


@pytest.mark.parametrize("criterion", ["mask", "roi_overlap"])
def test_lesions_from_masks_scored_inside_the_mask(froc_study, criterion):
    from django.core.management import call_command

    from readerstudy.cases.models import Case
    from readerstudy.exports.models import LocalizationScoring

    _mask_case(Case.objects.get(code="D1"), [(2, 45.0, 56.0)])  # holds mark a (52, 50, 10)
    _mask_case(Case.objects.get(code="D2"), [(3, 98.0, 100.5)])  # misses mark c (100, 101, 15)
    call_command("import_lesions", "--from-masks")
    LocalizationScoring.objects.create(study=froc_study, criterion=criterion)
    ds = read_froc_xlsx(froc_data(froc_study).xlsx())
    assert [len(x) for x in ds.lesion_ids] == [1, 1]  # the masks' components replaced the CSV
    assert _ll(ds, "r0", "unaided", "D1", 1) == 4
    assert np.isneginf(_ll(ds, "r0", "unaided", "D2", 1))  # c lies outside D2's component
    top, count = ds.nl_arrays()
    assert count[0, 0, ds.cases.index("D2")] == 1
