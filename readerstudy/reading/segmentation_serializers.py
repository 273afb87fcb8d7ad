"""Representations of a reader's uploaded segmentation."""

from rest_framework import serializers


class SegmentationSerializer(serializers.Serializer):
    """What a marks answer references (``segmentation``), with where the mask can be read."""

    file = serializers.CharField(help_text="storage name of the NIfTI mask")
    sha256 = serializers.CharField()
    voxels = serializers.IntegerField(help_text="voxels inside the mask")
    question = serializers.CharField(help_text="code of the marks question")
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return self.context["url"](obj)


class SegmentationUploadQuerySerializer(serializers.Serializer):
    question = serializers.SlugField(max_length=64, help_text="code of the marks question")
    shape = serializers.CharField(
        required=False, max_length=40, help_text='raw masks: "slices,rows,columns"'
    )
