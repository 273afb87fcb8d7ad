"""Drive the built viewer in headless Debian chromium against the dev harness.

Run: .venv/bin/python -m pytest -p no:django tests/frontend -q -m browser
Set RSV_SCREENSHOTS=/some/dir to keep the screenshots.
Skips when chromium or the built bundle is missing.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "frontend" / "dev"
STATIC = ROOT / "readerstudy" / "reading" / "static" / "reading" / "viewer"
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SLICES = 36


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("Debian chromium not installed (apt-get install -y chromium)")
    if not (STATIC / "viewer.js").is_file():
        pytest.skip("viewer bundle not built (cd frontend && npm ci && node build.mjs)")
    pytest.importorskip("playwright.sync_api")
    make_series = _load("rsv_make_series", DEV / "make_series.py")
    serve = _load("rsv_serve", DEV / "serve.py")
    data = tmp_path_factory.mktemp("rsv-data")
    info = make_series.write_series(data / "s36", slices=SLICES, size=512, seed=3)
    codecs = {}
    for kind in ("raw", "rle", "jpegls"):
        if kind == "jpegls" and importlib.util.find_spec("jpeg_ls") is None:
            continue  # pyjpegls encodes JPEG-LS
        codecs[kind] = make_series.write_series(
            data / f"codec-{kind}", slices=6, size=256, seed=9, compress=kind
        )
    httpd = serve.serve(data, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    yield {"base": f"http://{host}:{port}", "info": info, "codecs": codecs}
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module", params=["webgl", "cpu"])
def browser(harness, request):
    """Each test runs with WebGL (SwiftShader here) and with WebGL disabled,
    which makes Cornerstone fall back to its CPU renderer."""
    from playwright.sync_api import sync_playwright

    args = ARGS + (["--disable-webgl", "--disable-3d-apis"] if request.param == "cpu" else [])
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=args)
        b.renderer = request.param
        yield b
        b.close()


@pytest.fixture
def page(browser, harness):
    # The harness sends a strict CSP; Playwright's wait_for_function(string) needs
    # eval, so these tests bypass it (test_strict_csp checks the viewer under it).
    pg = browser.new_page(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(f"{harness['base']}/dev/?series={harness['info']['series']}")
    pg.wait_for_function("window.__rsv && window.__rsv.ready", timeout=60_000)
    pg.errors = errors
    assert pg.evaluate("window.__rsv.ready.renderer") == browser.renderer
    pg.renderer = browser.renderer
    yield pg
    assert not errors, errors
    pg.close()


def _shot(pg, name: str, selector: str = ".rsv-viewport"):
    png = pg.locator(selector).screenshot()
    out = os.environ.get("RSV_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        Path(out, f"{name}-{pg.renderer}.png").write_bytes(png)
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def _diff_pixels(a, b) -> int:
    from PIL import ImageChops

    hist = ImageChops.difference(a, b).convert("L").histogram()
    return sum(hist[1:])


def _settle(pg):
    """Two animation frames: Cornerstone renders on rAF, the overlay right after."""
    pg.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _overlay_bbox(pg):
    """Bounding box of non-transparent pixels of the overlay canvas (device px) or None."""
    return pg.evaluate(
        """() => {
        const c = document.querySelector('.rsv-overlay-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let x0 = 1e9, y0 = 1e9, x1 = -1, y1 = -1;
        for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
          if (d[(y * c.width + x) * 4 + 3] > 0) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
        }
        return x1 < 0 ? null : [x0, y0, x1, y1];
    }"""
    )


def _lesion_slice(page) -> int:
    """Slice nearest z = +20 mm, the centre of the phantom's hematoma."""
    return page.evaluate(
        """() => { const h = window.__rsv.handle; const n = h.getSliceCount(); let best = 0, d = 1e9;
        for (let i = 0; i < n; i++) { const p = h.getSliceInfo(i).position;
          if (Math.abs(p - 20) < d) { d = Math.abs(p - 20); best = i; } }
        return best; }"""
    )


