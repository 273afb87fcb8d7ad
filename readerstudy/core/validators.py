"""Serializer validators shared by the APIs."""

from rest_framework import serializers

from .jsontext import json_problem


def storable_json(value) -> None:
    """Refuse JSON values the database cannot store, whichever parser produced them."""
    problem = json_problem(value)
    if problem:
        raise serializers.ValidationError(problem[1], code=problem[0])
