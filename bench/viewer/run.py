"""Time to first image / all slices of the reader-study viewer, measured in Chromium.

    .venv/bin/python bench/viewer/run.py --base-url http://127.0.0.1:8765 --path "/dev/?n=36" --runs 5
    .venv/bin/python bench/viewer/run.py --base-url http://127.0.0.1:8000 \\
        --path /reading/session/1/case/3/ --storage-state var/bench-login.json --json out.json

Each run opens the page in a fresh browser context (empty HTTP cache) and waits
for the performance marks that viewer.js sets itself (no page code needed):

  readerstudy-viewer:mount        ReaderstudyViewer.mount() called
  readerstudy-viewer:metadata     series metadata fetched and sorted
  readerstudy-viewer:first-image  first slice rendered with the initial window
  readerstudy-viewer:all-loaded   every slice decoded and cached (detail = onReady info)

Times are reported both from navigation start (what a reader waits after
clicking) and from mount() (what the viewer itself costs).
See bench/viewer/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

MARKS = ("mount", "metadata", "first-image", "all-loaded")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

READ_MARKS = """() => {
  const out = {};
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('readerstudy-viewer:')) out[m.name.slice(19)] = {t: m.startTime, detail: m.detail || null};
  }
  const frames = performance.getEntriesByType('resource').filter(r => r.name.includes('/frames/'));
  out.frameRequests = frames.length;
  out.frameBytes = frames.reduce((s, r) => s + (r.encodedBodySize || 0), 0);
  return out;
}"""


def one_run(
    browser, url: str, timeout_s: float, storage_state: str | None, viewport: tuple[int, int]
) -> dict:
    ctx = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        storage_state=storage_state,
    )
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
        if time.perf_counter() > deadline:
            raise TimeoutError(f"viewer not loaded after {timeout_s} s: {errors}")
        page.wait_for_timeout(20)
    wall = (time.perf_counter() - t0) * 1000
    m = page.evaluate(READ_MARKS)
    ctx.close()
    mount = m["mount"]["t"]
    done = m["all-loaded"]
    detail = done["detail"] or {}
    return {
        "slices": detail.get("count"),
        "failed": detail.get("failed"),
        "renderer": detail.get("renderer"),
        "first_image_ms_from_nav": round(m["first-image"]["t"], 1),
        "all_loaded_ms_from_nav": round(done["t"], 1),
        "first_image_ms_from_mount": round(m["first-image"]["t"] - mount, 1),
        "all_loaded_ms_from_mount": round(done["t"] - mount, 1),
        "metadata_ms_from_mount": round(m["metadata"]["t"] - mount, 1),
        "mount_ms_from_nav": round(mount, 1),
        "frame_requests": m["frameRequests"],
        "frame_bytes": m["frameBytes"],
        "wall_ms": round(wall, 1),
        "page_errors": errors,
    }


def summarise(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if k.endswith("_ms") or "_ms_" in k]
    out = {}
    for k in keys:
        vals = [r[k] for r in runs]
        out[k] = {"median": round(statistics.median(vals), 1), "min": min(vals), "max": max(vals)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="viewer time-to-first-image benchmark")
    ap.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
    ap.add_argument("--path", required=True, help="page that mounts the viewer, e.g. /dev/?n=300")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--warmup", type=int, default=1, help="runs discarded first (server caches, JIT)"
    )
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    ap.add_argument("--storage-state", help="Playwright storage state JSON (login cookies)")
    ap.add_argument("--viewport", default="1280x900")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--json", type=Path, help="write all runs + summary here")
    ap.add_argument(
        "--cpu", action="store_true", help="disable WebGL: measure Cornerstone's CPU renderer"
    )
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    url = args.base_url.rstrip("/") + "/" + args.path.lstrip("/")
    vw, vh = (int(x) for x in args.viewport.lower().split("x"))
    runs = []
    with sync_playwright() as p:
        extra = ["--disable-webgl", "--disable-3d-apis"] if args.cpu else []
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS + extra)
        for i in range(args.warmup + args.runs):
            r = one_run(browser, url, args.timeout, args.storage_state, (vw, vh))
            tag = "warmup" if i < args.warmup else f"run {i - args.warmup + 1}"
            print(
                f"{tag:>7}: {r['slices']} slices ({r['renderer']}), first image {r['first_image_ms_from_nav']:.0f} ms "
                f"(mount +{r['first_image_ms_from_mount']:.0f}), all loaded {r['all_loaded_ms_from_nav']:.0f} ms "
                f"(mount +{r['all_loaded_ms_from_mount']:.0f}), {r['frame_requests']} frame requests",
                flush=True,
            )
            if i >= args.warmup:
                runs.append(r)
        browser.close()
    summary = summarise(runs)
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"url": url, "runs": runs, "summary": summary}, indent=2))
    return 1 if any(r["page_errors"] or r["failed"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