def _assert_outline_on_lesion(page, tol):
    """The mask outline's bounding box matches the bright (>= 72 HU) blob under it."""
    m = _overlay_bbox(page)
    assert m is not None, "no outline drawn"
    h = "window.__rsv.handle"
    page.evaluate(f"{h}.setMaskVisible(false)")
    _settle(page)
    img = _shot(page, "tmp-lesion").convert("L")
    page.evaluate(f"{h}.setMaskVisible(true)")
    _settle(page)
    pad = 10
    x0, y0, x1, y1 = max(0, m[0] - pad), max(0, m[1] - pad), m[2] + pad, m[3] + pad
    px = img.load()
    bright = [
        (x, y)
        for y in range(y0, min(y1, img.height))
        for x in range(x0, min(x1, img.width))
        if px[x, y] >= 200
    ]
    assert bright, "no hyperdense pixels near the outline"
    bx0 = min(x for x, _ in bright)
    bx1 = max(x for x, _ in bright)
    by0 = min(y for _, y in bright)
    by1 = max(y for _, y in bright)
    for a, b in zip(m, (bx0, by0, bx1, by1)):
        assert abs(a - b) <= tol, (m, (bx0, by0, bx1, by1))


def test_first_image_renders(page):
    ready = page.evaluate("window.__rsv.ready")
    assert ready["count"] == SLICES
    assert ready["firstImageMs"] > 0 and ready["allLoadedMs"] >= ready["firstImageMs"]
    assert ready["failed"] == 0
    img = _shot(page, "01-first-image")
    bright = sum(img.convert("L").histogram()[41:])
    assert bright > 0.1 * img.width * img.height, "canvas looks empty"
    marks = page.evaluate("performance.getEntriesByType('mark').map(m => m.name)")
    assert "readerstudy-viewer:first-image" in marks and "readerstudy-viewer:all-loaded" in marks
    t = page.evaluate(
        "Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name.split(':')[1], m.startTime]))"
    )
    assert t["first-paint"] <= t["first-image"], t
    assert page.locator(".rsv-preview").count() == 0  # replaced by the Cornerstone render


def test_slices_sorted_inferior_first(page):
    positions = page.evaluate(
        "Array.from({length: window.__rsv.handle.getSliceCount()}, (_, i) => window.__rsv.handle.getSliceInfo(i).position)"
    )
    assert positions == sorted(positions) and positions[0] < positions[-1]


def test_wheel_changes_slice_counter(page):
    h = "window.__rsv.handle"
    start = page.evaluate(f"{h}.getSlice()")
    counter = page.locator(".rsv-slice")
    before = counter.inner_text()
    page.locator(".rsv-viewport").hover()
    for _ in range(3):
        page.mouse.wheel(0, 100)
    page.wait_for_function(f"{h}.getSlice() !== {start}")
    _settle(page)
    after = counter.inner_text()
    now = page.evaluate(f"{h}.getSlice()")
    assert after != before and after.startswith(f"Slice {now + 1} / {SLICES}")
    assert page.evaluate("window.__rsv.lastSlice") == [now, SLICES]


def test_keys_change_slice_but_not_in_text_fields(page):
    h = "window.__rsv.handle"
    page.evaluate(f"{h}.setSlice(10)")
    page.locator(".rsv-viewport").click(button="middle")  # focus without W/L drag
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"{h}.getSlice() === 11")
    page.keyboard.press("PageUp")
    page.wait_for_function(f"{h}.getSlice() === 10")
    page.locator("#notes").click()
    page.keyboard.type("1234 r")
    page.keyboard.press("ArrowDown")
    _settle(page)
    assert page.evaluate(f"{h}.getSlice()") == 10
    assert page.evaluate(f"{h}.getPreset()") == "brain"


def test_preset_changes_pixels_and_hotkeys(page):
    h = "window.__rsv.handle"
    a = _shot(page, "02-brain")
    page.evaluate(f"{h}.setPreset('bone')")
    _settle(page)
    b = _shot(page, "03-bone")
    assert _diff_pixels(a, b) > 1000
    assert page.locator('button[data-preset="bone"]').get_attribute("aria-pressed") == "true"
    assert page.evaluate(f"{h}.getState().window") == {"center": 600, "width": 2800}
    page.locator(".rsv-viewport").click(button="middle")
    page.keyboard.press("1")
    page.wait_for_function(f"{h}.getPreset() === 'hu0_200'")
    assert page.evaluate(f"{h}.getState().window") == {"center": 100, "width": 200}
    page.keyboard.press("r")
    page.wait_for_function(f"{h}.getPreset() === 'brain'")
    _settle(page)
    assert _diff_pixels(a, _shot(page, "04-reset")) == 0


