"""The actor of what a Celery worker does: the worker itself, named with its task and job.

A worker has no user; entries written while a task runs (a job's status changes, its
results) get ``actor_email`` ``system/<task>/<job id>`` and the Celery task id as their
correlation id, through django-auditlog's ``set_extra_data`` context. A task run eagerly
(inside a request or a test) keeps its caller's context: the request's user is the actor.
"""

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from auditlog.context import set_extra_data
from celery.signals import task_postrun, task_prerun

SYSTEM = "system"
#: keyword arguments that name a task's job (tasks take keyword-only ids)
JOB_KEYWORDS = ("job_id", "run_id", "probe_id")

_running: dict[str, contextlib.ExitStack] = {}


def worker_actor(task_name: str, kwargs: Mapping[str, Any] | None = None) -> str:
    """``system/<task>`` or ``system/<task>/<job id>``: who did it, as the trail shows it."""
    short = task_name.rsplit(".", 1)[-1] or task_name
    job = next((str(kwargs[k]) for k in JOB_KEYWORDS if kwargs and kwargs.get(k)), "")
    return "/".join(part for part in (SYSTEM, short, job) if part)[:254]


@contextlib.contextmanager
def acting_as_worker(
    task_name: str, task_id: str = "", kwargs: Mapping[str, Any] | None = None
) -> Iterator[None]:
    """Entries written inside are the worker's (``actor_email``) with the task id as ``cid``."""
    data: dict[str, Any] = {"actor_email": worker_actor(task_name, kwargs)}
    if task_id:
        data["cid"] = task_id
    with set_extra_data(context_data=data):
        yield


def _started(task_id: str = "", task: Any = None, kwargs: Any = None, **_: Any) -> None:
    if task is None or getattr(task.request, "is_eager", False):
        return
    stack = contextlib.ExitStack()
    stack.enter_context(acting_as_worker(task.name, task_id or "", kwargs or {}))
    _running[task_id] = stack


def _ended(task_id: str = "", **_: Any) -> None:
    stack = _running.pop(task_id, None)
    if stack is not None:
        stack.close()


def connect() -> None:
    task_prerun.connect(_started, weak=False, dispatch_uid="audit-worker-actor")
    task_postrun.connect(_ended, weak=False, dispatch_uid="audit-worker-actor-end")
