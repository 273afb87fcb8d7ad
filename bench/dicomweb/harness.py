"""Shared set-up for the live-server benchmarks (bench/dicomweb, bench/viewer).

* :func:`make_series`: phantom head CT (the cases of ``python -m phantoms --thin``) written
  as the two bench series, a 36-slice and a ~300-slice 512x512 series, each its own study;
* :class:`ReaderstudyServer`: a throw-away data dir (SQLite + local storage), ``migrate``,
  ``import_cases``, ``collectstatic``, a coordinator, gunicorn on a free loopback port,
  session login;
* :class:`OrthancServer`: Debian Orthanc + DICOMweb plugin with its own storage dir;
* :class:`Bench`: one ExitStack for every process and temp dir, a wall-clock limit
  (SIGALRM) and SIGTERM/SIGINT handling, so servers are killed and dirs removed even when a
  step fails or the run is interrupted.

Only loopback is used: gunicorn binds 127.0.0.1. Orthanc 1.10 has no bind-address option
(it listens on every interface), so ``isolate_network()`` re-executes the benchmark in a
private network namespace that has only ``lo`` when it can (root + ``unshare``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BENCH_USER = "bench"
BENCH_PASSWORD = "bench-pass-123"
ORTHANC_BIN = "/usr/sbin/Orthanc"
ORTHANC_DICOMWEB = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"'


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def loadavg() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average: {loadavg()}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def median(values):
    return statistics.median(values) if values else float("nan")


# --- network isolation (Orthanc cannot bind to loopback only) ------------------------------

NETNS_ENV = "READERSTUDY_BENCH_NETNS"


def isolate_network(argv: list[str]) -> None:
    """Re-exec this script inside ``unshare -n`` (only ``lo``, brought up). Returns if it
    cannot (not root, no unshare): the caller then runs in the host namespace."""
    if os.environ.get(NETNS_ENV) or os.geteuid() != 0 or not shutil.which("unshare"):
        return
    ip = shutil.which("ip") or "/usr/sbin/ip"
    probe = subprocess.run(
        ["unshare", "-n", ip, "link", "set", "lo", "up"], capture_output=True, timeout=10
    )
    if probe.returncode != 0:
        return
    env = dict(os.environ, **{NETNS_ENV: "1"})
    cmd = [
        "unshare",
        "-n",
        "sh",
        "-c",
        f'{ip} link set lo up && exec "$@"',
        "sh",
        PYTHON,
        *argv,
    ]
    sys.stdout.flush()
    os.execvpe("unshare", cmd, env)


# --- processes, temp dirs, time limit -----------------------------------------------------


class Bench(contextlib.ExitStack):
    """Owns every server and temp dir of a run; cleans up on exit, error, signal, timeout."""

    def __init__(self, limit_s: float, keep: bool = False, prefix: str = "rs-bench-"):
        super().__init__()
        self.limit_s = limit_s
        self.keep = keep
        self.prefix = prefix
        self._old: dict = {}

    def __enter__(self):
        super().__enter__()
        self._closing = False

        # Signals end the run from the handler itself: an exception raised there may land in
        # Playwright's event-loop greenlet and be swallowed, so the run would go on.
        def on_alarm(signum, frame):
            self.abort(124, f"time limit of {self.limit_s:.0f} s exceeded")

        def on_term(signum, frame):
            self.abort(128 + signum, f"signal {signal.Signals(signum).name}")

        self._old = {
            signal.SIGALRM: signal.signal(signal.SIGALRM, on_alarm),
            signal.SIGTERM: signal.signal(signal.SIGTERM, on_term),
            signal.SIGHUP: signal.signal(signal.SIGHUP, on_term),
            signal.SIGINT: signal.signal(signal.SIGINT, on_term),
        }
        signal.alarm(max(1, int(self.limit_s)))
        return self

    def abort(self, code: int, why: str) -> None:
        """Kill every process this run started (servers, Playwright's driver and Chromium,
        manage.py), remove the temp dirs, exit. Ignored while a normal cleanup is running
        (that one is bounded: see stop_process)."""
        if self._closing:
            return
        self._closing = True
        signal.alarm(0)
        print(f"\n[bench] {why}: cleaning up", file=sys.stderr, flush=True)
        try:
            for pid in reversed(descendants(os.getpid())):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            self.close()
        finally:
            os._exit(code)

    def __exit__(self, *exc):
        signal.alarm(0)
        self._closing = True
        try:
            return super().__exit__(*exc)
        finally:
            for sig, handler in self._old.items():
                signal.signal(sig, handler)

    def tempdir(self, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"{self.prefix}{name}-"))
        if self.keep:
            self.callback(log, f"kept {path}")
        else:
            self.callback(shutil.rmtree, path, True)
        return path

    def spawn(self, cmd: list[str], log_path: Path, **kwargs) -> subprocess.Popen:
        out = open(log_path, "ab")  # noqa: SIM115 - closed by the exit stack
        self.callback(out.close)
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        self.callback(stop_process, proc)
        return proc


def descendants(root: int) -> list[int]:
    """PIDs of every process below ``root`` (from /proc), parents before children."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def stop_process(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM the process group we started (start_new_session), wait, then SIGKILL whatever
    is left of the group (also when the leader is already gone: a worker forked just before
    it died would otherwise linger)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def wait_http(url: str, proc: subprocess.Popen, log_path: Path, timeout_s: float = 60, **kw):
    import requests

    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{proc.args[0]} exited ({proc.returncode}):\n{tail}")
        try:
            r = requests.get(url, timeout=5, **kw)
            if r.status_code == 200:
                return r
            last = r.status_code
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout_s} s (last: {last})")


