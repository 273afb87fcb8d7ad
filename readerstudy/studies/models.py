"""The study protocol, modelled: studies, readers, sessions, arms, schedules, assignments.

A design is not a set of flags: it is the sessions (periods) a study has, the arms (sequences)
readers are allocated to, and for each arm x session x case group the condition read. The
per-reader order of every session is generated once from a recorded seed and stored as
positions on the assignments, so later edits never reshuffle what a reader sees.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from readerstudy.cases.models import Case

# The longest washout a study may ask for (ten years): a documented bound, far inside the
# column's range and inside what a date after "last lock + washout" can represent.
MAX_WASHOUT_DAYS = 3650


class Design(models.TextChoices):
    SEQUENTIAL_PER_CASE = "sequential", "Per case: unaided read, lock, then aided reads (seed 000)"
    TWO_SESSIONS = "two_sessions", "One condition per session, with washout"
    CROSSOVER = "crossover", "Crossover: a Latin square of conditions over periods, with washout"
    UNAIDED_ONLY = "unaided_only", "Unaided only (readers vs model)"


class Condition(models.TextChoices):
    """The default conditions' codes; a study's conditions are its :class:`StudyCondition` rows."""

    UNAIDED = "unaided"
    AIDED = "aided"


class ReaderStudy(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        CLOSED = "closed"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    design = models.CharField(max_length=32, choices=Design.choices)
    randomization_seed = models.BigIntegerField(
        help_text="root seed; each reader's orders derive from it and are stored"
    )
    washout_days = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_WASHOUT_DAYS)],
        help_text="minimum days between a reader's sessions (two-session, crossover)",
    )
    blind_coordinators = models.BooleanField(
        default=True,
        help_text="coordinators are blinded recorders: no reads joined to truth before closing",
    )
    statistician_access = models.BooleanField(
        default=False, help_text="coordinator grant: statisticians may export before closing"
    )
    truth_pending_allowed = models.BooleanField(
        default=False,
        help_text="opened although some cases had no truth for the endpoint (to be added later)",
    )
    truth_panel = models.ForeignKey(
        "panels.Panel",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="studies",
        help_text="the finished truth panel the study's truth comes from; empty: imported truth",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "reader studies"

    def __str__(self) -> str:
        return self.title

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT

    @property
    def truth_source(self) -> str:
        """Where the study's truth comes from: ``panel`` (``truth_panel``) or ``import``."""
        return "panel" if self.truth_panel_id else "import"

    @property
    def assistance(self) -> "AssistanceConfig":
        """The study's model settings: its first aided condition's, else (a study that shows no
        model) the comparator model's. Every study has one (``AssistanceConfig.DoesNotExist``
        otherwise); each condition's own are ``condition.assistance``."""
        configs = sorted(
            self.assistance_configs.select_related("condition", "model_version"),
            key=lambda c: (c.condition is None, c.condition.order if c.condition else 0),
        )
        if not configs:
            raise AssistanceConfig.DoesNotExist(f"study {self.pk} has no assistance settings")
        return configs[0]


class StudyCondition(models.Model):
    """A reading condition of a study. ``unaided`` (reserved) shows nothing; every other
    condition shows its :class:`AssistanceConfig`."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="conditions")
    code = models.SlugField(max_length=64, help_text="stable key in assignments and exports")
    name = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["study_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="unique_condition_code")
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_aided(self) -> bool:
        return self.code != Condition.UNAIDED


class StudyCase(models.Model):
    """A case in a study's case set, with its crossover group (A/B) once drawn."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="study_cases")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="study_memberships")
    group = models.CharField(max_length=1, blank=True, help_text="crossover case group")

    class Meta:
        ordering = ["study_id", "case__code"]
        constraints = [models.UniqueConstraint(fields=["study", "case"], name="unique_study_case")]


