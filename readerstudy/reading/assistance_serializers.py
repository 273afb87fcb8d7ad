"""The aided view's assistance payload (see ``assistance.assistance_payload``): each part is
present only when the study's assistance configuration shows it."""

from rest_framework import serializers


class AssistanceProbabilitySerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like a DRF attribute
    meaning = serializers.CharField()
    value = serializers.FloatField()


class AssistanceDecisionSerializer(serializers.Serializer):
    operating_point = serializers.CharField()
    threshold = serializers.FloatField(allow_null=True)
    label = serializers.CharField(allow_null=True)  # type: ignore[assignment]  # a field named like a DRF attribute


class AssistanceHeatmapSerializer(serializers.Serializer):
    method = serializers.CharField()
    signed = serializers.BooleanField()
    url = serializers.CharField(help_text="the overlay volume")
    opacity = serializers.FloatField()


class AssistanceMaskSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="the overlay volume")


class AssistanceModelSerializer(serializers.Serializer):
    id = serializers.CharField()
    version = serializers.CharField()
    name = serializers.CharField()


class AssistancePayloadSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    positive_label = serializers.CharField()
    probability = AssistanceProbabilitySerializer(required=False)
    decision = AssistanceDecisionSerializer(required=False)
    heatmaps = AssistanceHeatmapSerializer(many=True)
    mask = AssistanceMaskSerializer(required=False)
    model = AssistanceModelSerializer(required=False)
