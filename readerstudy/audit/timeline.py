"""A study's timeline: its audit entries and its readers' answer revisions, merged by time.

The two tables are merged in the database (a UNION ordered by time) so a page reads only its
own rows, however many revisions the study holds.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast

from readerstudy.reading.models import AnswerRevision
from readerstudy.studies.models import ReaderStudy

from .models import AuditEntry

COLUMNS = ["time", "source", "actor", "kind", "object", "change"]


@dataclass(frozen=True)
class Row:
    time: Any
    source: str  # "audit" or "answer"
    actor: str
    kind: str
    object: str
    change: str

    def as_list(self) -> list[str]:
        return [self.time.isoformat(), self.source, self.actor, self.kind, self.object, self.change]


def merged(study: ReaderStudy) -> Any:
    """(time, source, id) of every row, newest first, as one queryset (sliceable, countable)."""
    entries = (
        AuditEntry.objects.filter(study_id=study.pk)
        .annotate(time=F("timestamp"), source=Value("audit"), ref=Cast("id", CharField()))
        .values_list("time", "source", "ref")
        .order_by()  # no model ordering inside the UNION (SQLite refuses it)
    )
    answers = (
        AnswerRevision.objects.filter(assignment__study_id=study.pk)
        .annotate(time=F("server_time"), source=Value("answer"), ref=Cast("id", CharField()))
        .values_list("time", "source", "ref")
        .order_by()
    )
    return entries.union(answers, all=True).order_by("-time", "-source", "-ref")


def _change(entry: AuditEntry) -> str:
    parts = [f"{field}: {old} -> {new}" for field, (old, new) in (entry.changes or {}).items()]
    parts += [f"{key}={value}" for key, value in (entry.additional_data or {}).items()]
    return "; ".join(parts)


def rows(keys: list[tuple[Any, str, str]]) -> list[Row]:
    """The display rows of one page of :func:`merged`, in its order."""
    audit_ids = [int(ref) for _, source, ref in keys if source == "audit"]
    answer_ids = [int(ref) for _, source, ref in keys if source == "answer"]
    entries = {e.pk: e for e in AuditEntry.objects.filter(pk__in=audit_ids).select_related("actor")}
    answers = {
        r.pk: r
        for r in AnswerRevision.objects.filter(pk__in=answer_ids).select_related(
            "assignment__reader__user", "assignment__study_case__case"
        )
    }
    out = []
    for time, source, ref in keys:
        if source == "audit":
            e = entries[int(ref)]
            actor = e.actor.username if e.actor else (e.actor_email or "")
            out.append(Row(time, source, actor, e.kind, e.object_repr, _change(e)))
        else:
            r = answers[int(ref)]
            a = r.assignment
            label = f"{a.study_case.case.code} / {a.condition} / revision {r.number}"
            out.append(Row(time, source, a.reader.user.username, f"answer.{r.kind}", label, ""))
    return out