def test_left_drag_window_level_and_right_drag_zoom(page):
    h = "window.__rsv.handle"
    box = page.locator(".rsv-viewport").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 40, steps=5)
    page.mouse.up()
    page.wait_for_function(f"{h}.getPreset() === null")
    zoom0 = page.evaluate(f"{h}.getState().zoom")
    page.mouse.move(cx, cy)
    page.mouse.down(button="right")
    page.mouse.move(cx, cy + 80, steps=5)
    page.mouse.up(button="right")
    _settle(page)
    assert page.evaluate(f"{h}.getState().zoom") != zoom0


def test_cine_toggles_with_space(page):
    h = "window.__rsv.handle"
    page.locator(".rsv-viewport").click(button="middle")
    page.keyboard.press(" ")
    assert page.evaluate(f"{h}.isCinePlaying()")
    start = page.evaluate(f"{h}.getSlice()")
    page.wait_for_function(f"{h}.getSlice() !== {start}", timeout=5000)
    page.keyboard.press(" ")
    assert not page.evaluate(f"{h}.isCinePlaying()")
    assert page.locator("button", has_text="Play").count() == 1


def test_toolbar_slice_readout_and_cine_speed(page):
    """The toolbar shows "Slice N / M · z mm" and has a keyboard-operable cine speed field."""
    h = "window.__rsv.handle"
    readout = page.locator(".rsv-toolbar .rsv-readout")

    def expected(i: int) -> str:
        pos = page.evaluate(f"{h}.getSliceInfo({i}).position")
        return f"Slice {i + 1} / {SLICES} · {pos:.1f} mm"

    cur = page.evaluate(f"{h}.getSlice()")
    assert readout.inner_text() == expected(cur)
    page.evaluate(f"{h}.setSlice(5)")
    page.wait_for_function(f"{h}.getSlice() === 5")
    _settle(page)
    assert readout.inner_text() == expected(5)
    page.locator(".rsv-viewport").click(button="middle")
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"{h}.getSlice() === 6")
    _settle(page)
    assert readout.inner_text() == expected(6)

    # Speed field: reachable by its label, arrow keys step it, and they do not
    # change the slice while it has focus.
    fps = page.get_by_label("Cine speed, frames per second")
    assert fps.input_value() == "10"
    fps.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert fps.input_value() == "12"
    assert page.evaluate(f"{h}.getCineFps()") == 12
    assert page.evaluate(f"{h}.getSlice()") == 6
    fps.fill("500")  # out of range: ignored, snapped back on change
    fps.press("Tab")
    assert page.evaluate(f"{h}.getCineFps()") == 12
    assert fps.input_value() == "12"

    def advanced(rate: int) -> int:
        fps.fill(str(rate))
        fps.press("Tab")
        assert page.evaluate(f"{h}.getCineFps()") == rate
        start = page.evaluate(f"{h}.getSlice()")
        page.evaluate(f"{h}.playCine()")
        page.wait_for_timeout(1000)  # < 36 frames even at 30 fps: no wrap-around
        page.evaluate(f"{h}.stopCine()")
        return (page.evaluate(f"{h}.getSlice()") - start) % SLICES

    slow, fast = advanced(2), advanced(30)
    assert slow <= 3 and fast >= slow + 4, (slow, fast)
    assert ["cine", {"playing": True, "fps": 30}] in page.evaluate("window.__rsv.events")