class Arm(models.Model):
    """A sequence of conditions over the sessions (e.g. crossover AB / BA)."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="arms")
    name = models.CharField(max_length=32)

    class Meta:
        ordering = ["study_id", "name"]
        constraints = [models.UniqueConstraint(fields=["study", "name"], name="unique_arm_name")]

    def __str__(self) -> str:
        return self.name


class ReadingSession(models.Model):
    """A reading period. A reader may start it once it opens and their washout has passed."""

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="sessions")
    index = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    opens_at = models.DateTimeField(null=True, blank=True)
    washout_days = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_WASHOUT_DAYS)],
        help_text="days after the reader finished the previous session",
    )

    class Meta:
        ordering = ["study_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["study", "index"], name="unique_session_index")
        ]

    def __str__(self) -> str:
        return f"{self.study} / {self.name}"


class ScheduleEntry(models.Model):
    """In arm X, session Y, cases of group G are read in condition C (at step S of a case)."""

    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="schedule")
    session = models.ForeignKey(ReadingSession, on_delete=models.CASCADE, related_name="+")
    case_group = models.CharField(max_length=1, blank=True, help_text="blank = all cases")
    condition = models.CharField(max_length=64, help_text="a condition code of the study")
    step = models.PositiveSmallIntegerField(
        default=0, help_text="order of conditions within one case (sequential design)"
    )

    class Meta:
        ordering = ["arm_id", "session__index", "step"]


class StudyReader(models.Model):
    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="readers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="study_enrolments"
    )
    arm = models.ForeignKey(Arm, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order_seed = models.BigIntegerField(null=True, blank=True, help_text="derived, stored")
    enrolled_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["study_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["study", "user"], name="unique_study_reader")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.study}"


class Assignment(models.Model):
    """Reader x case x session x condition, at a stored position of that reader's order."""

    class State(models.TextChoices):
        PENDING = "pending"
        IN_PROGRESS = "in_progress"
        SUBMITTED = "submitted"
        LOCKED = "locked"

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="assignments")
    reader = models.ForeignKey(StudyReader, on_delete=models.CASCADE, related_name="assignments")
    study_case = models.ForeignKey(StudyCase, on_delete=models.PROTECT, related_name="assignments")
    session = models.ForeignKey(ReadingSession, on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(max_length=64, help_text="a condition code of the study")
    position = models.PositiveIntegerField(help_text="0-based place in the reader's session order")
    seed = models.BigIntegerField(help_text="seed that produced this reader's session order")
    prerequisite = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="dependents",
        help_text="assignment that must be locked first (the unaided read of the same case)",
    )  # fmt: skip
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reader_id", "session__index", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "study_case", "session", "condition"], name="unique_read"
            ),
            models.UniqueConstraint(
                fields=["reader", "session", "position"], name="unique_reader_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reader.user} / {self.study_case.case.code} / {self.condition}"


class QuestionType(models.TextChoices):
    """Stable type codes: the JSON schema of each answer is derived from the type."""

    BINARY = "binary", "Binary choice (e.g. etiology)"
    CONFIDENCE_100 = "confidence_100", "Confidence 0-100"
    SCALE_5 = "scale_5", "5-point scale"
    MULTI_LABEL = "multi_label", "Present + multi-select subtypes"
    SINGLE_CHOICE = "single_choice", "Single choice (e.g. location)"
    CHECKLIST = "checklist", "Checklist of signs"
    FREE_TEXT = "free_text", "Free text"
    CONFIDENCE_PER_LABEL = "confidence_per_label", "Confidence 0-100 per label"
    MARKS = "marks", "Lesion marks / slice marks / segmentation"


class Question(models.Model):
    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=64, help_text="stable key in answers and exports")
    type = models.CharField(max_length=32, choices=QuestionType.choices)
    text = models.CharField(max_length=300)
    help_text = models.CharField(max_length=300, blank=True)
    options = models.JSONField(
        default=list, blank=True, help_text="[{value, label}] for choice types"
    )
    required = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    is_primary = models.BooleanField(
        default=False, help_text="the decision analysed (binary) or its rating (confidence)"
    )
    show_if = models.JSONField(
        default=dict,
        blank=True,
        help_text='shown only when {"question": code, "equals": value} or '
        '{"question": code, "present": true} holds; empty = always shown',
    )
    config = models.JSONField(
        default=dict,
        blank=True,
        help_text="type settings: for marks the tools, rating range and max_marks",
    )

    class Meta:
        ordering = ["study_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="unique_question_code")
        ]


