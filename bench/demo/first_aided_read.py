"""Time `make demo` from the printed URL to the first aided read showing the model output.

Runs `make demo` in a fresh clone (or any checkout), waits for the line with the URL, then
drives Debian chromium as the demo reader: log in, answer the first case unaided, lock, and
wait until the aided read shows the model's probability. Prints the set-up time and the time
from the URL line to the model output on screen. Stops the demo afterwards.

    python bench/demo/first_aided_read.py --checkout /tmp/fresh-clone [--port 8765]
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

READER = ("reader", "reader-demo-2025")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu"]


def _wait_for_url(demo: subprocess.Popen, log) -> str:
    pattern = re.compile(r"running at (http://\S+/)")
    for line in demo.stdout:
        log.write(line)
        log.flush()
        match = pattern.search(line)
        if match:
            return match.group(1)
    raise SystemExit("make demo ended without printing its URL")


def _first_aided_read(url: str, checkout: str) -> float:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{url}accounts/login/")
        page.fill("#id_username", READER[0])
        page.fill("#id_password", READER[1])
        page.click("button[type=submit]")
        page.goto(f"{url}read/")
        page.click("text=Start reading")
        page.wait_for_function(
            "() => window.readerstudyWorkspace && window.readerstudyWorkspace.assignment",
            timeout=120000,
        )
        page.locator("input[name=diagnosis]").first.check()
        page.locator("input[type=number][name=confidence]").fill("50")
        page.click("#rs-submit")
        page.wait_for_function(
            "() => window.readerstudyWorkspace.assistanceShown === true", timeout=600000
        )
        shown = time.monotonic() - started
        page.screenshot(path=os.path.join(checkout, "first-aided-read.png"))
        browser.close()
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", required=True, help="where to run `make demo`")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    env = {**os.environ, "PORT": str(args.port)}
    for key in [k for k in env if k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "TEST_"))]:
        env.pop(key)
    t0 = time.monotonic()
    demo = subprocess.Popen(
        ["make", "demo"], cwd=args.checkout, env=env, text=True, start_new_session=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with open(os.path.join(args.checkout, "demo-bench.log"), "w") as log:
            url = _wait_for_url(demo, log)
            setup = time.monotonic() - t0
            print(f"make demo printed {url} after {setup:.1f} s", flush=True)
            shown = _first_aided_read(url.replace("127.0.0.1", "localhost"), args.checkout)
        print(f"first aided read showed the model output {shown:.1f} s after the URL")
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
