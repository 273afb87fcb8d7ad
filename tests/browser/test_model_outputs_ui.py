"""A seed-004-style aided read in Debian chromium (1366 x 768): after the unaided lock the
reader sees the per-label probabilities, the slice probability strip (a click jumps to its
slice), per-label Grad-CAM chosen by label with the colour bar's words from the model's labels
and its fixed scale, and side by side original | saliency | ground truth, kept on one slice.

The model output is a real ``inference.results.Prediction`` of the seed-004 model's labels,
stored by the worker's own storing functions (``readerstudy.ai.runner``).
"""

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from readerstudy.cases.models import Case
from readerstudy.studies import services as study_services
from readerstudy.studies.models import Design
from tests.browser.helpers import login, open_reading
from tests.factories import ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots/viewer")
MODEL_ID = "ich_subtypes_cnn_bigru"
LABELS = [
    ("any", "Any ICH"),
    ("iph", "Intraparenchymal"),
    ("ivh", "Intraventricular"),
    ("sah", "Subarachnoid"),
    ("sdh", "Subdural"),
    ("edh", "Epidural"),
]
GLOBAL_SCALE = 4.0  # the model's fixed Grad-CAM scale (raw units): the colour bar's top


def _manifest() -> dict:
    """What the registry stores of the seed-004 model: its labels, one multi-label slice-level
    head, one operating point, Grad-CAM with a global scale."""
    return {
        "schema_version": "2.0",
        "id": MODEL_ID,
        "version": "0.1.0",
        "name": "ICH subtypes CNN + BiGRU (seed 004)",
        "labels": [{"name": n, "display": d} for n, d in LABELS],
        "heads": [
            {
                "name": "ich",
                "kind": "multi_label",
                "labels": [n for n, _ in LABELS],
                "slice_level": True,
                "aggregation": "max over slices",
            }
        ],
        "positive_label": "any",
        "probability": "P(label) per label",
        "operating_points": {"default": {"threshold": 0.5, "rule": "0.5 per label"}},
        "explainers": {"gradcam": {"signed": False, "defaults": {"global_scale": GLOBAL_SCALE}}},
        "weights": [],
    }


def _profile(n: int, peak: int, height: float) -> list[float]:
    """Probability per slice: a bump of ``height`` at ``peak`` over a floor of 0.03, every
    value distinct so that a mis-mapped slice shows."""
    k = np.arange(n)
    return [float(v) for v in 0.03 + height * np.exp(-(((k - peak) / 2.0) ** 2)) + k * 1e-4]


def _store_prediction(case, version, peaks: dict[str, int]):
    """A Prediction with slice probabilities and one Grad-CAM per label (a blob on the peak
    slice, off centre by label), stored as the worker stores it."""
    import SimpleITK as sitk

    from inference.geometry import Grid
    from inference.results import Heatmap, Prediction, Probability
    from readerstudy.ai.models import InferenceJob
    from readerstudy.ai.runner import save_files, slice_outputs, store_output
    from readerstudy.cases.storage import local_copy

    series = case.primary_series
    with local_copy(series.volume) as path:
        image = sitk.ReadImage(str(path))
    grid = Grid.from_sitk(image)
    z, y, x = grid.shape
    heights = {"any": 0.95, "iph": 0.85, "ivh": 0.2, "sah": 0.3, "sdh": 0.7, "edh": 0.1}
    slices = {n: _profile(z, peaks[n], heights[n]) for n, _ in LABELS}
    heatmaps = {}
    yy, xx = np.mgrid[0:y, 0:x]
    for i, (name, _) in enumerate(LABELS):
        cy, cx = y * (0.3 + 0.08 * i), x * (0.35 + 0.06 * i)
        blob = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (y / 10) ** 2)))
        array = np.zeros(grid.shape, dtype=np.float16)
        for k in range(z):
            array[k] = (blob * np.exp(-(((k - peaks[name]) / 1.5) ** 2))).astype(np.float16)
        heatmaps[f"gradcam_{name}"] = Heatmap(
            method="gradcam",
            label=name,
            array=array,
            signed=False,
            params={"scale": 2.0, "global_scale": GLOBAL_SCALE, "layer": "features"},
            passes={"forward": 1, "backward": 1},
            seconds=0.1,
        )
    scan = {n: max(v) for n, v in slices.items()}  # the model's aggregation: max over slices
    probabilities: dict[str, Probability] = dict(scan)
    prediction = Prediction(
        model_id=MODEL_ID,
        model_version=version.version,
        probabilities=probabilities,
        decisions={"default": {n: int(p >= 0.5) for n, p in scan.items()}},
        thresholds={"default": 0.5},
        heatmaps=heatmaps,
        grid=grid,
        provenance={"model": {"id": MODEL_ID, "version": version.version}},
        positive_label="any",
        slice_probabilities=slices,
    )
    job = InferenceJob.objects.create(
        case=case,
        series=series,
        model_version=version,
        params={"explain": ["gradcam"]},
        params_hash=hashlib.sha256(b"gradcam").hexdigest(),
        status=InferenceJob.Status.SUCCEEDED,
        done=100,
        total=100,
    )
    return store_output(
        job, prediction, save_files(prediction, image), slice_outputs(series.pk, prediction)
    )


