"""Truth panels: N annotators label a set of cases blind to each other; a majority vote, and an
adjudicator for the items without one, establish each case's reference standard."""

from typing import ClassVar

from django.conf import settings
from django.db import models

from readerstudy.cases.models import Case, Series
from readerstudy.core.jobs import Job, JobStatus


class Rule(models.TextChoices):
    MAJORITY = "majority", "Majority vote; items without a majority go to the adjudicator"
    UNANIMOUS = "unanimous", "Unanimous, or the adjudicator decides"


class Panel(models.Model):
    class Status(models.TextChoices):
        ANNOTATING = "annotating"
        VOTING = "voting"  # every annotator is done; the vote runs on a worker (PanelVote)
        ADJUDICATING = "adjudicating"
        FINISHED = "finished"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    rule = models.CharField(max_length=16, choices=Rule.choices, default=Rule.MAJORITY)
    labels = models.JSONField(help_text="label kinds established: etiology, ich_present, ...")
    etiology_values = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ANNOTATING)
    adjudicator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="adjudicated_panels"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.FINISHED


class PanelCase(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="panel_cases")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="panel_memberships")

    class Meta:
        ordering = ["panel_id", "case__code"]
        constraints = [models.UniqueConstraint(fields=["panel", "case"], name="unique_panel_case")]


class PanelAnnotator(models.Model):
    """An annotator of a panel; ``position`` names them A1..An wherever others see them."""

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="annotators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_seats"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["panel_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "user"], name="unique_panel_annotator"),
            models.UniqueConstraint(fields=["panel", "position"], name="unique_panel_position"),
        ]

    @property
    def alias(self) -> str:
        return f"A{self.position}"


class Annotation(models.Model):
    """One annotator's labels of one case (``values``: etiology, ich_present, subtypes, location)."""

    panel_case = models.ForeignKey(PanelCase, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        PanelAnnotator, on_delete=models.CASCADE, related_name="annotations"
    )
    values = models.JSONField()
    submitted_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["panel_case", "annotator"], name="unique_annotation_per_annotator"
            )
        ]


class PanelMask(models.Model):
    """A hematoma mask an annotator drew of a panel case (one row per uploaded version; their
    annotation names the one they submit). NIfTI on the series grid, content-addressed."""

    panel_case = models.ForeignKey(PanelCase, on_delete=models.CASCADE, related_name="masks")
    annotator = models.ForeignKey(PanelAnnotator, on_delete=models.CASCADE, related_name="masks")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, related_name="+")
    file = models.CharField(max_length=300, help_text="NIfTI on the series grid, storage name")
    sha256 = models.CharField(max_length=64)
    voxels = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel_case_id", "annotator_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel_case", "annotator", "sha256"], name="unique_panel_mask_upload"
            )
        ]


class ConsensusMask(models.Model):
    """The annotators' masks of one case voted voxel by voxel once every annotator is done,
    with the Dice coefficients between them (see ``panels.masks``)."""

    panel_case = models.OneToOneField(
        PanelCase, on_delete=models.CASCADE, related_name="consensus_mask"
    )
    file = models.CharField(max_length=300, blank=True, help_text="NIfTI; blank when empty")
    sha256 = models.CharField(max_length=64, blank=True)
    voxels = models.PositiveIntegerField()
    volume_ml = models.FloatField()
    method = models.CharField(max_length=32)
    annotator_voxels = models.JSONField(help_text="{alias: voxels}")
    dice = models.JSONField(help_text='{"pairs": {"A1-A2": d}, "to_consensus": {"A1": d}}')
    created_at = models.DateTimeField(auto_now_add=True)


class PanelVote(Job):
    """The vote of a panel once every annotator is done, run on a worker: the items of every
    case and the consensus masks (see ``panels.runner``). One per panel; a failed vote is run
    again by re-queueing it. A running vote cannot be stopped (it stores all or nothing)."""

    cancellable: ClassVar[bool] = False

    Status = JobStatus

    class Phase(models.TextChoices):
        NONE = "", "not started"
        ITEMS = "items", "counting the votes"
        MASKS = "masks", "voting the hematoma masks"
        STORING = "storing", "storing the vote"

    phase = models.CharField(max_length=32, choices=Phase.choices, blank=True)
    panel = models.OneToOneField(Panel, on_delete=models.CASCADE, related_name="vote")
    items = models.PositiveIntegerField(default=0, help_text="vote items stored")
    to_adjudicate = models.PositiveIntegerField(default=0, help_text="items without a decision")

    def __str__(self) -> str:
        return f"vote of panel {self.panel_id} ({self.status})"


