"""Simulated readers answering a study against gunicorn + PostgreSQL: latency and exactly-once.

Each simulated reader is its own OS process (no shared client GIL) with its own HTTP session,
and runs the reading workspace's request sequence (``reader.js``) for every assignment of its
order: load (next, start, which answers with the workspace, the assistance for an aided read,
progress), think, autosave a draft, think, autosave again, think, then
submit-and-lock plus a duplicate of the same submission (same client request id) sent from a
second connection a few milliseconds later: a double click or a retry racing the original.
Think times are exponential with mean ``--think`` seconds (default 2 s: far faster than a real
read, which takes tens of seconds). ``--think 0`` is the saturation mode: every reader loops
without pause, which measures capacity (requests/s), not a reader's latency.

At the end the database is checked: every assignment locked, exactly one submission and one
lock row each, the lock a copy of the submission, the stored answer the one the client sent.

    set -a; eval "$(bash scripts/ensure-services.sh)"; set +a
    .venv/bin/python bench/answers/run.py --readers 50              # realistic pace
    .venv/bin/python bench/answers/run.py --readers 50 --think 0    # saturation
"""

import argparse
import json
import multiprocessing
import os
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DESIGNS = {"sequential": "SEQUENTIAL_PER_CASE", "unaided_only": "UNAIDED_ONLY"}
PASSWORD = "bench-password-" + "x" * 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- setup (Django, in the bench process) ----------------------------------------------------


def setup_database(db_url: str, n_readers: int, n_cases: int, design: str) -> tuple[int, list]:
    """A study of ``design`` opened for ``n_readers``; returns (study id, [(user, session)])."""
    os.environ["DATABASE_URL"] = db_url  # READERSTUDY_DATA_DIR (secret key) as the server's
    os.environ["DJANGO_SETTINGS_MODULE"] = "readerstudy.settings.base"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from readerstudy.accounts.models import Role
    from readerstudy.accounts.services import ensure_user
    from readerstudy.ai.models import InferenceJob, InferenceOutput, ModelVersion
    from readerstudy.cases.models import Case, Series
    from readerstudy.studies import services
    from readerstudy.studies.models import Design

    tag = uuid.uuid4().hex[:8]
    version, _ = ModelVersion.objects.get_or_create(
        model_id="bench_answers", version="1.0.0",
        defaults=dict(name="bench", manifest={}, weights_sha256="0" * 64,
                      positive_label="cvst_ich", operating_points={"high_sensitivity": 0.3}),
    )  # fmt: skip
    cases = []
    for i in range(n_cases):
        case = Case.objects.create(code=f"B{tag}{i:04d}", source_key=f"{tag}{i:056d}")
        series = Series.objects.create(
            case=case, study_instance_uid=f"2.25.{tag}.{i}", series_instance_uid=f"2.25.{tag}.{i}.1",
            modality="CT", rows=512, columns=512, num_slices=30, pixel_spacing_row=0.5,
            pixel_spacing_col=0.5, slice_spacing=5, orientation=[1, 0, 0, 0, 1, 0], origin=[0, 0, 0],
            content_hash="0" * 64,
        )  # fmt: skip
        case.primary_series = series
        case.save(update_fields=["primary_series"])
        job = InferenceJob.objects.create(
            case=case, series=series, model_version=version, params={}, params_hash="0" * 64,
            status=InferenceJob.Status.SUCCEEDED, done=100, total=100,
        )  # fmt: skip
        # Probability and decision only: overlay volumes are benchmarked with the viewer.
        InferenceOutput.objects.create(
            job=job, probabilities={"cvst_ich": 0.7}, decisions={"high_sensitivity": "cvst_ich"}
        )
        cases.append(case)
    study = services.create_study(
        title=f"bench {tag}", design=getattr(Design, DESIGNS[design]), randomization_seed=1
    )
    services.add_cases(study, cases)
    users = []
    for r in range(n_readers):
        user = ensure_user(username=f"bench-{tag}-{r}", password=PASSWORD, role=Role.READER)
        services.enroll_reader(study, user)
        users.append(user)
    services.configure_assistance(study, model_version=version, heatmaps=[])
    services.open_study(study, truth_pending_allowed=True)
    # Sessions as a login leaves them (the login itself, a deliberate ~0.5 s password hash per
    # reader, is not part of reading and is left out).
    # The backend a login records: the first that loads users (as the test client's
    # force_login picks it; the lockout backend only refuses logins).
    backend = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
    )
    sessions = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions.append((user.username, store.session_key))
    return study.pk, sessions