def _import_case(tmp_path):
    """One subtype phantom (with its truth mask) imported as the importer does; returns the
    case and the slice where its truth has the most voxels (series order)."""
    from phantoms.subtype_dataset import generate_subtype_dataset
    from readerstudy.ai.outputs import read_volume

    out = tmp_path / "ph"
    generate_subtype_dataset(out, 1, 3, normal_fraction=0.0, matrix=128)
    call_command("import_cases", str(out), "--labels", str(out / "labels.csv"), "--no-progress")
    case = Case.objects.get()
    assert case.hematoma_mask is not None  # the truth the side-by-side view may show
    truth = read_volume(case.hematoma_mask.file).array
    n = case.primary_series.num_slices
    assert truth.shape[0] == n
    return case, int(np.argmax((truth > 0).reshape(n, -1).sum(axis=1)))


def _study(case, version, *, heatmap_scale: str):
    """A sequential seed-004 study of the case whose aided condition shows everything."""
    study = study_services.create_study(
        title="Seed 004 aided",
        design=Design.SEQUENTIAL_PER_CASE,
        preset="seed004",
        randomization_seed=1,
    )
    study_services.add_cases(study, [case])
    reader = ReaderFactory()
    study_services.enroll_reader(study, reader)
    study_services.configure_assistance(
        study,
        model_version=version,
        operating_point="default",
        heatmaps=["gradcam"],
        show_mask_outline=False,
        show_slice_strip=True,
        heatmap_scale=heatmap_scale,
        side_by_side=True,
        show_truth_mask_side_by_side=True,
    )
    return study_services.open_study(study, truth_pending_allowed=True), reader


def _world(tmp_path):
    from readerstudy.ai.registry import register_manifest

    case, bleed = _import_case(tmp_path)
    version = register_manifest(_manifest())
    n = case.primary_series.num_slices
    peaks = {name: min(n - 1, 2 + 3 * i) for i, (name, _) in enumerate(LABELS)}
    peaks["sdh"] = peaks["any"] = bleed  # where the truth is
    output = _store_prediction(case, version, peaks)
    study, reader = _study(case, version, heatmap_scale="global")
    return study, reader, case, output, peaks


def _settle(page, ms: int = 300) -> None:
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_timeout(ms)


def _pixels(locator) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB"), dtype=np.int16)


def _slice(page) -> int:
    return page.evaluate("() => window.readerstudyWorkspace.viewer.getSlice()")


