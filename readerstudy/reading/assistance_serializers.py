"""The aided view's assistance payload (see ``assistance.assistance_payload``): each part is
present only when the study's assistance configuration shows it."""

from rest_framework import serializers

from readerstudy.studies.models import EndpointKind, HeatmapScale


class AssistanceProbabilitySerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a DRF attribute
    meaning = serializers.CharField()
    value = serializers.FloatField()


class AssistanceDecisionSerializer(serializers.Serializer):
    operating_point = serializers.CharField()
    threshold = serializers.FloatField(allow_null=True)
    label = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # a field named like a DRF attribute


class AssistanceLabelSerializer(serializers.Serializer):
    name = serializers.CharField()
    display = serializers.CharField()
    head = serializers.CharField()
    kind = serializers.ChoiceField(choices=EndpointKind.choices, help_text="the head's kind")


class LabelValueSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a DRF attribute
    display = serializers.CharField()
    value = serializers.FloatField()


class LabelProbabilitySerializer(serializers.Serializer):
    """A binary / multi-label label's probability (``value``), or a multi-class head (``label``
    is the head) with its classes' probabilities."""

    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a DRF attribute
    display = serializers.CharField()
    value = serializers.FloatField(required=False)
    classes = LabelValueSerializer(many=True, required=False)


class LabelDecisionsSerializer(serializers.Serializer):
    operating_point = serializers.CharField()
    values = serializers.DictField(child=serializers.IntegerField(), help_text="{label: 0 or 1}")


class SliceStripSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField())
    sop_instance_uids = serializers.ListField(
        child=serializers.CharField(), help_text="one per slice, geometric order"
    )
    values = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="{label: [probability per slice of sop_instance_uids]}",
    )


class HeatmapScaleSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=HeatmapScale.choices)
    range = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        help_text="values at the colour bar's ends (explainer units where the map stores its "
        "scale); the overlay bytes 0 and 255",
    )
    note = serializers.CharField(required=False, help_text="why a global scale fell back")


class HeatmapColorbarSerializer(serializers.Serializer):
    high = serializers.CharField()
    low = serializers.CharField(allow_blank=True)


class AssistanceHeatmapSerializer(serializers.Serializer):
    method = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a DRF attribute
    display = serializers.CharField()
    signed = serializers.BooleanField()
    url = serializers.CharField(help_text="the overlay volume")
    opacity = serializers.FloatField()
    scale = HeatmapScaleSerializer()
    colorbar = HeatmapColorbarSerializer()


class SideBySideSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    truth_mask_url = serializers.CharField(allow_null=True, help_text="the overlay volume")


class AssistanceMaskSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="the overlay volume")


class AssistanceModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    version = serializers.CharField()
    name = serializers.CharField()


class NomogramTickSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="the variable's value at this tick")
    points = serializers.FloatField()


class NomogramAxisSerializer(serializers.Serializer):
    variable = serializers.CharField()
    display = serializers.CharField()
    ticks = NomogramTickSerializer(many=True)


class NomogramProbabilityTickSerializer(serializers.Serializer):
    total_points = serializers.FloatField()
    probability = serializers.FloatField()


class NomogramVariableSerializer(serializers.Serializer):
    name = serializers.CharField()
    display = serializers.CharField()
    points = serializers.FloatField(help_text="this case's points")
    value = serializers.JSONField(allow_null=True, help_text="this case's value")


class NomogramSerializer(serializers.Serializer):
    variables = NomogramVariableSerializer(many=True)
    total_points = serializers.FloatField()
    probability = serializers.FloatField(allow_null=True, help_text="the nomogram's prediction")
    axes = NomogramAxisSerializer(many=True)
    probability_axis = NomogramProbabilityTickSerializer(
        many=True, help_text="total points -> probability"
    )
    total_points_axis = serializers.ListField(
        child=serializers.FloatField(), help_text="ticks of the total-points axis (may be empty)"
    )
    signatures = serializers.DictField(
        child=serializers.FloatField(), help_text="{signature: probability}"
    )


class FeatureSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    importance = serializers.FloatField()


class FeatureImportanceSerializer(serializers.Serializer):
    features = FeatureSerializer(many=True, help_text="by decreasing absolute importance")


class ClinicalValueSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a DRF attribute
    kind = serializers.CharField()
    unit = serializers.CharField(allow_blank=True)
    value = serializers.JSONField(allow_null=True, help_text="null: not recorded")


class ModelMarkExtentSerializer(serializers.Serializer):
    corners_mm = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=3, max_length=3),
        min_length=2,
        max_length=2,
        help_text="opposite corners of the component's bounding box, patient LPS mm",
    )


class ModelMarkSerializer(serializers.Serializer):
    id = serializers.CharField()
    point_mm = serializers.ListField(
        child=serializers.FloatField(), min_length=3, max_length=3, help_text="centroid, LPS mm"
    )
    sop_instance_uid = serializers.CharField(help_text="the slice nearest the centroid")
    probability = serializers.FloatField()
    probability_source = serializers.CharField(
        help_text="'probability' (the model's) or 'heatmap:<method>' (its mean in the component)"
    )
    voxels = serializers.IntegerField()
    extent_mm = ModelMarkExtentSerializer()


class AssistancePayloadSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    positive_label = serializers.CharField()
    labels = AssistanceLabelSerializer(many=True, help_text="labels shown, manifest order")
    probability = AssistanceProbabilitySerializer(required=False)
    label_probabilities = LabelProbabilitySerializer(many=True, required=False)
    decision = AssistanceDecisionSerializer(required=False)
    label_decisions = LabelDecisionsSerializer(required=False)
    slice_strip = SliceStripSerializer(allow_null=True)
    heatmaps = AssistanceHeatmapSerializer(many=True)
    mask = AssistanceMaskSerializer(required=False)
    side_by_side = SideBySideSerializer()
    model = AssistanceModelSerializer(required=False)
    nomogram = NomogramSerializer(required=False)
    feature_importance = FeatureImportanceSerializer(required=False)
    clinical = ClinicalValueSerializer(many=True, required=False)
    model_marks = ModelMarkSerializer(many=True, required=False)
