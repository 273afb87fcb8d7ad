"""Time to first image / all slices of the reader-study viewer, measured in Chromium.

Against the real Django server (default; builds and removes everything itself):

    .venv/bin/python bench/viewer/run.py                          # 36 + 300 slices, 5 runs each
    .venv/bin/python bench/viewer/run.py --series thick --runs 7 --json var/bench-viewer.json

Against any page that mounts the viewer (e.g. the dev harness):

    .venv/bin/python bench/viewer/run.py --base-url http://127.0.0.1:8765 --path "/dev/?n=36" --runs 5

The live mode makes a temp dir, renders the phantom series (36 x 512x512 and 300 x
512x512, see bench/dicomweb/harness.py), then: ``migrate``, ``import_cases`` (de-identifies
and stores), ``collectstatic``, a coordinator, a bench page written into STATIC_ROOT
(``/static/bench/viewer.html?study=..&series=..``: loads ``/static/reading/viewer/viewer.js``
and mounts the viewer on our ``/dicomweb``), gunicorn (2 gthread workers x 8 threads,
DEBUG off, WhiteNoise static) on 127.0.0.1, a session login whose cookie is given to each
browser context. Gunicorn, Chromium and the temp dir go away at the end, on error, on
SIGTERM/SIGINT and at ``--limit`` seconds.

Each run opens the page in a fresh browser context (empty HTTP cache) and waits for the
performance marks that viewer.js sets itself (no page instrumentation needed):

  readerstudy-viewer:mount        ReaderstudyViewer.mount() called
  readerstudy-viewer:metadata     series metadata fetched and sorted
  readerstudy-viewer:first-paint  first slice on screen (the loader's 2D preview from the
                                  raw frame, or the Cornerstone render if that came first)
  readerstudy-viewer:core         Cornerstone core module loaded
  readerstudy-viewer:first-image  first Cornerstone render with the initial window: the
                                  viewer is interactive (mouse tools follow right after)
  readerstudy-viewer:all-loaded   every slice decoded and cached (detail = onReady info)

Times are reported both from navigation start (what a reader waits after clicking) and
from mount() (what the viewer itself costs). See bench/viewer/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dicomweb"))

MARKS = ("mount", "metadata", "first-paint", "core", "first-image", "all-loaded")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# warm mode: load 1 compiles viewer.js cold, load 2 lets V8 write its code cache, loads 3+
# take the compiled code from it (Chromium's code-cache heuristic; on-disk profiles only),
# as for a reader's later cases
WARM_WARMUP = 2
# first image <= 0.5 s: checked both for the first paint (what the reader sees first) and
# for the interactive Cornerstone render
GOALS_36 = {
    "first_paint_ms_from_nav": 500,
    "first_image_ms_from_nav": 500,
    "all_loaded_ms_from_nav": 1500,
}

READ_MARKS = """() => {
  const out = {};
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('readerstudy-viewer:')) out[m.name.slice(19)] = {t: m.startTime, detail: m.detail || null};
  }
  const frames = performance.getEntriesByType('resource').filter(r => r.name.includes('/frames/'));
  out.frameRequests = frames.length;
  const first = frames.reduce((a, r) => (a && a.startTime <= r.startTime ? a : r), null);
  out.firstFrame = first ? {start: first.startTime, end: first.responseEnd} : null;
  const worker = performance.getEntriesByType('resource').find(r => r.name.includes('decodeImageFrameWorker'));
  out.workerJs = worker ? {start: worker.startTime, end: worker.responseEnd} : null;
  out.frameBytes = frames.reduce((s, r) => s + (r.encodedBodySize || 0), 0);
  const js = performance.getEntriesByType('resource').find(r => r.name.includes('/viewer.js'));
  out.viewerJs = js ? {end: js.responseEnd, bytes: js.encodedBodySize, transfer: js.transferSize} : null;
  for (const name of ['bench:before-viewer-js', 'bench:viewer-js-evaluated']) {
    const m = performance.getEntriesByName(name)[0];
    out[name.slice(6)] = m ? m.startTime : null;
  }
  return out;
}"""

BENCH_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>readerstudy viewer bench</title>
  <link rel="stylesheet" href="/static/reading/viewer/viewer.css">
  <link rel="stylesheet" href="/static/bench/viewer-bench.css">
</head>
<body>
  <div id="viewer"></div>
  <script src="/static/bench/viewer-bench-pre.js"></script>
  <script src="/static/reading/viewer/viewer.js"></script>
  <script src="/static/bench/viewer-bench.js"></script>
</body>
</html>
"""
BENCH_CSS = (
    "html, body { margin: 0; height: 100%; background: #000; }\n#viewer { height: 100vh; }\n"
)
# External, not inline: works under a strict CSP too. ?study=&series= (required),
# ?prefetch=N (prefetchConcurrency), ?workers=N (maxWebWorkers).
BENCH_PRE_JS = "performance.mark('bench:before-viewer-js');\n"
BENCH_JS = """(function () {
  performance.mark('bench:viewer-js-evaluated');
  var q = new URLSearchParams(location.search);
  var options = {
    dicomwebRoot: '/dicomweb',
    studyUID: q.get('study'),
    seriesUID: q.get('series'),
    hotkeys: false,
    onReady: function (info) { window.benchReady = info; },
    onError: function (e) { window.benchError = String((e && e.message) || e); },
  };
  if (q.get('prefetch')) options.prefetchConcurrency = Number(q.get('prefetch'));
  if (q.get('workers')) options.maxWebWorkers = Number(q.get('workers'));
  window.benchViewer = ReaderstudyViewer.mount(document.getElementById('viewer'), options);
})();
"""