class PanelItem(models.Model):
    """One vote item of one case once every annotator is done: the vote, and its decision."""

    class Method(models.TextChoices):
        VOTE = "vote"
        ADJUDICATION = "adjudication"

    panel_case = models.ForeignKey(PanelCase, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=32, help_text="etiology, ich_present, subtype:iph, ...")
    votes = models.JSONField(help_text="{alias: value}")
    majority = models.JSONField(null=True, blank=True, help_text="the vote's winner, if any")
    needs_adjudication = models.BooleanField(default=False)
    value = models.JSONField(null=True, blank=True, help_text="the decided value")
    method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["panel_case_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["panel_case", "key"], name="unique_panel_item")
        ]

    @property
    def decided(self) -> bool:
        return bool(self.method)


class PanelTruth(models.Model):
    """A finished panel's truth for one case, in the fields of ``cases.GroundTruth`` (slice
    labels in its layout) and of ``cases.HematomaMask`` (the consensus mask, NIfTI stored as
    the cases' truth masks are), with the provenance of each field (method, annotators,
    adjudicator, when). A study on the panel reads these, not the case's imported truth."""

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="truths")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="panel_truths")
    etiology = models.CharField(max_length=32, blank=True)
    ich_present = models.BooleanField(null=True, blank=True)
    subtypes = models.JSONField(default=list, blank=True)
    location = models.CharField(max_length=32, blank=True)
    slice_labels = models.JSONField(default=dict, blank=True)
    mask_file = models.CharField(
        max_length=300, blank=True, help_text="consensus hematoma mask, NIfTI on the series grid"
    )
    mask_sha256 = models.CharField(max_length=64, blank=True)
    mask_voxels = models.PositiveIntegerField(null=True, blank=True)
    mask_volume_ml = models.FloatField(null=True, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel_id", "case__code"]
        constraints = [models.UniqueConstraint(fields=["panel", "case"], name="unique_panel_truth")]

    def field_rows(self) -> list[dict]:
        """Each established field with its value (as text) and provenance, for pages."""
        rows = []
        for name, provenance in self.provenance.items():
            value: object = getattr(self, name, "")
            if name == "slice_labels":
                value = _slice_summary(self.slice_labels)
            elif name == "hematoma_mask":
                value = (
                    f"{self.mask_voxels} voxels, {self.mask_volume_ml:.2f} ml"
                    if self.mask_voxels
                    else "empty"
                )
            elif isinstance(value, list):
                value = ", ".join(value) or "none"
            elif isinstance(value, bool):
                value = "yes" if value else "no"
            rows.append({"field": name, "value": value or "none", **provenance})
        return rows


def _slice_summary(slice_labels: dict) -> str:
    slices = (slice_labels or {}).get("slices") or {}
    positive = sorted(int(p) for p, labels in slices.items() if labels)
    if not positive:
        return f"no slice of {len(slices)} positive"
    shown = ", ".join(str(p + 1) for p in positive[:12]) + (" …" if len(positive) > 12 else "")
    return f"{len(positive)} of {len(slices)} slices positive ({shown})"


class CaseMaskWrite(models.Model):
    """What became of a finished panel's consensus mask when a reader study took its truth
    from the panel: written as the case's truth mask (``cases.HematomaMask``), or not, and
    why. The coordinator's choice to replace a case's existing mask is recorded here too;
    ``previous_file`` keeps the mask it replaced (or removed). When the study leaves the panel
    (imports, or another panel), the mask is given back (``panels.mask_restore``): a
    ``restored`` row's ``file`` is the mask given back (empty: the case has none again), its
    ``previous_file`` the consensus taken away."""

    class Outcome(models.TextChoices):
        WRITTEN = "written", "written (the case had no truth mask)"
        REPLACED = "replaced", "replaced the case's existing mask (the coordinator's choice)"
        REMOVED = "removed", "removed the case's mask (the consensus is empty; replace chosen)"
        KEPT = "kept", "kept the case's existing mask (the coordinator's choice)"
        UNCHANGED = "unchanged", "the case's mask already is this consensus"
        EMPTY = "empty", "nothing written: the consensus is empty"
        RESTORED = "restored", "restored the mask the consensus replaced (truth imported again)"
        LEFT_CHANGED = "left_changed", "left as it is: the case's mask changed since"
        LEFT_IN_USE = "left_in_use", "left as it is: another study takes it from the panel"
        LEFT_MISSING = "left_missing", "left as it is: the replaced mask's file is gone"

    class Method(models.TextChoices):
        CONSENSUS = "consensus", "consensus of the annotators' masks"
        ADJUDICATED = "adjudicated", "consensus; the adjudicator decided ICH present"

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="mask_writes")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="panel_mask_writes")
    study_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="the reader study whose truth source was chosen"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    replace_chosen = models.BooleanField(help_text="the coordinator chose to replace masks")
    file = models.CharField(max_length=300, blank=True, help_text="the consensus mask written")
    sha256 = models.CharField(max_length=64, blank=True)
    voxels = models.PositiveIntegerField(default=0)
    previous_file = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