def test_heatmap_overlay_toggles_exactly_and_tracks_camera(page):
    h = "window.__rsv.handle"
    idx = _lesion_slice(page)
    page.evaluate(f"{h}.setSlice({idx})")
    _settle(page)
    base = _shot(page, "05-no-overlay")
    assert _overlay_bbox(page) is None
    page.evaluate("window.__rsv.loadOverlay('heatmap')")
    page.wait_for_function(f"Object.keys({h}.getOverlays().overlays).length === 1")
    _settle(page)
    on = _shot(page, "06-heatmap")
    assert _diff_pixels(base, on) > 500
    assert page.locator(".rsv-colorbar").count() == 1
    assert page.locator(".rsv-toolbar input[type=range]").count() == 1
    # Opacity 0 and hidden both give back the original pixels exactly.
    page.evaluate(f"{h}.setOverlayVisible('heatmap', false)")
    _settle(page)
    assert _diff_pixels(base, _shot(page, "07-heatmap-off")) == 0
    page.evaluate(f"{h}.setOverlayVisible('heatmap', true)")
    page.evaluate(f"{h}.setOverlayOpacity('heatmap', 0.3)")
    _settle(page)
    assert _diff_pixels(on, _shot(page, "08-heatmap-30")) > 0
    # Mask outline: it must sit on the hyperdense hematoma, also after zoom + pan.
    page.evaluate(f"{h}.setOverlay('heatmap', null)")
    page.evaluate("window.__rsv.loadOverlay('mask')")
    page.wait_for_function(f"{h}.getOverlays().mask !== null")
    _settle(page)
    assert page.evaluate(f"{h}.getState().zoom") == pytest.approx(1)
    _assert_outline_on_lesion(page, tol=5)
    box = page.locator(".rsv-viewport").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down(button="right")  # zoom in
    page.mouse.move(cx, cy + 40, steps=4)
    page.mouse.up(button="right")
    page.mouse.down(button="middle")  # pan left/up
    page.mouse.move(cx - 60, cy - 30, steps=4)
    page.mouse.up(button="middle")
    _settle(page)
    zoom = page.evaluate(f"{h}.getState().zoom")
    assert zoom > 1.1
    _shot(page, "09-mask-zoomed")
    _assert_outline_on_lesion(page, tol=5 * zoom)
    # A slice far from the lesion has no outline.
    page.evaluate(f"{h}.setSlice(0)")
    _settle(page)
    assert _overlay_bbox(page) is None


def test_signed_overlay_colourbar_labels(page):
    h = "window.__rsv.handle"
    page.evaluate(f"{h}.setSlice({_lesion_slice(page)})")
    page.evaluate("window.__rsv.loadOverlay('signed')")
    page.wait_for_function(f"Object.keys({h}.getOverlays().overlays).length === 1")
    _settle(page)
    text = page.locator(".rsv-colorbar").inner_text()
    assert "towards sICH" in text and "towards CVST-ICH" in text
    _shot(page, "10-signed", ".rsv-root")
    page.evaluate("window.__rsv.loadOverlay('heatmap')")
    page.evaluate("window.__rsv.loadOverlay('mask')")
    page.wait_for_function(f"Object.keys({h}.getOverlays().overlays).length === 2")
    _settle(page)
    assert page.locator(".rsv-colorbar").count() == 2
    _shot(page, "11-page-all-overlays", "body")


def test_overlay_validation(page):
    msg = page.evaluate(
        """() => { try { window.__rsv.handle.setOverlay('x', {method: 'ig', signed: true, shape: [3, 2, 2],
                     range: [-1, 1], data: new Uint8Array(12)}); return 'no error'; } catch (e) { return e.message; } }"""
    )
    assert "frames" in msg


def test_destroy_purges_cache(page):
    assert page.evaluate("ReaderstudyViewer.cacheBytes()") > 0
    page.evaluate("window.__rsv.handle.destroy()")
    page.wait_for_function("ReaderstudyViewer.cacheBytes() === 0", timeout=10_000)
    assert page.locator(".rsv-root").count() == 0


