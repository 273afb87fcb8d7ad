"""``python -m readerstudy.analysis report --bundle``: the analysis re-run from the bundle alone
(no database, no Django) gives the bundled report.json byte for byte."""

import json
import os
import subprocess
import sys
from pathlib import Path

from readerstudy.analysis.bundle import REPORT
from readerstudy.analysis.cli import main
from tests.exports.bundle_files import bundle_zip, members, rewrite  # noqa: F401

# the CLI in a fresh interpreter without Django settings, which then checks Django never loaded
SCRIPT = (
    "import sys\n"
    "from readerstudy.analysis.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django imported'\n"
    "sys.exit(code)\n"
)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}


def test_rerun_without_a_database_is_identical(bundle_zip, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, "report", "--bundle", str(bundle_zip), "--out", str(out)],
        capture_output=True, text=True, env=_env(), cwd=Path(__file__).parents[2], timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "identical" in done.stdout
    assert (out / REPORT).read_bytes() == members(bundle_zip)[REPORT]
    report = json.loads((out / REPORT).read_bytes())
    assert report["meta"]["options"]["n_bootstrap"] == 200
    assert report["meta"]["n_readers"] == 2


def test_a_report_that_does_not_follow_from_the_inputs_is_reported(
    bundle_zip,  # noqa: F811
    tmp_path,
    capsys,
):
    files = members(bundle_zip)
    report = json.loads(files[REPORT])
    report["meta"]["n_reads"] += 1
    files[REPORT] = json.dumps(report).encode()
    forged = rewrite(bundle_zip, tmp_path / "f.zip", files, rehash=True)
    assert main(["report", "--bundle", str(forged), "--out", str(tmp_path / "o")]) == 1
    assert "DIFFERS" in capsys.readouterr().err


def test_a_tampered_bundle_is_refused(bundle_zip, tmp_path, capsys):  # noqa: F811
    files = members(bundle_zip)
    files["analysis/reads.csv"] += b"r9,c9,unaided,1,1,50\n"
    tampered = rewrite(bundle_zip, tmp_path / "t.zip", files)
    assert main(["report", "--bundle", str(tampered), "--out", str(tmp_path / "o")]) == 2
    assert "hash_mismatch: analysis/reads.csv" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
