"""The viewer's development server answers each of its routes (no browser needed)."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

DEV = Path(__file__).resolve().parents[2] / "frontend" / "dev"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    make_series = _load("rsv_make_series", DEV / "make_series.py")
    serve = _load("rsv_serve", DEV / "serve.py")
    data = tmp_path_factory.mktemp("rsv-dev-data")
    info = make_series.write_series(data / "s4", slices=4, size=32, seed=2)
    httpd = serve.serve(data, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    sops = httpd.index.series[(info["study"], info["series"])]
    yield {"base": f"http://{host}:{port}", "info": info, "sops": sops}
    httpd.shutdown()
    httpd.server_close()


def _get(server, path: str, method: str = "GET"):
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(server["base"] + path, method=method)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.mark.parametrize("path", ["/", "/dev"])
def test_root_redirects_to_the_harness(server, path):
    status, headers, _ = _get(server, path)
    assert (status, headers["Location"]) == (302, "/dev/")


def test_harness_page_is_served_with_its_policy(server):
    status, headers, body = _get(server, "/dev/")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert body == (DEV / "index.html").read_bytes()


def test_head_sends_headers_only(server):
    status, headers, body = _get(server, "/dev/", method="HEAD")
    assert (status, body) == (200, b"")
    assert int(headers["Content-Length"]) == len((DEV / "index.html").read_bytes())


def test_series_list(server):
    status, _, body = _get(server, "/dev/series.json")
    assert status == 200
    [series] = json.loads(body)
    assert (series["series"], series["count"], series["rows"]) == (server["info"]["series"], 4, 32)


@pytest.mark.parametrize("kind", ["heatmap", "signed", "mask"])
def test_overlay_description_and_data(server, kind):
    se = server["info"]["series"]
    status, _, body = _get(server, f"/dev/overlay/{se}/{kind}.json?grid=16")
    assert status == 200
    desc = json.loads(body)
    status, headers, data = _get(server, f"/dev/overlay/{se}/{kind}.bin?grid=16")
    assert (status, headers["Content-Type"]) == (200, "application/octet-stream")
    frames, rows, cols = desc["shape"]
    assert len(data) == frames * rows * cols
    assert frames == 4 and (rows == 16 or kind == "mask")


def test_overlay_of_an_unknown_series(server):
    assert _get(server, "/dev/overlay/1.2.3/heatmap.json")[0] == 404


def test_metadata(server):
    info = server["info"]
    status, headers, body = _get(
        server, f"/dicomweb/studies/{info['study']}/series/{info['series']}/metadata"
    )
    assert (status, headers["Content-Type"]) == (200, "application/dicom+json")
    assert len(json.loads(body)) == 4
    status, _, body = _get(server, f"/dicomweb/studies/{info['study']}/series/1.2.3/metadata")
    assert (status, body) == (404, b"unknown series")


def test_frame_is_multipart(server):
    info, sop = server["info"], server["sops"][0]
    base = f"/dicomweb/studies/{info['study']}/series/{info['series']}/instances/{sop}/frames"
    status, headers, body = _get(server, f"{base}/1")
    assert status == 200
    assert headers["Content-Type"].startswith("multipart/related")
    assert body.startswith(b"--rsv-dev-boundary\r\n")
    assert body.endswith(b"\r\n--rsv-dev-boundary--\r\n")
    assert len(body) > 32 * 32 * 2
    status, _, body = _get(server, f"{base}/2")
    assert (status, body) == (404, b"unknown instance/frame")


@pytest.mark.parametrize(
    "path",
    [
        "/dev/../../pyproject.toml",
        "/dev/%2e%2e/%2e%2e/pyproject.toml",
        "/static/viewer/nope.js",
        "/x",
    ],
)
def test_unknown_or_outside_paths_are_not_found(server, path):
    assert _get(server, path)[0] == 404


def test_static_bundle_file(server):
    static = DEV.parents[1] / "readerstudy" / "reading" / "static" / "reading" / "viewer"
    status, headers, body = _get(server, "/static/viewer/manifest.json")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert body == (static / "manifest.json").read_bytes()