def check_database(study_id: int, sent: dict) -> dict:
    """Exactly-once, from the rows: every assignment locked with one submission and one lock."""
    from readerstudy.reading.models import AnswerRevision
    from readerstudy.studies.models import Assignment

    assignments = {a.pk: a for a in Assignment.objects.filter(study_id=study_id)}
    revisions: dict[int, list] = {pk: [] for pk in assignments}
    for rev in AnswerRevision.objects.filter(assignment__study_id=study_id).order_by("number"):
        revisions[rev.assignment_id].append(rev)
    lost, duplicated, mismatched, problems = 0, 0, 0, []
    for pk, assignment in assignments.items():
        rows = revisions[pk]
        submits = [r for r in rows if r.kind == "submit"]
        locks = [r for r in rows if r.kind == "lock"]
        numbers = [r.number for r in rows]
        if assignment.state != "locked" or not submits or not locks:
            lost += 1
            problems.append(f"assignment {pk}: state {assignment.state}, {len(submits)} submits")
            continue
        if len(submits) > 1 or len(locks) > 1:
            duplicated += 1
            problems.append(f"assignment {pk}: {len(submits)} submits, {len(locks)} locks")
        expected = sent.get(pk)
        if (
            numbers != list(range(1, len(rows) + 1))
            or locks[0].answers != submits[-1].answers
            or expected is None
            or submits[-1].answers != expected["answers"]
            or submits[-1].client_request_id != expected["client_request_id"]
        ):
            mismatched += 1
            problems.append(f"assignment {pk}: stored answer differs from the one sent")
    return {
        "assignments": len(assignments),
        "lost": lost,
        "duplicated": duplicated,
        "mismatched": mismatched,
        "problems": problems[:10],
    }


# --- the simulated reader (one process each) -------------------------------------------------


class Http:
    """A minimal HTTP/1.1 client (http.client): one connection, reused while the server keeps it.

    The simulated readers share the machine with the server, so the client is kept lean: about
    a third of the CPU per request of ``requests``, which leaves the cores to the server.
    """

    def __init__(self, host, port, headers):
        self.host, self.port, self.headers = host, port, headers
        self.conn = None

    def request(self, method, path, body=None):
        import http.client

        payload = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except Exception:
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, (json.loads(data) if data else None)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Reader:
    def __init__(self, base, session_key, study_id, think, gap_ms, rng, out):
        host, port = base.removeprefix("http://").split(":")
        self.address, self.study_id, self.think_mean = (host, int(port)), study_id, think
        self.gap_ms, self.rng, self.out = gap_ms, rng, out
        csrf = secrets.token_hex(16)
        self.headers = {
            "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Accept": "application/json",
        }
        self.http = self._session()
        self.sent: dict[int, dict] = {}
        self.errors: list[str] = []

    def _session(self):
        return Http(*self.address, self.headers)

    def call(self, name, method, path, body=None, http=None):
        t0 = time.perf_counter()
        started = time.time()
        try:
            status, data = (http or self.http).request(method, path, body)
        except Exception as exc:  # recorded as a failure, the reader goes on
            status, data = 0, {"error": repr(exc)}
        ms = (time.perf_counter() - t0) * 1000
        self.out.append((name, started, ms, status))
        if status not in (200, 201):
            self.errors.append(f"{name} {method} {path}: {status} {str(data)[:160]}")
        return status, data

    def think(self):
        if self.think_mean > 0:
            time.sleep(self.rng.expovariate(1 / self.think_mean))

    def run(self):
        while True:
            status, nxt = self.call("next", "GET", f"/api/reading/studies/{self.study_id}/next/")
            if status != 200 or nxt["done"]:
                return
            if nxt["blocked_reason"]:
                self.out.append(("blocked", time.time(), 0.0, 0))
                time.sleep(max(self.think_mean, 0.2))
                continue
            self.read(nxt["assignment"]["id"])

    def read(self, aid):
        a = f"/api/reading/assignments/{aid}"
        # Starting answers with the workspace: detail, revisions, the answers to prefill.
        _, detail = self.call("start", "POST", f"{a}/start/")
        aided = detail and detail.get("condition") == "aided"
        if aided:
            self.call("assistance", "GET", f"{a}/assistance/")
        self.call("progress", "GET", "/api/reading/studies/")
        diagnosis = self.rng.choice(["cvst_ich", "sich"])
        confidence = self.rng.randint(0, 100)
        for draft in ({"diagnosis": diagnosis}, {"diagnosis": diagnosis, "confidence": 50}):
            self.think()
            self.call("draft", "PUT", f"{a}/draft/", {"answers": draft, "active_ms": 1000})
        self.think()
        body = {
            "answers": {"diagnosis": diagnosis, "confidence": confidence},
            "client_request_id": uuid.uuid4().hex,
            "lock": True,
            "active_ms": 5000,
        }
        self.sent[aid] = {
            "answers": body["answers"],
            "client_request_id": body["client_request_id"],
        }
        # The duplicate leaves from another connection while the original may still be in flight.
        dup_http, statuses = self._session(), []
        gap = self.rng.uniform(0, self.gap_ms) / 1000

        def duplicate():
            time.sleep(gap)
            statuses.append(self.call("submit_dup", "POST", f"{a}/submit/", body, http=dup_http)[0])

        dup = threading.Thread(target=duplicate)
        dup.start()
        statuses.append(self.call("submit", "POST", f"{a}/submit/", body)[0])
        dup.join()
        dup_http.close()
        # Of the two, exactly one must have recorded the answer (201), the other found it (200).
        self.sent[aid]["statuses"] = sorted(statuses)


