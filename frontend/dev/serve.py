"""Development harness for the reader-study viewer (not a test, not for production).

Serves
  /static/viewer/...   the built bundle (readerstudy/reading/static/reading/viewer/)
  /dev/...             this folder (index.html + harness.js: a page that mounts the viewer)
  /dev/series.json     the series found under --data
  /dev/overlay/<series>/<kind>.json|.bin   synthetic overlays in the server contract
                       (kind: heatmap | signed | mask), to check the aided-phase UI
  /dicomweb/studies/<st>/series/<se>/metadata                        DICOM JSON
  /dicomweb/studies/<st>/series/<se>/instances/<sop>/frames/<n>      multipart/related
                       (raw little-endian pixel data for uncompressed files,
                        the encapsulated frame otherwise), as WADO-RS answers

    .venv/bin/python frontend/dev/serve.py --port 8765            # makes test data
    .venv/bin/python frontend/dev/serve.py --data DIR --port 8765  # a folder of .dcm
    then open http://127.0.0.1:8765/dev/

Without --data it writes test data into a temporary folder: the repo's phantom
cases (`python -m phantoms --out DIR --n 2 --seed 1`, when phantoms/ exists)
plus two make_series.py series used for timings (36 and 300 slices, 512x512).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import mimetypes
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections import defaultdict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
import pydicom
from pydicom.encaps import generate_frames

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
STATIC = REPO / "readerstudy" / "reading" / "static" / "reading" / "viewer"
BOUNDARY = "rsv-dev-boundary"
# A strict policy like the one the Django page should send; RSV_DEV_CSP=0 turns it off.
CSP = (
    None
    if os.environ.get("RSV_DEV_CSP") == "0"
    else "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "worker-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")


class Index:
    """study/series/sop -> file path, built once at start-up."""

    def __init__(self, root: Path):
        self.root = root
        self.files: dict[str, Path] = {}
        self.series: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.info: dict[str, dict] = {}
        self._metadata: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()
        for p in sorted(root.rglob("*")):
            if not p.is_file():
                continue
            try:
                ds = pydicom.dcmread(p, stop_before_pixels=True)
                st, se, sop = ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID
            except Exception:
                continue
            self.files[sop] = p
            self.series[(st, se)].append(sop)
            self.info.setdefault(
                se,
                {
                    "study": st,
                    "series": se,
                    "rows": int(ds.get("Rows", 0)),
                    "cols": int(ds.get("Columns", 0)),
                    "description": str(ds.get("SeriesDescription", "")),
                },
            )
        for (_st, se), sops in self.series.items():
            self.info[se]["count"] = len(sops)

    def metadata(self, st: str, se: str) -> bytes | None:
        key = (st, se)
        if key not in self.series:
            return None
        with self._lock:
            if key not in self._metadata:
                out = []
                for sop in self.series[key]:
                    ds = pydicom.dcmread(self.files[sop], stop_before_pixels=True)
                    out.append(
                        ds.to_json_dict(
                            bulk_data_threshold=10**9, bulk_data_element_handler=lambda _: ""
                        )
                    )
                self._metadata[key] = json.dumps(out).encode()
            return self._metadata[key]

    def frame(self, sop: str, n: int) -> tuple[bytes, str] | None:
        p = self.files.get(sop)
        if p is None:
            return None
        ds = pydicom.dcmread(p)
        ts = ds.file_meta.TransferSyntaxUID
        nframes = int(ds.get("NumberOfFrames", 1) or 1)
        if not 1 <= n <= nframes:
            return None
        if ts.is_compressed:
            frames = list(generate_frames(ds.PixelData, number_of_frames=nframes))
            return frames[n - 1], str(ts)
        data = ds.PixelData
        size = len(data) // nframes
        return data[(n - 1) * size : n * size], str(ts)


def synthetic_overlay(info: dict, kind: str, grid: int = 64) -> tuple[dict, bytes]:
    """A blob around the phantom's hematoma (image right, above the centre)."""
    frames = info["count"]
    rows = cols = grid if kind != "mask" else max(grid, 128)
    # Normalised pixel-centre coordinates: x, y in units of half the FOV (120 mm
    # for make_series.py), z in units of half the stack (90 mm there).
    z = ((2 * np.arange(frames) - (frames - 1)) / frames)[:, None, None]
    y = ((2 * np.arange(rows) + 1) / rows - 1)[None, :, None]
    x = ((2 * np.arange(cols) + 1) / cols - 1)[None, None, :]
    # Hematoma centre in the phantom: x=+38 mm, y=+10 mm of a 240 mm FOV, z=+20 mm of 180 mm.
    cx, cy, cz = 38 / 120, 10 / 120, 20 / 90
    d2 = ((x - cx) / 0.16) ** 2 + ((y - cy) / 0.2) ** 2 + ((z - cz) / 0.2) ** 2
    if kind == "mask":
        d = (
            ((x - cx) / (16 / 120)) ** 2
            + ((y - cy) / (20 / 120)) ** 2
            + ((z - cz) / (15 / 90)) ** 2
        )
        data = (d <= 1).astype(np.uint8)
        desc = {"method": "mask", "signed": False, "shape": [frames, rows, cols], "range": [0, 1]}
    elif kind == "signed":
        pos = np.exp(-d2)
        d2n = ((x + cx) / 0.18) ** 2 + ((y - cy) / 0.2) ** 2 + ((z - cz) / 0.25) ** 2
        neg = 0.7 * np.exp(-d2n)
        val = pos - neg  # in [-0.7, 1]
        lo, hi = -1.0, 1.0
        data = np.clip(np.round((val - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
        desc = {"method": "ig", "signed": True, "shape": [frames, rows, cols], "range": [lo, hi]}
    else:
        val = np.exp(-d2)
        data = np.clip(np.round(val * 255), 0, 255).astype(np.uint8)
        desc = {
            "method": "gradcampp",
            "signed": False,
            "shape": [frames, rows, cols],
            "range": [0.0, 1.0],
        }
    return desc, np.ascontiguousarray(data).tobytes()


class DevHandler(BaseHTTPRequestHandler):
    """The routes listed in the module doc, answered from ``index`` (set by make_handler)."""

    protocol_version = "HTTP/1.1"
    server_version = "rsv-dev"
    index: Index

    def log_message(self, fmt, *args):  # quiet; set RSV_DEV_LOG=1 to see requests
        if os.environ.get("RSV_DEV_LOG"):
            super().log_message(fmt, *args)

    def _send(self, status: int, body: bytes, ctype: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if CSP and ctype.startswith("text/html"):
            self.send_header("Content-Security-Policy", CSP)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found(self, what: str = "not found"):
        self._send(404, what.encode(), "text/plain; charset=utf-8")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlparse(self.path)
        path = unquote(url.path)
        for pattern, route in self.routes:
            m = pattern.fullmatch(path)
            if m:
                return route(self, url, *m.groups())
        return self._not_found()

    def _redirect_to_dev(self, url):
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", "/dev/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _series_list(self, url):
        body = json.dumps(sorted(self.index.info.values(), key=lambda i: i["count"])).encode()
        return self._send(200, body, "application/json")

    def _overlay(self, url, series: str, kind: str, ext: str):
        info = self.index.info.get(series)
        if not info:
            return self._not_found()
        grid = int(parse_qs(url.query).get("grid", ["64"])[0])
        desc, data = synthetic_overlay(info, kind, grid)
        if ext == "json":
            return self._send(200, json.dumps(desc).encode(), "application/json")
        return self._send(200, data, "application/octet-stream")

    def _dev_file(self, url, rel: str):
        return self._file(HERE, rel or "index.html")

    def _static_file(self, url, rel: str):
        return self._file(STATIC, rel)

    def _metadata(self, url, study: str, series: str):
        body = self.index.metadata(study, series)
        if body is None:
            return self._not_found("unknown series")
        return self._send(200, body, "application/dicom+json")

    def _frame(self, url, study: str, series: str, sop: str, number: str):
        got = self.index.frame(sop, int(number))
        if got is None:
            return self._not_found("unknown instance/frame")
        data, ts = got
        head = (
            f"--{BOUNDARY}\r\nContent-Type: application/octet-stream; transfer-syntax={ts}\r\n\r\n"
        ).encode()
        body = head + data + f"\r\n--{BOUNDARY}--\r\n".encode()
        ctype = f'multipart/related; type="application/octet-stream"; boundary={BOUNDARY}'
        return self._send(200, body, ctype)

    def _file(self, base: Path, rel: str):
        p = (base / rel).resolve()
        if not str(p).startswith(str(base.resolve())) or not p.is_file():
            return self._not_found()
        ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        return self._send(200, p.read_bytes(), ctype)

    # (path pattern, route) in the order they are tried; the groups are the route's arguments
    routes = (
        (re.compile(r"/|/dev"), _redirect_to_dev),
        (re.compile(r"/dev/series\.json"), _series_list),
        (re.compile(r"/dev/overlay/([^/]+)/(heatmap|signed|mask)\.(json|bin)"), _overlay),
        (re.compile(r"/dev/(.*)", re.DOTALL), _dev_file),
        (re.compile(r"/static/viewer/(.*)", re.DOTALL), _static_file),
        (re.compile(r"/dicomweb/studies/([^/]+)/series/([^/]+)/metadata"), _metadata),
        (
            re.compile(r"/dicomweb/studies/([^/]+)/series/([^/]+)/instances/([^/]+)/frames/(\d+)"),
            _frame,
        ),
    )


def make_handler(index: Index) -> type[DevHandler]:
    return type("Handler", (DevHandler,), {"index": index})


def make_data(out: Path, bench_series: bool = True) -> None:
    """Phantom cases (if the repo's phantoms package exists) + the benchmark series."""
    if (
        importlib.util.find_spec("phantoms") is not None
        or (REPO / "phantoms" / "__main__.py").exists()
    ):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "phantoms",
                "--out",
                str(out / "phantoms"),
                "--n",
                "2",
                "--seed",
                "1",
            ],
            check=True,
            cwd=REPO,
        )
    elif not bench_series:
        bench_series = True  # need something to show
    if bench_series:
        sys.path.insert(0, str(HERE))
        from make_series import write_series

        write_series(out / "s36", slices=36, size=512, seed=1, series_number=1)
        write_series(out / "s300", slices=300, size=512, seed=1, thickness=0.625, series_number=2)


def serve(data: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    index = Index(data)
    httpd = ThreadingHTTPServer((host, port), make_handler(index))
    httpd.daemon_threads = True
    httpd.index = index
    return httpd


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="viewer development harness")
    ap.add_argument(
        "--data", type=Path, help="folder of DICOM files (default: generate into a temp dir)"
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument(
        "--no-bench-series", action="store_true", help="skip the 36/300-slice synthetic series"
    )
    args = ap.parse_args(argv)
    data = args.data
    if data is None:
        data = Path(tempfile.mkdtemp(prefix="rsv-dev-"))
        print(f"writing synthetic series into {data} ...", flush=True)
        make_data(data, bench_series=not args.no_bench_series)
    httpd = serve(data, args.host, args.port)
    host, port = httpd.server_address[:2]
    print(f"serving {data} on http://{host}:{port}/dev/", flush=True)
    for info in sorted(httpd.index.info.values(), key=lambda i: i["count"]):
        print(
            f"  {info['count']:4d} x {info['rows']}x{info['cols']}  series {info['series']}",
            flush=True,
        )
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()


if __name__ == "__main__":
    main()