def new_context(browser, storage_state, viewport: tuple[int, int]):
    return browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        storage_state=storage_state,
    )


def one_run(
    browser, url: str, timeout_s: float, storage_state, viewport: tuple[int, int], ctx=None
) -> dict:
    """One page load. A fresh context (cold HTTP + code cache) unless ``ctx`` is given."""
    own = ctx is None
    if own:
        ctx = new_context(browser, storage_state, viewport)
    page = None
    try:
        page = ctx.new_page()
        page.add_init_script("performance.setResourceTimingBufferSize(5000)")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        # Poll with evaluate(arrow function), not wait_for_function(string): the
        # latter needs eval, which a strict Content-Security-Policy blocks.
        deadline = time.perf_counter() + timeout_s
        while not page.evaluate(
            "() => performance.getEntriesByName('readerstudy-viewer:all-loaded').length > 0"
        ):
            error = page.evaluate("() => window.benchError || null")
            if error:
                errors.append(error)
                raise RuntimeError(f"viewer error: {errors}")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"viewer not loaded after {timeout_s} s: {errors}")
            page.wait_for_timeout(20)
        wall = (time.perf_counter() - t0) * 1000
        m = page.evaluate(READ_MARKS)
    finally:
        if own:
            ctx.close()
        elif page is not None:
            page.close()
    mount = m["mount"]["t"]
    done = m["all-loaded"]
    detail = done["detail"] or {}
    # viewer < 0.3 has no first-paint mark: its first paint is the Cornerstone render
    paint = m.get("first-paint") or m["first-image"]
    core = m.get("core")
    return {
        "slices": detail.get("count"),
        "failed": detail.get("failed"),
        "renderer": detail.get("renderer"),
        "first_paint_source": (paint.get("detail") or {}).get("source", "cornerstone"),
        "first_paint_ms_from_nav": round(paint["t"], 1),
        "first_image_ms_from_nav": round(m["first-image"]["t"], 1),
        "all_loaded_ms_from_nav": round(done["t"], 1),
        "first_paint_ms_from_mount": round(paint["t"] - mount, 1),
        "first_image_ms_from_mount": round(m["first-image"]["t"] - mount, 1),
        "core_ms_from_nav": round(core["t"], 1) if core else None,
        "all_loaded_ms_from_mount": round(done["t"] - mount, 1),
        "metadata_ms_from_mount": round(m["metadata"]["t"] - mount, 1),
        "mount_ms_from_nav": round(mount, 1),
        "first_frame_request_ms_from_mount": (
            round(m["firstFrame"]["start"] - mount, 1) if m["firstFrame"] else None
        ),
        "first_frame_response_ms_from_mount": (
            round(m["firstFrame"]["end"] - mount, 1) if m["firstFrame"] else None
        ),
        "viewer_js_done_ms_from_nav": round(m["viewerJs"]["end"], 1) if m["viewerJs"] else None,
        "viewer_js_transfer_bytes": m["viewerJs"]["transfer"] if m["viewerJs"] else None,
        "viewer_js_evaluated_ms_from_nav": (
            round(m["viewer-js-evaluated"], 1) if m.get("viewer-js-evaluated") else None
        ),
        "frame_requests": m["frameRequests"],
        "frame_bytes": m["frameBytes"],
        "wall_ms": round(wall, 1),
        "page_errors": errors,
    }


