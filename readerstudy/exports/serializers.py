"""The statistician API's request and response shapes."""

from rest_framework import serializers

from readerstudy.analysis.froc_fom import FROC_FOMS
from readerstudy.core.serializers import JobStateSerializer


class ReportOptionsSerializer(serializers.Serializer):
    """Options of the report, bounded so that a run cannot ask for unbounded work."""

    operating_point = serializers.CharField(required=False, max_length=64)
    table2_points = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=8
    )
    n_bootstrap = serializers.IntegerField(required=False, min_value=100, max_value=20000)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)
    stratified_bootstrap = serializers.BooleanField(required=False)
    level = serializers.FloatField(required=False, min_value=0.5, max_value=0.999)
    backend = serializers.ChoiceField(required=False, choices=["statsmodels", "r"])
    lmm_mode = serializers.CharField(required=False, max_length=32)
    lmm_random = serializers.CharField(required=False, max_length=32)
    lmm_engine = serializers.CharField(required=False, max_length=32)
    extra_models = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=8
    )
    mrmc_cov = serializers.CharField(required=False, max_length=32)
    jackknife_cases = serializers.CharField(required=False, max_length=32)
    reference = serializers.CharField(required=False, allow_null=True, max_length=64)
    contrasts = serializers.CharField(required=False, max_length=32)
    primary_endpoint = serializers.CharField(required=False, allow_null=True, max_length=64)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    f"unknown report option(s) {unknown}; expected some of {sorted(self.fields)}"
                )
        return super().to_internal_value(data)

    def validate(self, attrs):
        from readerstudy.analysis import ReportOptions  # statistics stack: loaded when asked

        try:
            ReportOptions(**attrs)
        except (TypeError, ValueError) as exc:
            raise serializers.ValidationError(str(exc)) from None
        return attrs


class ReadsQuerySerializer(serializers.Serializer):
    revisions = serializers.ChoiceField(
        choices=["final", "all"],
        default="final",
        help_text="final: the locked answer of each read; all: every answer revision",
    )


class FrocOptionsSerializer(serializers.Serializer):
    """A FROC analysis of the study's lesion marks instead of the report."""

    fom = serializers.ChoiceField(
        required=False,
        choices=list(FROC_FOMS),
        help_text="figure of merit (default wAFROC)",
    )
    method = serializers.ChoiceField(required=False, choices=["OR", "DBM"])
    varcomp = serializers.ChoiceField(required=False, choices=["readerstudy", "rjafroc"])
    level = serializers.FloatField(required=False, min_value=0.5, max_value=0.999)


class AnalysisRequestSerializer(serializers.Serializer):
    report = ReportOptionsSerializer(required=False)
    froc = FrocOptionsSerializer(required=False)

    def validate(self, attrs):
        if "report" in attrs and "froc" in attrs:
            raise serializers.ValidationError("ask for the report or a froc analysis, not both")
        return attrs


class AnalysisFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField()


class AnalysisRunSerializer(JobStateSerializer):
    """A run: the lifecycle fields (phase ``inputs``, ``statistics``, ``files``), its results."""

    id = serializers.UUIDField()
    study = serializers.IntegerField()
    summary = serializers.JSONField()
    files = AnalysisFileSerializer(many=True)


class LocalizationScoringSerializer(serializers.Serializer):
    """How lesion marks are scored (FROC): the acceptance criterion and the marks question."""

    criterion = serializers.ChoiceField(choices=["mask", "distance", "roi_overlap"])
    radius_mm = serializers.FloatField(min_value=0.001, max_value=1000.0)
    use_lesion_radius = serializers.BooleanField()
    question_code = serializers.CharField(max_length=64, allow_blank=True)


class DiceSummarySerializer(serializers.Serializer):
    comparison = serializers.CharField()
    n = serializers.IntegerField()
    n_undefined = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    sd = serializers.FloatField(allow_null=True)
    min = serializers.FloatField(allow_null=True)
    max = serializers.FloatField(allow_null=True)


class DiceRowSerializer(serializers.Serializer):
    comparison = serializers.CharField()
    case = serializers.CharField()
    session = serializers.CharField()
    a = serializers.CharField()
    b = serializers.CharField()
    dice = serializers.FloatField(allow_null=True)
    voxels_a = serializers.IntegerField()
    voxels_b = serializers.IntegerField()


class DiceReportSerializer(serializers.Serializer):
    summary = DiceSummarySerializer(many=True)
    rows = DiceRowSerializer(many=True)
