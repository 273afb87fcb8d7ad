"""WADO-RS frames per second: our DICOMweb (gunicorn) vs Orthanc's DICOMweb plugin, same series.

    .venv/bin/python bench/dicomweb/run.py                       # 36 + 300 slices, 1/4/8 threads
    .venv/bin/python bench/dicomweb/run.py --series thick --threads 1,8 --rounds 3
    .venv/bin/python bench/dicomweb/run.py --json var/bench-dicomweb.json
    .venv/bin/python bench/dicomweb/run.py --pythonpath DIR --variant fast=my_settings
        # also serves the same data dir with DIR/my_settings.py (e.g. other URLs/middleware)

Builds everything in a temp dir and removes it (and kills the servers) at the end, on
error, on SIGTERM/SIGINT/SIGHUP and at ``--limit`` seconds (exit status 124):

1. phantom series (``harness.make_series``): 36 x 512x512 and 300 x 512x512;
2. ours: fresh data dir, ``migrate``, ``import_cases`` (de-identifies), ``collectstatic``,
   a coordinator, gunicorn ``--workers 2 --worker-class gthread --threads 8`` on 127.0.0.1,
   session login (our DICOMweb takes the session cookie; HTTP Basic is not accepted there);
3. Orthanc (Debian 1.10.1 + DICOMweb plugin 1.7) on a free port with its own storage dir,
   each original file POSTed to ``/instances``;
4. per server, the series UIDs from its own QIDO-RS (ours are de-identified), then every
   frame fetched once and the pixel payloads compared (must be identical), then
   ``/metadata`` latency, then for each client thread count: ``--warmup`` + ``--rounds``
   rounds of "fetch every frame of the series" (``.../frames/1``, Accept
   ``multipart/related; type="application/octet-stream"``), every server in each round
   (order rotating), one ``requests.Session`` per client thread (keep-alive), a shared work
   queue; a round repeats the series until it holds ``--min-frames`` (144: 4 x 36 slices).

The client runs on the same machine (2 shared cores here): client CPU counts against both.
Orthanc cannot bind to loopback only, so the whole run moves into a private network
namespace (only ``lo``) when it runs as root; ``--no-netns`` to skip.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    FRAME_ACCEPT,
    Bench,
    OrthancServer,
    ReaderstudyServer,
    descendants,
    find_series,
    frame_digest,
    isolate_network,
    loadavg,
    log,
    make_series,
    multipart_payloads,
    uptime,
)


def session_like(template=None):
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    s = requests.Session()
    s.headers["Accept-Encoding"] = "identity"
    # A kept-alive connection that sat idle while the other server had its turn may be closed
    # by the server (gunicorn's keep-alive is 2 s) just as it is reused: retry such a GET once
    # on a new connection instead of ending the run (both servers get the same client).
    retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods={"GET"})
    s.mount("http://", HTTPAdapter(max_retries=retry))
    if template is not None:
        s.cookies.update(template.cookies)
    return s


def frame_urls(root: str, ids: dict) -> list[str]:
    base = f"{root}/studies/{ids['study_uid']}/series/{ids['series_uid']}/instances"
    return [f"{base}/{sop}/frames/1" for sop in ids["sop_uids"]]


def check_payloads(session, urls: list[str], frame_bytes: int) -> Counter:
    digests = Counter()
    for url in urls:
        r = session.get(url, headers={"Accept": FRAME_ACCEPT}, timeout=60)
        r.raise_for_status()
        parts = multipart_payloads(r)
        if len(parts) != 1 or len(parts[0]) != frame_bytes:
            raise RuntimeError(f"{url}: {len(parts)} part(s), {[len(p) for p in parts]} bytes")
        digests[frame_digest(parts[0])] += 1
    return digests


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a server: the process and everything below it (gunicorn's
    workers), from /proc. Less sensitive to other load on the machine than frames/s."""
    if pid is None:
        return float("nan")
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            with open(f"/proc/{p}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / CLOCK_TICKS


def fetch_all(pool: ThreadPoolExecutor, sessions: list, urls: list[str]) -> dict:
    """Every URL once, ``len(sessions)`` at a time. Returns elapsed s, bytes, latencies."""
    lock = threading.Lock()
    todo = iter(range(len(urls)))
    latencies: list[float] = []

    def worker(session):
        got = 0
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return got
            t = time.perf_counter()
            r = session.get(urls[i], headers={"Accept": FRAME_ACCEPT}, timeout=60)
            body = r.content
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                raise RuntimeError(f"HTTP {r.status_code} for {urls[i]}")
            got += len(body)

    t0 = time.perf_counter()
    received = sum(pool.map(worker, sessions))
    return {"s": time.perf_counter() - t0, "bytes": received, "latencies": latencies}


def metadata_latency(session, url: str, rounds: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(rounds):
        t = time.perf_counter()
        r = session.get(url, headers={"Accept": "application/dicom+json"}, timeout=120)
        body = r.content
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
        size = len(body)
    return times, size


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", default="thick,thin", help="thick (36), thin (300) or both")
    ap.add_argument("--threads", default="1,4,8", help="client thread counts")
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds per thread count")
    ap.add_argument("--warmup", type=int, default=1, help="discarded rounds per thread count")
    ap.add_argument(
        "--min-frames",
        type=int,
        default=144,
        help="a round fetches the series as many times as it takes to reach this many frames",
    )
    ap.add_argument("--metadata-rounds", type=int, default=7)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument("--gthreads", type=int, default=8, help="gunicorn threads per worker")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=SETTINGS_MODULE",
        help="also serve the same data dir with this DJANGO_SETTINGS_MODULE (another gunicorn,"
        " measured in the same rounds as 'ours:NAME'); repeatable; see --pythonpath",
    )
    ap.add_argument("--pythonpath", help="prepended to PYTHONPATH of the --variant servers")
    ap.add_argument("--no-orthanc", action="store_true", help="only our server(s)")
    ap.add_argument("--orthanc-threads", type=int, default=50, help="Orthanc HttpThreadsCount")
    ap.add_argument("--limit", type=float, default=1500, help="wall-clock limit, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (logs, data)")
    ap.add_argument("--no-netns", action="store_true", help="do not isolate the network")
    ap.add_argument("--json", type=Path, help="write every round and the summary here")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.no_netns:
        isolate_network([str(Path(__file__).resolve()), *(argv or sys.argv[1:])])
    wanted = [s.strip() for s in args.series.split(",") if s.strip()]
    counts = [int(c) for c in args.threads.split(",")]
    variants = dict(v.split("=", 1) for v in args.variant)

    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "uptime_start": uptime()}
    rows, meta_rows = [], []
    with Bench(args.limit, keep=args.keep, prefix="rs-bench-dicomweb-") as bench:
        work = bench.tempdir("work")
        t = time.perf_counter()
        series = make_series(work / "series")
        log(
            "series: "
            + ", ".join(f"{k} {v['slices']} x {v['spacing_mm']:g} mm" for k, v in series.items())
            + f" (from {series['thick']['source']}) in {time.perf_counter() - t:.0f} s"
        )
        targets, pids = start_servers(bench, args, work, series, wanted, variants, results)
        for name in wanted:
            results[name] = bench_series(
                name, series[name], targets, pids, args, counts, rows, meta_rows
            )
        results["uptime_end"] = uptime()
    print_tables(rows, meta_rows, args, results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


# name -> (DICOMweb root, session to copy cookies from, original study UIDs known?)
Targets = dict[str, tuple[str, object, bool]]


def start_servers(
    bench: Bench,
    args: argparse.Namespace,
    work: Path,
    series: dict,
    wanted: list[str],
    variants: dict[str, str],
    results: dict,
) -> tuple[Targets, dict[str, int]]:
    """Ours (and its variants) and Orthanc, each holding the wanted series.

    Returns the targets and, by name, each server's process (CPU time per frame)."""
    targets: Targets = {}
    pids: dict[str, int] = {}
    data = work / "data"
    data.mkdir()
    ours = ReaderstudyServer(bench, data, workers=args.workers, threads=args.gthreads)
    t = time.perf_counter()
    ours.setup([series[k]["dir"] for k in wanted])
    ours.start()
    targets["ours"] = (f"{ours.base}/dicomweb", ours.login(), False)
    pids["ours"] = ours.proc.pid
    log(f"ours: gunicorn on {ours.base}, set up in {time.perf_counter() - t:.0f} s")
    for vname, module in variants.items():
        other = ReaderstudyServer(
            bench,
            data,  # same SQLite + storage: only settings/URLs differ
            workers=args.workers,
            threads=args.gthreads,
            settings=module,
            pythonpath=args.pythonpath,
        )
        other.log_path = data / f"gunicorn-{vname}.log"
        other.start()
        targets[f"ours:{vname}"] = (f"{other.base}/dicomweb", other.login(), False)
        pids[f"ours:{vname}"] = other.proc.pid
        log(f"ours:{vname} ({module}) on {other.base}")
    if not args.no_orthanc:
        (work / "orthanc").mkdir()
        orthanc = OrthancServer(bench, work / "orthanc", http_threads=args.orthanc_threads)
        orthanc.start()
        for k in wanted:
            orthanc.upload(sorted(series[k]["dir"].glob("*.dcm")))
        log(f"orthanc {orthanc.version} + DICOMweb {orthanc.dicomweb_version} on {orthanc.base}")
        results["orthanc"] = {"version": orthanc.version, "dicomweb": orthanc.dicomweb_version}
        targets["orthanc"] = (orthanc.dicomweb, session_like(), True)
        pids["orthanc"] = orthanc.proc.pid
    results["gunicorn"] = {"workers": args.workers, "threads": args.gthreads}
    results["variants"] = variants
    return targets, pids


def bench_series(
    name: str,
    info: dict,
    targets: Targets,
    pids: dict[str, int],
    args: argparse.Namespace,
    counts: list[int],
    rows: list,
    meta_rows: list,
) -> dict:
    """One series on every server: payload check, /metadata, then each client thread count."""
    names = list(targets)
    n = info["slices"]
    ids, urls = {}, {}
    for k, (root, template, original) in targets.items():
        study = info["study_uid"] if original else None
        ids[k] = find_series(template, root, n, study_uid=study)
        urls[k] = frame_urls(root, ids[k])
    passes = max(1, -(-args.min_frames // n))
    digests = [check_payloads(targets[k][1], urls[k], info["frame_bytes"]) for k in names]
    if any(d != digests[0] for d in digests):
        raise RuntimeError(f"{name}: pixel data differ between the servers")
    mb = n * info["frame_bytes"] / 1e6
    log(f"{name}: {n} frames ({mb:.1f} MB) identical on all servers; load {loadavg()}")

    meta = metadata_block(n, targets, ids, args.metadata_rounds, meta_rows)
    log(f"{name} metadata: " + ", ".join(f"{k} {v['median_ms']:.1f} ms" for k, v in meta.items()))
    per_series = {
        "slices": n,
        "passes_per_round": passes,
        "frame_bytes": info["frame_bytes"],
        "metadata": meta,
    }
    for c in counts:
        block = threads_block(c, n, passes, info, targets, urls, pids, args)
        per_series[f"threads_{c}"] = block
        load_start, load_end = block["load_start"], block["load_end"]
        log(
            f"{name} x{c}: "
            + ", ".join(f"{k} {block[k]['median_fps']:.0f} f/s" for k in names)
            + f"; load {load_start} -> {load_end}"
        )
        rows.extend(table_row(n, k, c, block[k], load_start, load_end) for k in names)
    return per_series


def metadata_block(n: int, targets: Targets, ids: dict, rounds: int, meta_rows: list) -> dict:
    """Per server: the latencies of its series /metadata (a row of the table each)."""
    meta = {}
    for k, (root, template, _) in targets.items():
        st, se = ids[k]["study_uid"], ids[k]["series_uid"]
        url = f"{root}/studies/{st}/series/{se}/metadata"
        metadata_latency(template, url, 1)  # warm
        ms, size = metadata_latency(template, url, rounds)
        meta[k] = {"ms": ms, "median_ms": statistics.median(ms), "bytes": size}
        meta_rows.append((n, k, f"{meta[k]['median_ms']:.1f}", f"{size / 1e3:.0f}", loadavg()))
    return meta


def threads_block(
    c: int,
    n: int,
    passes: int,
    info: dict,
    targets: Targets,
    urls: dict[str, list[str]],
    pids: dict[str, int],
    args: argparse.Namespace,
) -> dict:
    """``--warmup`` + ``--rounds`` rounds with ``c`` client threads, every server each round."""
    names = list(targets)
    sessions = {k: [session_like(targets[k][1]) for _ in range(c)] for k in names}
    rounds: dict[str, list] = {k: [] for k in names}
    load_start = loadavg()
    with ThreadPoolExecutor(c) as pool:
        for r in range(args.warmup + args.rounds):
            shift = r % len(names)  # rotate who goes first
            for k in names[shift:] + names[:shift]:
                cpu = cpu_seconds(pids.get(k))
                res = fetch_all(pool, sessions[k], urls[k] * passes)
                res["cpu_s"] = cpu_seconds(pids.get(k)) - cpu
                if r >= args.warmup:
                    rounds[k].append(res)
    block: dict = {"load_start": load_start, "load_end": loadavg()}
    for k, rs in rounds.items():
        block[k] = round_summary(rs, n * passes, info["frame_bytes"])
        if "orthanc" in rounds and k != "orthanc":
            block[k]["ratio"] = block[k]["median_fps"] / statistics.median(
                n * passes / x["s"] for x in rounds["orthanc"]
            )
    for ss in sessions.values():
        for sess in ss:
            sess.close()
    return block


def round_summary(rs: list[dict], frames: int, frame_bytes: int) -> dict:
    """Frames/s, MB/s, latency percentiles and server CPU per frame of one server's rounds."""
    fps = [frames / x["s"] for x in rs]
    lat = [v * 1000 for x in rs for v in x["latencies"]]
    return {
        "frames_per_s": fps,
        "median_fps": statistics.median(fps),
        "median_MBps": statistics.median(fps) * frame_bytes / 1e6,
        "p50_ms": pct(lat, 0.5),
        "p95_ms": pct(lat, 0.95),
        "cpu_ms_per_frame": statistics.median(1000 * x["cpu_s"] / frames for x in rs),
    }


def table_row(n: int, k: str, c: int, b: dict, load_start: str, load_end: str) -> tuple:
    return (
        f"{n}",
        k,
        c,
        f"{b['median_fps']:.0f} ({min(b['frames_per_s']):.0f}-{max(b['frames_per_s']):.0f})",
        f"{b['median_MBps']:.0f}",
        f"{b['p50_ms']:.1f} / {b['p95_ms']:.1f}",
        f"{b['cpu_ms_per_frame']:.2f}",
        f"{b['ratio']:.2f}" if "ratio" in b else "",
        f"{load_start} -> {load_end}",
    )


def print_tables(rows: list, meta_rows: list, args: argparse.Namespace, results: dict) -> None:
    head = (
        "slices",
        "server",
        "client threads",
        "frames/s median (min-max)",
        "MB/s",
        "latency p50 / p95 ms",
        "server CPU ms/frame",
        "x Orthanc",
        "load avg (1/5/15 min), start -> end",
    )
    print()
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print()
    print(f"series /metadata, median of {args.metadata_rounds} sequential GETs\n")
    print("| slices | server | ms | kB | load avg |")
    print("|---|---|---|---|---|")
    for r in meta_rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    print(f"\nstart: {results['uptime_start']}\nend:   {results['uptime_end']}")


if __name__ == "__main__":
    sys.exit(main())
