"""The record of a study's truth panel in its bundle, and its rebuilding on import.

When a study takes its truth from a finished panel (``ReaderStudy.truth_panel``) the bundle
holds ``panel/panel.json`` (the panel: title, rule, label kinds, etiology values, times, its
adjudicator and annotators by user name with their position A1..An), and three tables:
``panel/annotations.csv`` (each annotator's labels per case), ``panel/items.csv`` (each vote
item: the votes by alias, the majority, whether it went to the adjudicator, the decided value,
method vote / adjudication, who decided and when) and ``panel/truth.csv`` (each case's truth
from the panel with the provenance of every field, and its consensus mask file) and
``panel/masks.csv`` (every mask an annotator uploaded, its file in ``masks/``: see
``bundle_masks``), ``panel/consensus_masks.csv`` (each case's voxel vote: the consensus file
and the annotators' Dice agreement) and ``panel/mask_writes.csv`` (what became of each
consensus when the study took its truth from the panel: ``panels.CaseMaskWrite``). Only the
panel's cases that belong to the study travel. The import rebuilds the panel, finished, with
its mask files, and points the study at it. The last two tables are written by every export
of a panel study and read when present (bundles of format version 3 written before they
existed lack them).
"""

from typing import Any

from django.contrib.auth import get_user_model

from readerstudy.accounts.models import Role
from readerstudy.analysis.bundle import BundleError
from readerstudy.panels.models import (
    Annotation,
    CaseMaskWrite,
    ConsensusMask,
    Panel,
    PanelAnnotator,
    PanelCase,
    PanelItem,
    PanelMask,
    PanelTruth,
)
from readerstudy.studies.models import ReaderStudy

from . import bundle_masks as masks
from .bundle_codec import dict_of, fields_of
from .bundle_tables import CHUNK, Table

PANEL = "panel/panel.json"
ANNOTATIONS = Table(
    "panel/annotations.csv",
    Annotation,
    (("case", "panel_case__case__code"), ("annotator", "annotator__user__username")),
)
ITEMS = Table(
    "panel/items.csv",
    PanelItem,
    (("case", "panel_case__case__code"), ("decided_by", "decided_by__username")),
)
# the consensus mask travels as a file: ``mask_file`` is its path in the bundle
TRUTH = Table("panel/truth.csv", PanelTruth, (("case", "case__code"),), paths=("mask_file",))
# the panel's voxel vote of each case: its consensus file and the Dice figures
CONSENSUS = Table(
    "panel/consensus_masks.csv",
    ConsensusMask,
    (("case", "panel_case__case__code"),),
    paths=("file",),
)
# the record of the consensus masks written as the cases' truth masks for this study; the
# study is the bundle's own (``study_id`` is the importing platform's new study)
MASK_WRITES = Table(
    "panel/mask_writes.csv",
    CaseMaskWrite,
    (("case", "case__code"), ("decided_by", "decided_by__username")),
    exclude=("study_id",),
    paths=("file", "previous_file"),
)
FILES = (PANEL, ANNOTATIONS.name, ITEMS.name, TRUTH.name)
#: also in every bundle of format version 3 on (older ones carry no masks)
MASK_FILES = (masks.PANEL_MASKS.name,)


def _in_study(queryset, study: ReaderStudy, lookup: str):
    return queryset.filter(**{f"{lookup}__study_memberships__study": study})


def panel_tables(study: ReaderStudy) -> list[tuple[Table, Any]]:
    """(table, queryset) of the study's panel, in the order they are written."""
    panel = study.truth_panel
    annotations = Annotation.objects.filter(panel_case__panel=panel)
    items = PanelItem.objects.filter(panel_case__panel=panel)
    truths = PanelTruth.objects.filter(panel=panel)
    return [
        (
            ANNOTATIONS,
            _in_study(annotations, study, "panel_case__case").order_by(
                "panel_case__case__code", "annotator__position"
            ),
        ),
        (
            ITEMS,
            _in_study(items, study, "panel_case__case").order_by("panel_case__case__code", "key"),
        ),
        (TRUTH, _in_study(truths, study, "case").order_by("case__code")),
        (masks.PANEL_MASKS, masks.panel_mask_rows(study)),
        (
            CONSENSUS,
            _in_study(
                ConsensusMask.objects.filter(panel_case__panel=panel), study, "panel_case__case"
            ).order_by("panel_case__case__code"),
        ),  # fmt: skip
        (
            MASK_WRITES,
            _in_study(
                CaseMaskWrite.objects.filter(panel=panel, study_id=study.pk), study, "case"
            ).order_by("case__code", "at", "id"),
        ),  # fmt: skip
    ]


def panel_record(study: ReaderStudy) -> dict[str, Any]:
    """panel/panel.json of the study's truth panel."""
    panel = study.truth_panel
    assert panel is not None
    return {
        **dict_of(panel),
        "adjudicator": panel.adjudicator.username,
        "created_by": panel.created_by.username if panel.created_by else None,
        "annotators": [
            {"annotator": seat.user.username, "position": seat.position}
            for seat in panel.annotators.select_related("user").order_by("position")
        ],
    }


def panel_users(record: dict[str, Any]) -> dict[str, str]:
    """{user name: role} of the people a bundled panel names (created as such if missing)."""
    users: dict[str, str] = {a["annotator"]: Role.ANNOTATOR for a in record.get("annotators", [])}
    users[record["adjudicator"]] = Role.ADJUDICATOR
    return users