def _read_unaided_then_open_aided(page, live_server, reader, study) -> None:
    """Log in, check nothing of the model shows unaided, answer, lock: the aided read opens."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    login(page, live_server, reader)
    open_reading(page, live_server, study, "ich.present")
    # Unaided: nothing of the model on screen or requested.
    assert page.locator("#rs-strip").is_hidden()
    assert page.locator("[data-testid=label-probabilities]").count() == 0
    assert not [u for u in requests if "/assistance" in u]
    page.locator('input[name="ich.present"]').check()
    page.locator('input[name="ich.subtypes"][value="sdh"]').check()
    for name, rating in zip([n for n, _ in LABELS], [80, 10, 5, 5, 70, 5], strict=True):
        page.locator(f'input[data-question="confidence"][data-label="{name}"]').fill(str(rating))
    page.click("#rs-submit")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.assistanceShown === true", timeout=60000
    )
    page.evaluate("() => { const h = document.getElementById('rs-help'); if (h) h.open = false; }")


def _check_label_table(page, output) -> None:
    """Per-label probabilities as stored, with the call at the operating point written out."""
    table = page.locator("[data-testid=label-probabilities]")
    assert table.locator("tbody tr").count() == len(LABELS)
    calls = output.decisions["default"]
    for name, display in LABELS:
        row = table.locator(f'tr[data-label="{name}"]')
        p = output.probabilities[name]
        assert row.locator("th").inner_text() == display
        assert f"{p * 100:.1f}%" in row.inner_text()
        assert row.locator("td").last.inner_text() == ("yes" if calls[name] else "no"), name
    assert "calls at the default operating point" in table.locator("caption").inner_text()


def _check_strip(page, output, target: int) -> int:
    """A row per label named in text, values in the viewer's slice order; a click at slice
    ``target`` jumps there, Right moves one on. Returns the slice count."""
    page.locator("#rs-strip .rsv-strip").wait_for(state="visible")
    names = page.locator("#rs-strip .rsv-strip-name").all_inner_texts()
    assert len(names) == len(LABELS)
    assert all(
        t.startswith(d) for t, (_, d) in zip(names, LABELS, strict=True)
    )  # text, not colour alone
    mapped = page.evaluate(
        """() => { const ws = window.readerstudyWorkspace, v = ws.viewer, m = ws.strip.mapped;
                   return {uids: Array.from({length: v.getSliceCount()}, (_, i) => v.getSliceInfo(i).sopInstanceUID),
                           values: Object.fromEntries(Object.entries(m.values).map(([k, a]) => [k, Array.from(a)]))}; }"""
    )
    for name, _ in LABELS:
        by_uid = dict(zip(output.slice_uids, output.slice_probabilities[name], strict=True))
        assert mapped["values"][name] == pytest.approx(
            [by_uid[u] for u in mapped["uids"]], abs=1e-9
        )
    n = len(mapped["uids"])
    plot = page.locator("#rs-strip .rsv-strip-plot")
    box = plot.bounding_box()
    plot.click(position={"x": (target + 0.5) / n * box["width"], "y": box["height"] / 2})
    page.wait_for_function(
        f"() => window.readerstudyWorkspace.viewer.getSlice() === {target}", timeout=10000
    )
    assert (
        page.locator("#rs-strip .rsv-strip-readout")
        .inner_text()
        .startswith(f"Slice {target + 1} / {n}")
    )
    step = 1 if target + 1 < n else -1
    page.keyboard.press("ArrowRight" if step == 1 else "ArrowLeft")
    page.wait_for_function(
        f"() => window.readerstudyWorkspace.viewer.getSlice() === {target + step}", timeout=10000
    )
    assert plot.get_attribute("aria-valuenow") == str(target + step + 1)
    plot.click(position={"x": (target + 0.5) / n * box["width"], "y": box["height"] / 2})
    page.wait_for_function(
        f"() => window.readerstudyWorkspace.viewer.getSlice() === {target}", timeout=10000
    )
    return n


def _choose_label_map(page, label: str, display: str, *, maps_differ: bool = True) -> str:
    """The headline label's Grad-CAM is shown first; the selector switches to ``label``
    (``maps_differ``: the two maps are known to lie apart, so the pixels change). Returns the
    colour bar's text."""
    overlays = page.evaluate("() => window.readerstudyWorkspace.viewer.getOverlays().overlays")
    assert list(overlays) == ["gradcam"] and overlays["gradcam"]["label"] == "any"
    before = _pixels(page.locator("#rs-viewer"))
    page.select_option("#rs-heatmap-label", label)
    page.wait_for_function(
        f"""() => {{ const o = window.readerstudyWorkspace.viewer.getOverlays().overlays;
                   return o['gradcam:{label}'] && o['gradcam:{label}'].visible && !o.gradcam.visible; }}""",
        timeout=15000,
    )
    _settle(page)
    colorbar = page.locator("#rs-viewer .rsv-colorbar")
    assert colorbar.count() == 1
    text = colorbar.inner_text()
    assert f"Grad-CAM \u00b7 {display}" in text and f"towards {display}" in text
    assert "CVST" not in text and "sICH" not in text
    if maps_differ:
        assert np.abs(_pixels(page.locator("#rs-viewer")) - before).mean() > 0.2  # another map
    return text