def test_strict_csp(browser, harness):
    """No eval, inline script/style or foreign origins: the page's strict CSP holds."""
    import time

    pg = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.add_init_script(
        "window.__csp = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = pg.goto(f"{harness['base']}/dev/?series={harness['info']['series']}")
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    deadline = time.monotonic() + 60
    while not pg.evaluate("() => Boolean(window.__rsv && window.__rsv.ready)"):
        assert time.monotonic() < deadline, "viewer did not load under CSP"
        time.sleep(0.1)
    pg.evaluate(
        "() => Promise.all([window.__rsv.loadOverlay('signed'), window.__rsv.loadOverlay('mask')])"
    )
    pg.locator(".rsv-viewport").hover()
    pg.mouse.wheel(0, 200)
    time.sleep(0.3)
    assert pg.evaluate("() => window.__csp") == []
    assert pg.evaluate("() => window.__rsv.ready.renderer") == browser.renderer
    assert not errors, errors
    pg.close()


def test_compressed_frames_decode_like_raw(browser, harness):
    """RLE (JS) and JPEG-LS (bundled charls wasm) render pixel-identical to raw frames."""
    shots = {}
    wasm: list[str] = []
    for kind, info in harness["codecs"].items():
        pg = browser.new_page(viewport={"width": 1000, "height": 900}, bypass_csp=True)
        errors: list[str] = []
        pg.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        pg.on("request", lambda r: r.url.endswith(".wasm") and wasm.append(r.url))
        pg.goto(f"{harness['base']}/dev/?series={info['series']}&slice=3")
        pg.wait_for_function("window.__rsv && window.__rsv.ready", timeout=60_000)
        assert pg.evaluate("window.__rsv.ready.failed") == 0
        pg.renderer = browser.renderer
        _settle(pg)
        shots[kind] = _shot(pg, f"12-codec-{kind}")
        assert not errors, errors
        pg.close()
    for kind in shots:
        assert _diff_pixels(shots["raw"], shots[kind]) == 0, kind
    if "jpegls" in shots:
        assert any(u.endswith("/static/viewer/wasm/charlswasm_decode.wasm") for u in wasm), wasm


def test_preview_paints_first_slice_before_core(browser, harness):
    """With the Cornerstone core held back, the loader paints the initial slice from its
    raw frame (right slice, window and fit); the core's first render then replaces it
    with (nearly) the same pixels."""
    import time

    from PIL import ImageChops

    pg = browser.new_page(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    held = []
    pg.route("**/viewer-core.*.js", lambda route: held.append(route))
    pg.goto(f"{harness['base']}/dev/?series={harness['info']['series']}", wait_until="commit")
    deadline = time.monotonic() + 30
    mark = "() => performance.getEntriesByName('readerstudy-viewer:first-paint').map(m => m.detail)"
    while not pg.evaluate(mark):
        assert time.monotonic() < deadline, f"no first paint without the core: {errors}"
        pg.wait_for_timeout(50)
    detail = pg.evaluate(mark)[0]
    assert detail["source"] == "preview" and detail["slice"] == (SLICES - 1) // 2
    assert not pg.evaluate("() => performance.getEntriesByName('readerstudy-viewer:core').length")
    pg.renderer = browser.renderer
    assert (
        pg.locator(".rsv-placeholder .rsv-slice").inner_text() == f"Slice {SLICES // 2} / {SLICES}"
    )
    brain = _shot(pg, "13-preview-brain", "#viewer")
    assert sum(brain.convert("L").histogram()[41:]) > 0.1 * brain.width * brain.height
    # A preset chosen before the core is there repaints the preview (and is queued).
    pg.evaluate("() => window.__rsv.handle.setPreset('bone')")
    bone = _shot(pg, "14-preview-bone", "#viewer")
    assert _diff_pixels(brain, bone) > 1000
    pg.evaluate("() => window.__rsv.handle.setPreset('brain')")
    preview = _shot(pg, "15-preview", "#viewer")
    assert _diff_pixels(brain, preview) == 0
    for route in held:
        route.continue_()
    pg.unroute("**/viewer-core.*.js")
    pg.wait_for_function("window.__rsv && window.__rsv.ready", timeout=60_000)
    _settle(pg)
    assert pg.locator(".rsv-preview").count() == 0
    assert pg.evaluate("window.__rsv.handle.getState().window") == {"center": 40, "width": 80}
    final = _shot(pg, "16-cornerstone", "#viewer")
    assert final.size == preview.size
    # Same slice, window and geometry: only interpolation at edges differs.
    hist = ImageChops.difference(preview, final).convert("L").histogram()
    n = final.width * final.height
    mean = sum(i * v for i, v in enumerate(hist)) / n
    assert mean < 3 and sum(hist[33:]) < 0.02 * n, (mean, sum(hist[33:]) / n)
    for x, y in [(0.5, 0.5), (0.35, 0.45), (0.5, 0.2), (0.65, 0.6)]:
        px = (int(x * final.width), int(y * final.height))
        a, b = preview.convert("L").getpixel(px), final.convert("L").getpixel(px)
        assert abs(a - b) <= 40, (px, a, b)
    # (Brain vs bone differ a lot, so this also pins the window.)
    assert _diff_pixels(bone, final) > 1000
    assert not errors, errors
    pg.close()
