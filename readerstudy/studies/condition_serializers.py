"""A study's conditions as a coordinator sends them (shown: ``serializers.ConditionSerializer``)."""

from rest_framework import serializers

from .designs import MAX_CONDITIONS
from .models import StudyCondition
from .serializers import AssistanceInputSerializer, StudyCreateSerializer


def _max_length(field: str, model=StudyCondition) -> int:
    return model._meta.get_field(field).max_length


class ConditionListSerializer(serializers.ListSerializer):
    def validate(self, attrs):
        codes = [c["code"] for c in attrs]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"condition codes must be unique: {', '.join(repeated)} repeated", code="duplicate"
            )
        return attrs


class ConditionInputSerializer(serializers.Serializer):
    """One condition of the list a coordinator sends, in the study's order (``unaided`` first
    where present; it takes no assistance). A kept code keeps its assistance settings, which
    ``assistance`` changes (a partial update)."""

    code = serializers.SlugField(max_length=_max_length("code"))
    name = serializers.CharField(max_length=_max_length("name"), required=False, allow_blank=True)
    assistance = AssistanceInputSerializer(required=False)

    class Meta:
        list_serializer_class = ConditionListSerializer


def condition_list(data, **kwargs) -> ConditionListSerializer:
    """The input list of a study's conditions (1 to ``MAX_CONDITIONS``)."""
    return ConditionInputSerializer(  # type: ignore[call-arg,return-value]  # many=True
        data=data, many=True, allow_empty=False, max_length=MAX_CONDITIONS, **kwargs
    )


class AssistancePatchSerializer(AssistanceInputSerializer):
    """Assistance settings of one aided condition (default: the study's only one)."""

    condition = serializers.SlugField(max_length=_max_length("code"), required=False)


class StudyCreateWithConditionsSerializer(StudyCreateSerializer):
    """A new study; ``conditions`` default to unaided and aided (unaided only: unaided)."""

    conditions = ConditionInputSerializer(  # type: ignore[call-arg]  # many=True takes max_length
        many=True, required=False, max_length=MAX_CONDITIONS
    )