def test_a_seed_004_aided_read_shows_labels_strip_per_label_maps_and_side_by_side(
    live_server, page, tmp_path
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    study, reader, case, output, peaks = _world(tmp_path)
    _read_unaided_then_open_aided(page, live_server, reader, study)
    _check_label_table(page, output)
    target = peaks["sdh"]
    n = _check_strip(page, output, target)
    text = _choose_label_map(page, "sdh", "Subdural")
    assert "fixed scale (all cases)" in text
    labels = page.locator("#rs-viewer .rsv-colorbar .rsv-colorbar-labels span").all_inner_texts()
    assert labels == ["0", f"{GLOBAL_SCALE:g}"]  # the fixed scale's ends, not the case's max
    page.screenshot(path=str(SHOTS / "seed004-aided-strip-labels.png"))
    page.evaluate("() => document.querySelector('.rs-side').scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "seed004-aided-label-panel.png"))
    assert page.evaluate("() => window.readerstudyWorkspace.viewer.getSlice()") == target
    assert n == case.primary_series.num_slices

    # Side by side: original | saliency | ground truth, one slice and zoom in all three.
    page.click("button.rs-sbs")
    page.wait_for_function(
        "() => window.readerstudyWorkspace.viewer.getSideBySide().panels.length === 3",
        timeout=15000,
    )
    _settle(page, 500)
    assert page.locator("button.rs-sbs").get_attribute("aria-pressed") == "true"
    titles = page.locator("#rs-viewer .rsv-panel-title").all_inner_texts()
    assert titles == ["Original", "Saliency", "Ground truth"]
    original = page.locator("#rs-viewer .rsv-root > .rsv-viewport").first
    saliency = page.locator('#rs-viewer [data-panel="saliency"]')
    truth = page.locator('#rs-viewer [data-panel="truth"]')
    # On the bleed's slice the original panel is the bare image, the saliency panel carries
    # the map and the truth panel the outline (cyan): both differ from the original.
    a, b, c = _pixels(original), _pixels(saliency), _pixels(truth)
    w = min(a.shape[1], b.shape[1], c.shape[1])
    assert np.abs(a[:, :w] - b[:, :w]).mean() > 0.5
    assert np.abs(a[:, :w] - c[:, :w]).max() > 100  # outline pixels
    cyan = (c[:, :, 0] < 80) & (c[:, :, 1] > 180) & (c[:, :, 2] > 200)
    assert (
        cyan.sum() > 20 and not ((a[:, :, 0] < 80) & (a[:, :, 1] > 180) & (a[:, :, 2] > 200)).any()
    )
    page.screenshot(path=str(SHOTS / "seed004-side-by-side.png"))
    # Zoom (right drag) on the saliency panel zooms the original too.
    zoom = page.evaluate("() => window.readerstudyWorkspace.viewer.getState().zoom")
    sb = saliency.bounding_box()
    page.mouse.move(sb["x"] + sb["width"] / 2, sb["y"] + sb["height"] / 2)
    page.mouse.down(button="right")
    page.mouse.move(sb["x"] + sb["width"] / 2, sb["y"] + sb["height"] / 2 + 60, steps=6)
    page.mouse.up(button="right")
    page.wait_for_function(
        f"() => Math.abs(window.readerstudyWorkspace.viewer.getState().zoom - {zoom}) > 0.05",
        timeout=10000,
    )
    # Wheel over the truth panel scrolls all three; the main viewer follows.
    start = _slice(page)
    truth.hover()
    page.mouse.wheel(0, 120)
    page.wait_for_function(
        f"() => window.readerstudyWorkspace.viewer.getSlice() !== {start}", timeout=10000
    )
    _settle(page)
    shown = page.evaluate("() => window.readerstudyWorkspace.viewer.getSlice()")
    sbs = page.evaluate("() => window.readerstudyWorkspace.viewer.getSideBySide()")
    assert sbs["panels"] == ["original", "saliency", "truth"]
    assert sbs["slices"] == [shown] * 3
    readouts = page.locator("#rs-viewer .rsv-slice").all_inner_texts()
    assert readouts and readouts[0].startswith(f"Slice {shown + 1} /")
    assert page.locator("#rs-strip .rsv-strip-plot").get_attribute("aria-valuenow") == str(
        shown + 1
    )
    # Back to one viewport.
    page.click("button.rs-sbs")
    page.wait_for_function(
        "() => !window.readerstudyWorkspace.viewer.getSideBySide().on", timeout=10000
    )
    assert page.locator("#rs-viewer [data-panel]").count() == 0


@pytest.mark.integration
def test_on_a_real_worker_the_seed_004_model_reaches_the_reader(
    live_server, page, tmp_path, worker_factory
):
    """The installed seed-004 model run by a Celery worker on the imported phantom; the reader
    sees its per-label probabilities, its slice strip and its Grad-CAM per label."""
    from inference.registry import get_model
    from readerstudy.ai.models import InferenceJob
    from readerstudy.ai.registry import register_manifest
    from readerstudy.ai.services import request_inference
    from tests.conftest import wait_for

    case, bleed = _import_case(tmp_path)
    version = register_manifest(get_model(MODEL_ID).manifest())
    worker_factory(name="seed004")
    job = request_inference(case, version, params={"explain": ["gradcam"]})
    wait_for(
        lambda: InferenceJob.objects.get(pk=job.pk).status in ("succeeded", "failed"),
        timeout=540,
        interval=1,
        message="the seed-004 model's job",
    )
    job = InferenceJob.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.error
    output = job.output
    assert set(output.slice_probabilities) == {n for n, _ in LABELS}
    assert {h.label for h in output.heatmaps.all()} == {n for n, _ in LABELS}
    study, reader = _study(case, version, heatmap_scale="case")
    _read_unaided_then_open_aided(page, live_server, reader, study)
    _check_label_table(page, output)
    _check_strip(page, output, bleed)
    text = _choose_label_map(page, "sdh", "Subdural", maps_differ=False)
    assert "per-case scale" in text
    page.screenshot(path=str(SHOTS / "seed004-real-worker-aided.png"))