def summarise(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if (k.endswith("_ms") or "_ms_" in k) and runs[0][k] is not None]
    out = {}
    for k in keys:
        vals = [r[k] for r in runs]
        out[k] = {"median": round(statistics.median(vals), 1), "min": min(vals), "max": max(vals)}
    return out


def measure(browser, urls, args, storage_state, label: str = "", ctx=None, warmup=None) -> list:
    """``warmup + runs`` loads. ``urls``: one URL, or one per load. Each load gets a fresh
    incognito context (cold HTTP cache, no code cache) unless ``ctx`` is given: then all
    loads share it (warm caches; each URL must then be another series, or its frames would
    come from the HTTP cache)."""
    vw, vh = (int(x) for x in args.viewport.lower().split("x"))
    warmup = args.warmup if warmup is None else warmup
    total = warmup + args.runs
    urls = [urls] * total if isinstance(urls, str) else list(urls)
    if len(urls) < total:
        raise ValueError(f"{total} loads need {total} URLs, got {len(urls)}")
    runs = []
    for i in range(total):
        r = one_run(browser, urls[i], args.timeout, storage_state, (vw, vh), ctx=ctx)
        report(r, i, warmup, label, runs)
    return runs


def warm_context(p, args, profile: Path, cookies: list):
    """A browser with an on-disk profile: unlike incognito contexts it keeps V8's code cache,
    so from the third load on viewer.js is not compiled again (as in a reader's browser)."""
    vw, vh = (int(x) for x in args.viewport.lower().split("x"))
    ctx = p.chromium.launch_persistent_context(
        str(profile),
        executable_path=args.chromium,
        args=ARGS + cpu_args(args),
        viewport={"width": vw, "height": vh},
    )
    ctx.add_cookies(cookies)
    return ctx


def report(r: dict, i: int, warmup: int, label: str, runs: list) -> None:
    tag = "warmup" if i < warmup else f"run {i - warmup + 1}"
    print(
        f"{label}{tag:>7}: {r['slices']} slices ({r['renderer']}), first paint "
        f"{r['first_paint_ms_from_nav']:.0f} ms ({r['first_paint_source']}), interactive "
        f"{r['first_image_ms_from_nav']:.0f} ms (mount +{r['first_image_ms_from_mount']:.0f}), "
        f"all loaded {r['all_loaded_ms_from_nav']:.0f} ms "
        f"(mount +{r['all_loaded_ms_from_mount']:.0f}), {r['frame_requests']} frame requests",
        flush=True,
    )
    if i >= warmup:
        runs.append(r)


def cpu_args(args) -> list[str]:
    return ["--disable-webgl", "--disable-3d-apis"] if args.cpu else []


def launch(p, args):
    return p.chromium.launch(executable_path=args.chromium, args=ARGS + cpu_args(args))


def run_url(args) -> int:
    """Any page that mounts the viewer (dev harness, a reading page with --storage-state)."""
    from playwright.sync_api import sync_playwright

    url = args.base_url.rstrip("/") + "/" + args.path.lstrip("/")
    with sync_playwright() as p:
        browser = launch(p, args)
        try:
            runs = measure(browser, url, args, args.storage_state)
        finally:
            browser.close()
    summary = summarise(runs)
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"url": url, "runs": runs, "summary": summary}, indent=2))
    return 1 if any(r["page_errors"] or r["failed"] for r in runs) else 0