class PanelImport:
    """Rebuilds a bundled panel; ``rows(table)`` reads a bundled table as ``_Import.table``."""

    def __init__(self, job):
        self.job = job

    def _mask(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        """A panel truth's values, its consensus mask (a path in the bundle) stored here."""
        path = values.get("mask_file") or ""
        if path:
            values["mask_file"] = masks.restore(
                self.job.bundle, path, where, masks.TRUTH_PREFIX, self.job.stored,
                values.get("mask_sha256") or None,
            )  # fmt: skip
        return values

    def _upload(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        """An annotator's mask's values, its file (a path in the bundle) stored here."""
        values["file"] = masks.restore(
            self.job.bundle, values.get("file") or "", where, masks.UPLOAD_PREFIX,
            self.job.stored, values.get("sha256") or None,
        )  # fmt: skip
        return values

    def _stored(self, path: str, where: str, sha256: str | None = None) -> str:
        """A mask's storage name here of its path in the bundle (checked); empty for none."""
        if not path:
            return ""
        return masks.restore(
            self.job.bundle, path, where, masks.TRUTH_PREFIX, self.job.stored, sha256 or None
        )

    def _voxel_vote(self, panel: Panel, panel_case: dict, study: ReaderStudy) -> None:
        """The consensus masks with their Dice figures, and the record of their writing as
        the cases' truth masks (for the imported study), when the bundle has them."""
        job = self.job
        if job.bundle.has(CONSENSUS.name):
            rows = []
            for w, row in job.table(CONSENSUS):
                values = job.own(ConsensusMask, row, w)
                values["file"] = self._stored(values.get("file") or "", w, values.get("sha256"))
                rows.append(
                    ConsensusMask(panel_case=job.key(panel_case, row["case"], "case", w), **values)
                )
            ConsensusMask.objects.bulk_create(rows, batch_size=CHUNK)
        if not job.bundle.has(MASK_WRITES.name):
            return
        writes = []
        names = set()
        for w, row in job.table(MASK_WRITES):
            values = job.own(CaseMaskWrite, row, w, ("study_id",))
            values["file"] = self._stored(values.get("file") or "", w, values.get("sha256"))
            values["previous_file"] = self._stored(values.get("previous_file") or "", w)
            names.add(row["decided_by"])
            writes.append((w, row["case"], row["decided_by"], values))
        users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        CaseMaskWrite.objects.bulk_create(
            (
                CaseMaskWrite(
                    panel=panel,
                    case=job.key(job.case_by_code, code, "case", w),
                    study_id=study.pk,
                    decided_by=users.get(decided_by) if decided_by else None,
                    **values,
                )
                for w, code, decided_by, values in writes
            ),
            batch_size=CHUNK,
        )

    def run(self, study: ReaderStudy) -> Panel:
        job = self.job
        data = dict(job.panel_record)
        where = PANEL
        seats = data.pop("annotators", [])
        adjudicator, created_by = data.pop("adjudicator"), data.pop("created_by", None)
        users = {u.username: u for u in get_user_model().objects.filter(
            username__in=[adjudicator, created_by, *(s["annotator"] for s in seats)]
        )}  # fmt: skip
        panel = Panel.objects.create(
            **fields_of(Panel, data, where),
            adjudicator=job.key(users, adjudicator, "user", where),
            created_by=users.get(created_by) if created_by else None,
        )
        cases = PanelCase.objects.bulk_create(
            PanelCase(panel=panel, case=case) for case in job.case_by_code.values()
        )
        panel_case = {pc.case.code: pc for pc in cases}
        annotators = PanelAnnotator.objects.bulk_create(
            PanelAnnotator(
                panel=panel,
                user=job.key(users, s["annotator"], "user", where),
                position=s["position"],
            )
            for s in seats
        )
        seat = {a.user.username: a for a in annotators}
        Annotation.objects.bulk_create(
            (
                Annotation(
                    panel_case=job.key(panel_case, row["case"], "case", w),
                    annotator=job.key(seat, row["annotator"], "annotator", w),
                    **job.own(Annotation, row, w),
                )
                for w, row in job.table(ANNOTATIONS)
            ),
            batch_size=CHUNK,
        )
        PanelItem.objects.bulk_create(
            (
                PanelItem(
                    panel_case=job.key(panel_case, row["case"], "case", w),
                    decided_by=(
                        job.key(users, row["decided_by"], "user", w) if row["decided_by"] else None
                    ),
                    **job.own(PanelItem, row, w),
                )
                for w, row in job.table(ITEMS)
            ),
            batch_size=CHUNK,
        )
        PanelTruth.objects.bulk_create(
            (
                PanelTruth(
                    panel=panel,
                    case=job.key(job.case_by_code, row["case"], "case", w),
                    **self._mask(job.own(PanelTruth, row, w), w),
                )
                for w, row in job.table(TRUTH)
            ),
            batch_size=CHUNK,
        )
        if job.bundle.has(masks.PANEL_MASKS.name):
            PanelMask.objects.bulk_create(
                (
                    PanelMask(
                        panel_case=job.key(panel_case, row["case"], "case", w),
                        annotator=job.key(seat, row["annotator"], "annotator", w),
                        series=job.key(job.series_by_uid, row["series"], "series", w),
                        **self._upload(job.own(PanelMask, row, w), w),
                    )
                    for w, row in job.table(masks.PANEL_MASKS)
                ),
                batch_size=CHUNK,
            )
        self._voxel_vote(panel, panel_case, study)
        if panel.status != Panel.Status.FINISHED:
            raise BundleError("invalid_value", f"{PANEL}: the study's panel is not finished")
        study.truth_panel = panel
        study.save(update_fields=["truth_panel"])
        return panel