# --- the bench series ---------------------------------------------------------------------


def make_series(
    work: Path,
    *,
    seed: int = 0,
    n_cases: int = 2,
    thick_slices: int = 36,
    thick_step: int = 4,
    thin_slices: int = 300,
    thick_copies: int = 1,
) -> dict[str, dict]:
    """Write ``work/thick`` (``thick_slices``) and ``work/thin`` (up to ``thin_slices``).

    The phantom cases of ``python -m phantoms --n n_cases --seed seed --thin`` are rendered
    in-process; that command gives 110-170 slices at 1-1.25 mm (never 36 or 300, and its
    ~5 mm default tops out at 36 only rarely), so both bench series come from the thin case
    with the most slices (seed 0: 152 slices at 1.0 mm), written by the project's CT writer
    (``phantoms.dicom_writer``) with the case's own attributes:

    * thick: every ``thick_step``-th slice (4 -> 4 mm spacing), the middle ``thick_slices``;
    * thin: the middle ``thin_slices // 2`` slices, each also written at +spacing/2, i.e. an
      overlapping reconstruction (1 mm slices every 0.5 mm); the pixel data of neighbouring
      pairs is identical, which changes nothing for raw (uncompressed) frames.

    Each gets new Study/Series/SOP Instance UIDs (one study per series), so both import as
    separate cases. ``thick_copies`` > 1 also writes ``thick-2`` ... (same pixels, own UIDs:
    "another case" for a browser whose cache already holds the first). Returns
    ``{"thick": info, "thin": info, "thick-2": info, ...}``.
    """
    import dataclasses

    import numpy as np

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from phantoms import make_case
    from phantoms.dataset import dataset_labels
    from phantoms.dicom_io import series_geometry, series_private, series_tags
    from phantoms.dicom_writer import SeriesUIDs, ct_slices, write_slices
    from phantoms.seeding import derived_seed

    case = None  # the case with the most slices, as python -m phantoms would number it
    for i, label in enumerate(dataset_labels(n_cases, seed, 0.35)):
        c = make_case(
            derived_seed(seed, "case", i), label, thin=True, matrix=512, case_id=f"PH{i + 1:04d}"
        )
        if case is None or c.n_slices > case.n_slices:
            case = c
    assert case is not None
    n, dz = case.n_slices, case.spacing[2]
    geometry = series_geometry(case)
    private = [series_private(case)]
    src_series = case.uids["series_instance_uid"]

    def write(name, first, picks, spacing, thickness):
        """Slices ``picks`` of the case, slice ``first`` at the origin, ``spacing`` apart."""
        uids = SeriesUIDs.derived("readerstudy-bench", src_series, name)
        tags = {
            **series_tags(case),
            "SeriesDescription": f"bench {name} {len(picks)} x {spacing:g} mm",
        }
        geo = dataclasses.replace(
            geometry,
            origin=tuple(float(v) for v in geometry.position(first)),
            slice_spacing=spacing,
            slice_thickness=thickness,
        )
        datasets = ct_slices(case.volume_hu[picks], geo, uids, tags=tags, private=private)
        out = work / name
        write_slices(datasets, out)
        rows, cols = case.volume_hu.shape[1:]
        return {
            "dir": out,
            "slices": len(picks),
            "spacing_mm": spacing,
            "rows": int(rows),
            "columns": int(cols),
            "study_uid": uids.study,
            "series_uid": uids.series,
            "frame_bytes": int(rows) * int(cols) * 2,
        }

    sub = np.arange(n)[::thick_step]
    start = max(0, (len(sub) - thick_slices) // 2)
    sub = sub[start : start + thick_slices]
    out = {"thick": write("thick", int(sub[0]), sub, thick_step * dz, thick_step * dz)}
    for i in range(2, thick_copies + 1):
        out[f"thick-{i}"] = write(f"thick-{i}", int(sub[0]), sub, thick_step * dz, thick_step * dz)
    half = min(n, thin_slices // 2)
    start = (n - half) // 2
    picks = np.repeat(np.arange(start, start + half), 2)  # each slice at z and z + dz / 2
    out["thin"] = write("thin", start, picks, dz / 2, dz)
    source = {"case": case.case_id, "slices": n, "spacing_mm": dz, "seed": seed}
    for info in out.values():
        info["source"] = source
    return out


# --- our server ---------------------------------------------------------------------------


class ReaderstudyServer:
    def __init__(
        self,
        bench: Bench,
        data_dir: Path,
        *,
        workers: int = 2,
        threads: int = 8,
        settings: str = "readerstudy.settings.base",
        pythonpath: str | None = None,
    ):
        self.bench = bench
        self.data_dir = data_dir
        self.workers = workers
        self.threads = threads
        self.port = None
        self.proc = None
        self.env = dict(
            os.environ,
            READERSTUDY_DATA_DIR=str(data_dir),
            DJANGO_SETTINGS_MODULE=settings,
            PYTHONUNBUFFERED="1",
        )
        if pythonpath:  # e.g. a folder with a settings variant to compare
            self.env["PYTHONPATH"] = os.pathsep.join(
                p for p in (pythonpath, self.env.get("PYTHONPATH")) if p
            )
        self.env.pop("DEBUG", None)
        self.log_path = data_dir / "gunicorn.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout_s: float = 600) -> str:
        r = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if r.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def setup(self, series_dirs: list[Path]) -> None:
        self.manage("migrate", "--noinput", "-v", "0")
        out = self.manage("import_cases", *map(str, series_dirs), "--no-progress")
        log(out.strip().splitlines()[-1] if out.strip() else "imported")
        self.manage("collectstatic", "--noinput", "-v", "0")
        self.manage(
            "shell",
            "-c",
            "from readerstudy.accounts.services import ensure_user; "
            f"ensure_user(username={BENCH_USER!r}, password={BENCH_PASSWORD!r}, "
            "role='coordinator')",
        )

    @property
    def static_root(self) -> Path:
        return self.data_dir / "static"

    def start(self) -> None:
        """Static files must be in place before this: WhiteNoise indexes STATIC_ROOT once."""
        self.port = free_port()
        cmd = [PYTHON, "-m", "gunicorn", "readerstudy.wsgi:application"]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        cmd += ["--worker-class", "gthread", "--threads", str(self.threads)]
        self.proc = self.bench.spawn(cmd, self.log_path, cwd=ROOT, env=self.env)
        wait_http(f"{self.base}/accounts/login/", self.proc, self.log_path)

    def login(self):
        import requests

        s = requests.Session()
        s.headers["Accept-Encoding"] = "identity"
        r = s.get(f"{self.base}/accounts/login/", timeout=30)
        r.raise_for_status()
        token = s.cookies.get("csrftoken") or re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text
        ).group(1)
        r = s.post(
            f"{self.base}/accounts/login/",
            data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.base}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        if r.status_code != 302 or "sessionid" not in s.cookies:
            raise RuntimeError(f"login failed: HTTP {r.status_code}")
        return s


# --- Orthanc ------------------------------------------------------------------------------


class OrthancServer:
    def __init__(self, bench: Bench, work: Path, *, http_threads: int = 50):
        self.bench = bench
        self.work = work
        self.port = None
        self.proc = None
        self.http_threads = http_threads
        self.log_path = work / "orthanc.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.base}/dicom-web"

    def start(self) -> None:
        self.port = free_port()
        storage = self.work / "db"
        storage.mkdir(parents=True, exist_ok=True)
        config = {
            "Name": "readerstudy-bench",
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "StorageCompression": False,
            "HttpServerEnabled": True,
            "HttpPort": self.port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "HttpCompressionEnabled": False,
            "KeepAlive": True,
            "TcpNoDelay": True,
            "HttpThreadsCount": self.http_threads,
            "DicomServerEnabled": False,
            "DicomPort": free_port(),  # unused (server disabled), but never the shared 4242
            "ConcurrentJobs": 2,
            "SaveJobs": False,
            "Plugins": [ORTHANC_DICOMWEB],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        }
        path = self.work / "orthanc.json"
        path.write_text(json.dumps(config, indent=2))
        self.proc = self.bench.spawn([ORTHANC_BIN, str(path)], self.log_path, cwd=self.work)
        info = wait_http(f"{self.base}/system", self.proc, self.log_path).json()
        self.version = info.get("Version")
        plugins = wait_http(f"{self.base}/plugins/dicom-web", self.proc, self.log_path).json()
        self.dicomweb_version = plugins.get("Version")

    def upload(self, files: list[Path]) -> None:
        import requests

        with requests.Session() as s:
            for p in files:
                r = s.post(
                    f"{self.base}/instances",
                    data=p.read_bytes(),
                    headers={"Content-Type": "application/dicom"},
                    timeout=60,
                )
                r.raise_for_status()


# --- DICOMweb helpers ---------------------------------------------------------------------


def _value(item: dict, tag: str):
    values = item.get(tag, {}).get("Value") or [None]
    return values[0]


def find_series(session, root: str, slices: int, study_uid: str | None = None) -> dict:
    """QIDO-RS: the (study, series, ordered SOP UIDs) of the series with ``slices`` instances.

    ``study_uid`` narrows the study search (Orthanc keeps the original UIDs, ours are
    de-identified, so only the slice count identifies the series there)."""
    found = find_all_series(session, root, slices, study_uid)
    if not found:
        raise LookupError(f"no series with {slices} instances under {root}")
    return found[0]


def find_all_series(session, root: str, slices: int, study_uid: str | None = None) -> list:
    """Every series with ``slices`` instances, as :func:`find_series` describes them."""
    q = {"StudyInstanceUID": study_uid} if study_uid else {}
    accept = {"Accept": "application/dicom+json"}
    studies = session.get(f"{root}/studies", params=q, headers=accept, timeout=60)
    studies.raise_for_status()
    found = []
    for st in studies.json():
        st_uid = _value(st, "0020000D")
        series = session.get(f"{root}/studies/{st_uid}/series", headers=accept, timeout=60)
        series.raise_for_status()
        for se in series.json():
            se_uid = _value(se, "0020000E")
            inst = session.get(
                f"{root}/studies/{st_uid}/series/{se_uid}/instances", headers=accept, timeout=60
            )
            inst.raise_for_status()
            rows = inst.json()
            if len(rows) != slices:
                continue
            rows.sort(key=lambda r: int(_value(r, "00200013") or 0))
            found.append(
                {
                    "study_uid": st_uid,
                    "series_uid": se_uid,
                    "sop_uids": [_value(r, "00080018") for r in rows],
                }
            )
    return found


def multipart_payloads(response) -> list[bytes]:
    """Bodies of a multipart/related response (or the whole body if it is single-part)."""
    ctype = response.headers.get("Content-Type", "")
    m = re.search(r'boundary="?([^";,\s]+)"?', ctype)
    body = response.content
    if not ctype.lower().startswith("multipart/") or not m:
        return [body]
    delim = b"--" + m.group(1).encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.partition(b"\r\n\r\n")
        parts.append(payload[:-2] if payload.endswith(b"\r\n") else payload)
    return parts


def frame_digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()