def reader_process(base, session_key, study_id, think, gap_ms, seed, start_at, out_path):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out: list = []
    reader = Reader(base, session_key, study_id, think, gap_ms, random.Random(seed), out)
    reader.call("warmup", "GET", "/api/reading/studies/")
    out.clear()
    time.sleep(max(0.0, start_at - time.time()))
    # Readers arrive spread over one think time, not all in the same millisecond.
    if think > 0:
        time.sleep(reader.rng.uniform(0, think))
    reader.run()
    Path(out_path).write_text(
        json.dumps({"calls": out, "sent": reader.sent, "errors": reader.errors})
    )


# --- measurement helpers ---------------------------------------------------------------------


def _cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent pid, command, CPU seconds used so far) for every process."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), comm, (int(fields[11]) + int(fields[12])) / tick)
    return table


def cpu_by_group(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds so far, per process, of the gunicorn tree and of the PostgreSQL processes."""
    table = _proc_table()
    tree, frontier = {server_pid}, [server_pid]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _, _) in table.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return {
        "server": {p: table[p][2] for p in tree if p in table},
        "postgres": {p: cpu for p, (_, comm, cpu) in table.items() if comm.startswith("postgres")},
    }


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots by the processes alive at the second one.

    A lower bound: a process that exited in between is missed (e.g. a PostgreSQL backend whose
    connection Django replaced after DATABASE_CONN_MAX_AGE).
    """
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class LoadSampler(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.wait(1.0):
            self.samples.append(os.getloadavg()[0])


def percentile(values, q):
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def summarize(calls):
    by = {}
    for name, _, ms, status in calls:
        by.setdefault(name, []).append((ms, status))
    rows = {}
    for name, items in sorted(by.items()):
        ms = [m for m, _ in items]
        rows[name] = {
            "n": len(items),
            "errors": sum(1 for _, s in items if s not in (200, 201)),
            "p50": percentile(ms, 0.50),
            "p90": percentile(ms, 0.90),
            "p99": percentile(ms, 0.99),
            "max": max(ms) if ms else float("nan"),
        }
    return rows


SERVER_ENDPOINTS = [
    ("POST", "/submit/", "submit"),
    ("PUT", "/draft/", "draft"),
    ("POST", "/start/", "start"),
    ("GET", "/next/", "next"),
    ("GET", "/assistance/", "assistance"),
    ("GET", "/revisions/", "revisions"),
]


def server_times(access_log: Path) -> dict:
    """Per endpoint, the time gunicorn spent on each request (%(D)s), in ms."""
    by: dict[str, list] = {}
    for line in access_log.read_text().splitlines():
        try:
            method, path, _, micros = line.split()
        except ValueError:
            continue
        for m, suffix, name in SERVER_ENDPOINTS:
            if method == m and path.endswith(suffix):
                by.setdefault(name, []).append(int(micros) / 1000)
                break
    return {
        name: {"n": len(v), "p50": percentile(v, 0.5), "p99": percentile(v, 0.99)}
        for name, v in sorted(by.items())
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--cases", type=int, default=6, help="cases per reader")
    parser.add_argument("--design", choices=sorted(DESIGNS), default="sequential")
    parser.add_argument(
        "--think", type=float, default=2.0,
        help="mean think time between a reader's actions, seconds (exponential); 0 = saturation",
    )  # fmt: skip
    parser.add_argument(
        "--dup-gap-ms", type=float, default=50,
        help="the duplicate submit leaves uniform(0, this) ms after the original",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 4)))
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads (gthread)")
    parser.add_argument(
        "--keep-alive", type=int, default=2,
        help="gunicorn --keep-alive seconds (threaded workers; sync workers close every connection)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the full results here")
    args = parser.parse_args()

    db_url = os.environ.get(
        "TEST_DATABASE_URL", "postgres://readerstudy:readerstudy@127.0.0.1:5432/readerstudy"
    )
    data_dir = tempfile.mkdtemp(prefix="bench-answers-")
    os.environ["READERSTUDY_DATA_DIR"] = data_dir
    study_id, sessions = setup_database(db_url, args.readers, args.cases, args.design)
    from django.db import connections

    connections.close_all()  # the readers are forked from here

    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "readerstudy.settings.base",
           "READERSTUDY_DATA_DIR": data_dir}  # fmt: skip
    # As docker/entrypoint.sh serves it (sync workers, WEB_CONCURRENCY, timeout, heartbeat files
    # in memory, access log).
    server_cmd = [
        sys.executable, "-m", "gunicorn", "readerstudy.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
        "--worker-class", args.worker_class, "--threads", str(args.threads), "--timeout", "120",
        "--worker-tmp-dir", "/dev/shm",
        "--keep-alive", str(args.keep_alive),
        "--access-logfile", str(Path(data_dir) / "access.log"), "--log-level", "warning",
        "--access-logformat", '%(m)s %(U)s %(s)s %(D)s',
    ]  # fmt: skip
    server = subprocess.Popen(server_cmd, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    out_dir = Path(data_dir) / "readers"
    out_dir.mkdir()
    sampler = LoadSampler()
    try:
        import urllib.error
        import urllib.request

        for _ in range(150):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except urllib.error.HTTPError:  # answering, even if a dependency is not
                break
            except OSError:
                time.sleep(0.2)
        ctx = multiprocessing.get_context("fork")
        start_at = time.time() + 3.0 + 0.02 * len(sessions)
        procs = [
            ctx.Process(
                target=reader_process,
                args=(
                    base,
                    key,
                    study_id,
                    args.think,
                    args.dup_gap_ms,
                    args.seed * 1000 + i,
                    start_at,
                    out_dir / f"{i}.json",
                ),
            )
            for i, (_, key) in enumerate(sessions)
        ]
        for p in procs:
            p.start()
        time.sleep(max(0.0, start_at - time.time()))
        load_before = os.getloadavg()
        cpu0 = _cpu_times()
        groups0 = cpu_by_group(server.pid)
        clients0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        sampler.start()
        t0 = time.perf_counter()
        for p in procs:
            p.join()
        wall = time.perf_counter() - t0
        cpu1 = _cpu_times()
        groups1 = cpu_by_group(server.pid)
        clients1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        sampler.stop.set()
        load_after = os.getloadavg()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()

    calls, sent, errors = [], {}, []
    for f in sorted(out_dir.glob("*.json")):
        data = json.loads(f.read_text())
        calls.extend(data["calls"])
        errors.extend(data["errors"])
        sent.update({int(k): v for k, v in data["sent"].items()})
    db = check_database(study_id, sent)
    rows = summarize(calls)
    server_rows = server_times(Path(data_dir) / "access.log")
    measured = [c for c in calls if c[0] != "blocked"]
    total_cpu, idle = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    tick = os.sysconf("SC_CLK_TCK")
    busy_s = (total_cpu - idle) / tick
    cpu_s = {k: cpu_used(groups0[k], groups1[k]) for k in groups0}
    cpu_s["clients"] = (clients1.ru_utime + clients1.ru_stime) - (
        clients0.ru_utime + clients0.ru_stime
    )
    cpu_s["everything else"] = busy_s - sum(cpu_s.values())
    result = {
        "args": vars(args),
        "server": " ".join(server_cmd[2:]),
        "readers": len(sessions),
        "wall_s": wall,
        "requests": len(measured),
        "requests_per_s": len(measured) / wall,
        "reads_locked_per_s": (db["assignments"] - db["lost"]) / wall,
        "endpoints": rows,
        "server_ms": server_rows,
        "submit_pairs_not_created_once": sum(
            1 for v in sent.values() if v.get("statuses") != [200, 201]
        ),
        "database": db,
        "failures": sum(r["errors"] for r in rows.values()),
        "failed_requests": errors[:50],
        "cpu_busy_pct": 100.0 * (1 - idle / total_cpu) if total_cpu else float("nan"),
        "cpus": os.cpu_count(),
        "cpu_seconds": cpu_s,
        "server_cpu_ms_per_request": 1000 * cpu_s["server"] / max(1, len(measured)),
        "postgres_cpu_ms_per_request": 1000 * cpu_s["postgres"] / max(1, len(measured)),
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "loadavg_1min_mean": sum(sampler.samples) / max(1, len(sampler.samples)),
        "loadavg_1min_max": max(sampler.samples, default=float("nan")),
    }
    pace = f"think ~Exp(mean {args.think:g} s)" if args.think > 0 else "saturation (no think)"
    print(
        f"{result['readers']} readers, {args.design}, {args.cases} cases each, {pace}; "
        f"gunicorn {args.workers} x {args.worker_class}"
        + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
    )
    print(f"{'endpoint':<12}{'n':>7}{'err':>5}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}  (ms)")
    for name, r in rows.items():
        print(
            f"{name:<12}{r['n']:>7}{r['errors']:>5}{r['p50']:>9.1f}{r['p90']:>9.1f}"
            f"{r['p99']:>9.1f}{r['max']:>9.1f}"
        )
    print(
        "server time (gunicorn, request in to response out) p50/p99 ms: "
        + ", ".join(f"{k} {v['p50']:.1f}/{v['p99']:.1f}" for k, v in server_rows.items())
    )
    print(
        f"wall {wall:.1f} s, {result['requests']} requests, {result['requests_per_s']:.1f} req/s, "
        f"{result['reads_locked_per_s']:.2f} reads locked/s; CPU busy {result['cpu_busy_pct']:.0f}% "
        f"of {result['cpus']} cores; load avg 1-min: before {load_before[0]:.2f}, "
        f"mean {result['loadavg_1min_mean']:.2f}, max {result['loadavg_1min_max']:.2f}"
    )
    print(
        f"CPU seconds during the run ({busy_s:.0f} busy of {wall * (os.cpu_count() or 1):.0f}): "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu_s.items())
        + f"; per request: gunicorn {result['server_cpu_ms_per_request']:.1f} ms, "
        f"PostgreSQL {result['postgres_cpu_ms_per_request']:.1f} ms"
    )
    print(
        f"database: {db['assignments']} assignments, lost={db['lost']} "
        f"duplicated={db['duplicated']} mismatched={db['mismatched']}; "
        f"submit pairs not answered 201+200: {result['submit_pairs_not_created_once']}; "
        f"failed requests={result['failures']}"
    )
    for p in db["problems"] + errors[:5]:
        print("  ", p)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    ok = db["lost"] == 0 and db["duplicated"] == 0 and db["mismatched"] == 0
    ok = ok and result["failures"] == 0 and result["submit_pairs_not_created_once"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