class EndpointKind(models.TextChoices):
    BINARY = "binary"
    MULTI_LABEL = "multi_label"
    MULTI_CLASS = "multi_class"


class TruthField(models.TextChoices):
    """The ``cases.GroundTruth`` field an endpoint's truth is read from."""

    ETIOLOGY = "etiology"
    ICH_PRESENT = "ich_present"
    SUBTYPES = "subtypes"
    LOCATION = "location"
    SLICE_LABELS = "slice_labels"


class Endpoint(models.Model):
    """What the study analyses: a question's answers scored against one truth field.

    ``labels`` is ``[{"value", "label"}]``: for a binary endpoint the positive then the negative
    class; for a multi-label endpoint one entry per label (``any`` = ICH present), each analysed
    as its own binary endpoint; for a multi-class endpoint its classes.
    """

    study = models.ForeignKey(ReaderStudy, on_delete=models.CASCADE, related_name="endpoints")
    code = models.SlugField(max_length=64, help_text="endpoint name in exports and analyses")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=EndpointKind.choices)
    truth_field = models.CharField(max_length=16, choices=TruthField.choices)
    labels = models.JSONField(default=list)
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="the question that answers it",
    )  # fmt: skip
    rating_question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="its confidence (0-100, or per label), optional",
    )  # fmt: skip
    is_primary = models.BooleanField(default=False, help_text="exactly one per study once opened")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["study_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="unique_endpoint_code")
        ]

    def __str__(self) -> str:
        return self.code


class HeatmapScale(models.TextChoices):
    """How a heatmap's colours are scaled: per case, or on the model's fixed global scale."""

    CASE = "case", "per case"
    GLOBAL = "global", "the model's fixed global scale"


class AssistanceConfig(models.Model):
    """What the aided view of one condition shows.

    A configuration without a condition is the comparator model of a study that shows no model
    (unaided only: readers vs the model); a study has at most one such.
    """

    study = models.ForeignKey(
        ReaderStudy, on_delete=models.CASCADE, related_name="assistance_configs"
    )
    condition = models.OneToOneField(
        StudyCondition, null=True, blank=True, on_delete=models.CASCADE, related_name="assistance"
    )
    model_version = models.ForeignKey(
        "ai.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    show_probability = models.BooleanField(default=True)
    show_decision = models.BooleanField(default=True)
    operating_point = models.CharField(max_length=64, default="high_sensitivity")
    heatmaps = models.JSONField(
        default=list, blank=True, help_text="methods shown, e.g. ['gradcampp', 'ig']"
    )
    show_mask_outline = models.BooleanField(default=True)
    show_model_version = models.BooleanField(default=True)
    heatmap_opacity = models.FloatField(
        default=0.45, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    labels = models.JSONField(
        default=list, blank=True, help_text="model labels shown, manifest names; empty = all"
    )
    show_slice_strip = models.BooleanField(
        default=True, help_text="the slice probability strip, when the model has slice outputs"
    )
    heatmap_scale = models.CharField(
        max_length=8, choices=HeatmapScale.choices, default=HeatmapScale.CASE
    )
    side_by_side = models.BooleanField(
        default=False, help_text="readers may view original | saliency side by side"
    )
    show_truth_mask_side_by_side = models.BooleanField(
        default=False, help_text="the ground-truth mask in the side-by-side view"
    )
    show_nomogram = models.BooleanField(
        default=False, help_text="the model's nomogram with this case's points, when it has one"
    )
    show_feature_importance = models.BooleanField(
        default=False, help_text="the model's selected features and their importances"
    )
    show_clinical = models.JSONField(
        default=list,
        blank=True,
        help_text="clinical variables shown to readers (catalogue names); empty = none",
    )
    show_model_marks = models.BooleanField(
        default=False,
        help_text="the model's marks: connected components of its mask, with their probability",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["study"],
                condition=models.Q(condition__isnull=True),
                name="one_comparator_config",
            )
        ]


from .consent import ConsentVersion  # noqa: E402, F401  (registers the model with the app)
from .practice import PracticeCase, PracticeSettings, PracticeStanding  # noqa: E402, F401
