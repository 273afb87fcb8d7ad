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
