"""Worker side of the platform's jobs: a probe's round trip."""

import os
import time

from .models import WorkerProbe


def execute_worker_probe(*, probe_id: str) -> str:
    """Run a probe exactly once, however many times its message is delivered.

    A delivery after the probe finished does nothing; one that finds it ``running`` (the
    worker that had it died) runs it again, and ``completions`` still ends at 1.
    """
    probe = WorkerProbe.claim(probe_id)
    if probe is None:
        return "already-done"
    WorkerProbe.objects.filter(pk=probe.pk).update(worker_pid=os.getpid())
    try:
        if probe.duration_s > 0:
            probe.progress("sleeping", done=0, total=1)
            time.sleep(probe.duration_s)
        if not probe.succeed(completions=1, done=1, total=1, phase=""):
            return "already-done"
    except Exception as exc:
        probe.fail_from(exc)
        raise
    return "done"