def write_bench_page(static_root: Path) -> None:
    folder = static_root / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "viewer.html").write_text(BENCH_HTML)
    (folder / "viewer-bench.css").write_text(BENCH_CSS)
    (folder / "viewer-bench.js").write_text(BENCH_JS)
    (folder / "viewer-bench-pre.js").write_text(BENCH_PRE_JS)


def cookies_state(session, host: str = "127.0.0.1") -> dict:
    return {
        "cookies": [
            {
                "name": c.name,
                "value": c.value,
                "domain": host,
                "path": c.path or "/",
                "expires": -1,
                "httpOnly": c.name == "sessionid",
                "secure": False,
                "sameSite": "Lax",
            }
            for c in session.cookies
        ],
        "origins": [],
    }


def fmt(s: dict) -> str:
    return f"{s['median']:.0f} ({s['min']:.0f}-{s['max']:.0f})"


def bench_series(p, browser, bench, server, login, series, wanted, args, results) -> None:
    from harness import find_all_series, loadavg

    state = cookies_state(login)
    extra = {}
    if args.prefetch:
        extra["prefetch"] = args.prefetch
    if args.decode_workers:
        extra["workers"] = args.decode_workers

    root = f"{server.base}/dicomweb"
    jobs = [(name, name, False) for name in wanted]
    if args.warm and "thick" in wanted:
        jobs.append(("thick-warm", "thick", True))
    for key, name, warm in jobs:
        n = series[name]["slices"]
        found = find_all_series(login, root, n)
        urls = [
            f"{server.base}/static/bench/viewer.html?"
            + urlencode({"study": ids["study_uid"], "series": ids["series_uid"], **extra})
            for ids in found
        ]
        load_start = loadavg()
        if warm:  # one persistent profile, another copy of the series per load
            ctx = warm_context(p, args, bench.tempdir("profile"), state["cookies"])
            try:
                label = f"{n:>4} slices warm "
                runs = measure(None, urls, args, None, label, ctx=ctx, warmup=WARM_WARMUP)
            finally:
                ctx.close()
        else:
            runs = measure(browser, urls[0], args, state, label=f"{n:>4} slices ")
        load_end = loadavg()
        results["series"][key] = {
            "slices": n,
            "cache": "warm" if warm else "cold",
            "spacing_mm": series[name]["spacing_mm"],
            "url": urls if warm else urls[0],
            "runs": runs,
            "summary": summarise(runs),
            "load_start": load_start,
            "load_end": load_end,
            "ok": not any(r["page_errors"] or r["failed"] or r["slices"] != n for r in runs),
        }


