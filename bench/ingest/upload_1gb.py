"""A ~1 GB zip upload through the real HTTP path: web and worker peak memory and wall time.

    .venv/bin/python bench/ingest/upload_1gb.py                       # ~1 GB, SQLite + files broker
    .venv/bin/python bench/ingest/upload_1gb.py --gb 0.2 --json out.json
    .venv/bin/python bench/ingest/upload_1gb.py --database-url postgres://... --broker-url redis://...

The upload: one thin-slice synthetic head CT from ``phantoms`` (512x512, ~130 slices, ~65 MB),
copied under new series UIDs (one study, one patient) until the zip (stored, not deflated)
reaches ``--gb``. The import takes one primary series of the study and leaves the others out,
so the largest series is also the one held in memory.

The stack, in a fresh data dir: ``gunicorn`` (one sync worker, ``--timeout 120`` as in
``docker/entrypoint.sh``) and a ``celery`` worker (queue ``default``, one prefork child), both on
``readerstudy.settings.base``; SQLite and the filesystem broker unless told otherwise. The zip
is streamed (never whole in memory here either) to ``POST /api/cases/uploads/`` with HTTP Basic
auth; the job is then polled until it ends.

Memory: every 50 ms, the RSS and PSS (``/proc/<pid>/smaps_rollup``; PSS shares pages between
forked processes) of each process tree (web: gunicorn master + worker; worker: celery main +
pool child) are summed; besides, each process's own high-water mark (``VmHWM``). Reported: the
peaks, the trees at rest before the upload, the peak above that rest, and the ratios to the
largest series: its files' bytes and its HU volume (int16) in memory.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
PY = sys.executable
USER, PASSWORD = "bench-coordinator", "bench-password-1234"
MiB = 1024 * 1024


# --- the upload ------------------------------------------------------------------------------


def build_zip(path: Path, target_bytes: int, matrix: int) -> dict:
    """Copies of one phantom series under new series UIDs until the zip has ``target_bytes``."""
    import pydicom
    from pydicom.uid import generate_uid

    from phantoms import make_case, write_case

    src = path.parent / "_src"
    write_case(make_case(1, "cvst_ich", matrix=matrix, thin=True), src)
    templates = [pydicom.dcmread(p) for p in sorted(src.glob("*/*.dcm"))]
    shutil.rmtree(src)
    study = generate_uid()
    series_bytes = copies = files = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        while path.stat().st_size < target_bytes:
            series, frame = generate_uid(), generate_uid()
            size = 0
            for i, ds in enumerate(templates):
                ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
                ds.FrameOfReferenceUID = frame
                ds.SeriesNumber = copies + 1
                ds.SOPInstanceUID = generate_uid()
                ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
                buffer = io.BytesIO()
                ds.save_as(buffer, enforce_file_format=True)
                data = buffer.getvalue()
                zf.writestr(f"study/series{copies + 1:03d}/IM{i + 1:04d}.dcm", data)
                size += len(data)
                files += 1
            series_bytes = max(series_bytes, size)
            copies += 1
            zf.fp.flush()
    first = templates[0]
    return {
        "zip_bytes": path.stat().st_size,
        "series": copies,
        "files": files,
        "slices_per_series": len(templates),
        "largest_series_file_bytes": series_bytes,
        "largest_series_volume_bytes": int(first.Rows) * int(first.Columns) * len(templates) * 2,
    }


class MultipartBody:
    """``multipart/form-data`` with one file, read from disk as it is sent."""

    BOUNDARY = "----readerstudy-bench-boundary"

    def __init__(self, path: Path, field: str = "files"):
        head = (
            f'--{self.BOUNDARY}\r\nContent-Disposition: form-data; name="{field}";'
            f' filename="{path.name}"\r\nContent-Type: application/zip\r\n\r\n'
        ).encode()
        tail = f"\r\n--{self.BOUNDARY}--\r\n".encode()
        self.parts = [io.BytesIO(head), open(path, "rb"), io.BytesIO(tail)]  # noqa: SIM115
        self.length = len(head) + path.stat().st_size + len(tail)
        self.content_type = f"multipart/form-data; boundary={self.BOUNDARY}"

    def read(self, size: int = -1) -> bytes:
        while self.parts:
            chunk = self.parts[0].read(size)
            if chunk:
                return chunk
            self.parts.pop(0).close()
        return b""


# --- memory of process trees -------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def _kib(path: str, key: str) -> int:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler(threading.Thread):
    """Peaks of RSS and PSS summed over each tree, and each process's own VmHWM."""

    def __init__(self, roots: dict[str, int], interval: float = 0.05):
        super().__init__(daemon=True)
        self.roots, self.interval = roots, interval
        self.peak = {name: {"rss": 0, "pss": 0} for name in roots}
        self.peak_at = {name: 0.0 for name in roots}  # time.monotonic() of the RSS peak
        self.phases: list[tuple[float, str]] = []  # (time, the job's phase), from the poller
        self.hwm: dict[str, dict[int, int]] = {name: {} for name in roots}
        self.rss: dict[str, dict[int, list[int]]] = {
            name: {} for name in roots
        }  # pid: [first, max]
        self.stop = threading.Event()

    def sample(self) -> dict[str, dict[str, int]]:
        now = {}
        for name, root in self.roots.items():
            rss = pss = 0
            for pid in tree(root):
                own = _kib(f"/proc/{pid}/status", "VmRSS:")
                rss += own
                seen = self.rss[name].setdefault(pid, [own, own])
                seen[1] = max(seen[1], own)
                pss += _kib(f"/proc/{pid}/smaps_rollup", "Pss:")
                hwm = _kib(f"/proc/{pid}/status", "VmHWM:")
                self.hwm[name][pid] = max(self.hwm[name].get(pid, 0), hwm)
            now[name] = {"rss": rss, "pss": pss}
            if rss > self.peak[name]["rss"]:
                self.peak_at[name] = time.monotonic()
            for key in ("rss", "pss"):
                self.peak[name][key] = max(self.peak[name][key], now[name][key])
        return now

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()