def run_live(args) -> int:
    from harness import Bench, ReaderstudyServer, log, make_series, uptime
    from playwright.sync_api import sync_playwright

    wanted = [s.strip() for s in args.series.split(",") if s.strip()]
    results: dict = {"uptime_start": uptime(), "series": {}}
    with Bench(args.limit, keep=args.keep, prefix="rs-bench-viewer-") as bench:
        work = bench.tempdir("work")
        t = time.perf_counter()
        copies = WARM_WARMUP + args.runs if args.warm and "thick" in wanted else 1
        series = make_series(work / "series", thick_copies=copies)
        log(
            "series: "
            + ", ".join(f"{k} {v['slices']} x {v['spacing_mm']:g} mm" for k, v in series.items())
            + f" (from {series['thick']['source']}) in {time.perf_counter() - t:.0f} s"
        )
        data = work / "data"
        data.mkdir()
        server = ReaderstudyServer(bench, data, workers=args.workers, threads=args.gthreads)
        t = time.perf_counter()
        imports = [k for k in series if k in wanted or k.startswith("thick-")]
        server.setup([series[k]["dir"] for k in imports])
        write_bench_page(server.static_root)  # before start: WhiteNoise indexes at start-up
        server.start()
        login = server.login()
        log(f"gunicorn on {server.base}, set up in {time.perf_counter() - t:.0f} s")
        # Playwright's driver and Chromium put their profiles/artifacts under TMPDIR: keep
        # them inside the run's temp dir, so even a killed run leaves nothing in /tmp.
        os.environ["TMPDIR"] = str(bench.tempdir("tmp"))
        with sync_playwright() as p:
            browser = launch(p, args)
            results["chromium"] = browser.version
            try:
                bench_series(p, browser, bench, server, login, series, wanted, args, results)
            finally:
                browser.close()
        results["uptime_end"] = uptime()

    head = (
        "series",
        "browser cache",
        "renderer",
        "runs",
        "first image painted, from nav",
        "interactive (Cornerstone rendered), from nav",
        "from mount",
        "all slices from nav",
        "from mount",
        "mount at",
        "load avg (start -> end)",
    )
    print("\nms, median (min-max)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for res in results["series"].values():
        s = res["summary"]
        mb = res["runs"][0]["frame_bytes"] / 1e6
        print(
            f"| {res['slices']} x 512x512 ({mb:.0f} MB) | {res['cache']} | "
            f"{res['runs'][0]['renderer']} | "
            f"{len(res['runs'])} | {fmt(s['first_paint_ms_from_nav'])} | "
            f"{fmt(s['first_image_ms_from_nav'])} | "
            f"{fmt(s['first_image_ms_from_mount'])} | {fmt(s['all_loaded_ms_from_nav'])} | "
            f"{fmt(s['all_loaded_ms_from_mount'])} | {fmt(s['mount_ms_from_nav'])} | "
            f"{res['load_start']} -> {res['load_end']} |"
        )
    for key in ("thick", "thick-warm"):
        res = results["series"].get(key)
        if not res or res["slices"] != 36:
            continue
        for mark, goal in GOALS_36.items():
            got = res["summary"][mark]["median"]
            verdict = "met" if got <= goal else "NOT met"
            print(
                f"goal, 36 slices, {res['cache']} cache: {mark} <= {goal} ms: {got:.0f}, {verdict}"
            )
    print(f"\nstart: {results['uptime_start']}\nend:   {results['uptime_end']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0 if all(r["ok"] for r in results["series"].values()) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="viewer time-to-first-image benchmark")
    ap.add_argument(
        "--base-url", help="measure a running server instead, e.g. http://127.0.0.1:8000"
    )
    ap.add_argument("--path", help="with --base-url: page that mounts the viewer, e.g. /dev/?n=300")
    ap.add_argument("--storage-state", help="with --base-url: Playwright storage state JSON")
    ap.add_argument("--series", default="thick,thin", help="live: thick (36), thin (300) or both")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--warmup", type=int, default=1, help="runs discarded first (server caches, JIT)"
    )
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    ap.add_argument("--limit", type=float, default=1500, help="live: wall-clock limit, seconds")
    ap.add_argument("--workers", type=int, default=2, help="live: gunicorn workers")
    ap.add_argument("--gthreads", type=int, default=8, help="live: gunicorn threads per worker")
    ap.add_argument("--prefetch", type=int, help="live: viewer prefetchConcurrency (default 6)")
    ap.add_argument("--decode-workers", type=int, help="live: viewer maxWebWorkers")
    ap.add_argument("--keep", action="store_true", help="live: keep the temp dir")
    ap.add_argument(
        "--no-warm",
        dest="warm",
        action="store_false",
        help="live: skip the warm-cache 36-slice runs (one on-disk browser profile, a new copy "
        f"of the series per load, {WARM_WARMUP} loads discarded)",
    )
    ap.add_argument("--viewport", default="1280x900")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--json", type=Path, help="write all runs + summary here")
    ap.add_argument(
        "--cpu", action="store_true", help="disable WebGL: measure Cornerstone's CPU renderer"
    )
    args = ap.parse_args(argv)
    if args.base_url:
        if not args.path:
            ap.error("--base-url needs --path")
        return run_url(args)
    return run_live(args)


if __name__ == "__main__":
    sys.exit(main())