# --- the stack -----------------------------------------------------------------------------------


def _env(data_dir: Path, args) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "readerstudy.settings.base",
        "READERSTUDY_DATA_DIR": str(data_dir),
        "SECRET_KEY": "bench-upload-secret-key-" + "x" * 40,
        "READERSTUDY_MAX_UPLOAD_MB": str(args.max_upload_mb),
        "READERSTUDY_ARCHIVE_MAX_EXPANDED_MB": str(2 * args.max_upload_mb),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("READERSTUDY_S3_BUCKET", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.broker_url:
        env["CELERY_BROKER_URL"] = args.broker_url
    return env


def _setup(env: dict) -> None:
    script = (
        "from readerstudy.accounts.models import User, Role;"
        f"User.objects.filter(username={USER!r}).delete();"
        f"User.objects.create_user({USER!r}, password={PASSWORD!r}, role=Role.COORDINATOR)"
    )
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([PY, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True)


def _start(env: dict, port: int, logs: Path) -> dict[str, subprocess.Popen]:
    web = subprocess.Popen(
        [PY, "-m", "gunicorn", "readerstudy.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--timeout", "120", "--worker-tmp-dir", "/dev/shm"],
        cwd=ROOT, env=env, stdout=open(logs / "web.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [PY, "-m", "celery", "-A", "readerstudy.celery", "worker", "--queues", "default",
         "--concurrency", "1", "--pool", "prefork", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=open(logs / "worker.log", "wb"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True,
    )  # fmt: skip
    return {"web": web, "worker": worker}


def _auth() -> dict:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _get(port: int, path: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=_auth())
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, (json.loads(body) if body.startswith(b"{") else {})


def _wait_ready(port: int, procs: dict, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            if _get(port, "/healthz")[0] == 200 and len(tree(procs["worker"].pid)) >= 2:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the stack did not start")


def upload(port: int, path: Path) -> tuple[int, dict, float]:
    body = MultipartBody(path)
    headers = {**_auth(), "Content-Type": body.content_type, "Content-Length": str(body.length)}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("POST", "/api/cases/uploads/", body=body, headers=headers)
    response = conn.getresponse()
    answer = json.loads(response.read() or b"{}")
    conn.close()
    return response.status, answer, time.perf_counter() - started


def _leftovers(data_dir: Path, wait_s: float = 10) -> list[str]:
    """Uploaded files still kept (the worker removes them right after the job ends)."""
    deadline = time.monotonic() + wait_s
    while True:
        left = sorted(
            str(p.relative_to(data_dir))
            for folder in ("uploads", "upload-tmp")
            for p in (data_dir / folder).rglob("*")
            if p.is_file()
        )
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _import(port: int, path: Path, sampler: Sampler | None = None) -> tuple[dict, float]:
    """Upload, then poll the job until it ends: (its last state, seconds to the 202)."""
    status, answer, upload_s = upload(port, path)
    if status != 202:
        raise RuntimeError(f"the upload was answered {status}: {answer}")
    print(f"{path.name}: 202 after {upload_s:.1f} s; job {answer['id']} {answer['status']}")
    job = answer
    while job["status"] in ("queued", "running"):
        time.sleep(0.2)
        job = _get(port, f"/api/cases/imports/{answer['id']}/")[1]
        if sampler is not None:
            sampler.phases.append((time.monotonic(), f"{job['status']}:{job['phase']}"))
    return job, upload_s


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gb", type=float, default=1.0, help="zip size in GB (1e9 bytes)")
    ap.add_argument("--matrix", type=int, default=512)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--max-upload-mb", type=int, default=1100, help="READERSTUDY_MAX_UPLOAD_MB")
    ap.add_argument("--database-url", help="default: SQLite in the bench's data dir")
    ap.add_argument("--broker-url", help="default: the filesystem broker in the data dir")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--no-warmup", action="store_true", help="measure the processes' first import")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="rs-bench-upload-"))
    procs: dict[str, subprocess.Popen] = {}
    try:
        t = time.perf_counter()
        data = build_zip(tmp / "upload.zip", int(args.gb * 1e9), args.matrix)
        print(f"built {data['zip_bytes'] / 1e9:.2f} GB zip: {data['series']} series x "
              f"{data['slices_per_series']} slices in {time.perf_counter() - t:.0f} s")  # fmt: skip
        env = _env(tmp / "data", args)
        _setup(env)
        procs = _start(env, args.port, tmp)
        _wait_ready(args.port, procs)
        if not args.no_warmup:  # the processes' first import loads libraries: not measured
            build_zip(tmp / "warmup.zip", 1, 128)
            _import(args.port, tmp / "warmup.zip")
        sampler = Sampler({name: proc.pid for name, proc in procs.items()})
        time.sleep(2)
        rest = sampler.sample()
        sampler.peak = {name: dict(v) for name, v in rest.items()}
        sampler.start()
        started = time.perf_counter()
        job, upload_s = _import(args.port, tmp / "upload.zip", sampler)
        wall_s = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        leftover = _leftovers(tmp / "data")
        result = report(args, data, rest, sampler, job, upload_s, wall_s, leftover)
        print(json.dumps(result["summary"], indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        return 0 if job["status"] == "succeeded" and not leftover else 1
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def report(args, data, rest, sampler, job, upload_s, wall_s, leftover) -> dict:
    series_files = data["largest_series_file_bytes"]
    series_volume = data["largest_series_volume_bytes"]
    memory = {}
    for name in ("web", "worker"):
        peak, base = sampler.peak[name], rest[name]
        largest_hwm = max(sampler.hwm[name].values())
        before = [phase for at, phase in sampler.phases if at <= sampler.peak_at[name]]
        memory[name] = {
            "rest_rss_mib": round(base["rss"] / MiB, 1),
            "peak_rss_mib": round(peak["rss"] / MiB, 1),
            "peak_pss_mib": round(peak["pss"] / MiB, 1),
            "peak_above_rest_rss_mib": round((peak["rss"] - base["rss"]) / MiB, 1),
            "peak_above_rest_pss_mib": round((peak["pss"] - base["pss"]) / MiB, 1),
            "largest_process_vmhwm_mib": round(largest_hwm / MiB, 1),
            "job_phase_at_peak": before[-1] if before else "before the first poll",
            "processes_rss_mib_rest_peak": {
                str(pid): [round(a / MiB, 1), round(b / MiB, 1)]
                for pid, (a, b) in sampler.rss[name].items()
            },
            "peak_rss / largest series files": round(peak["rss"] / series_files, 2),
            "peak_above_rest_rss / largest series files": round(
                (peak["rss"] - base["rss"]) / series_files, 2
            ),
        }
    summary = {
        "zip_gb": round(data["zip_bytes"] / 1e9, 3),
        "series": data["series"],
        "files": data["files"],
        "largest_series_files_mib": round(series_files / MiB, 1),
        "largest_series_int16_volume_mib": round(series_volume / MiB, 1),
        "job": {k: job.get(k) for k in ("status", "phase", "done", "total", "error_code", "cases")},
        "upload_answered_s": round(upload_s, 1),
        "wall_s_upload_to_imported": round(wall_s, 1),
        "leftover_upload_files": leftover,
        "memory": memory,
    }
    return {
        "summary": summary,
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_end": os.getloadavg(),
            "database": args.database_url or "sqlite",
            "broker": args.broker_url or "filesystem",
        },
        "job_final": job,
    }


if __name__ == "__main__":
    raise SystemExit(main())
