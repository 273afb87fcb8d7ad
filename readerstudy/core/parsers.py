"""The project's JSON request parser (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from .jsontext import MAX_JSON_DEPTH, json_problem


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what it would let through to a 500: nesting deep enough
    to exhaust Python's recursion (``json`` raises RecursionError, not ValueError) and text
    the database cannot store (NUL, lone surrogates)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                f"JSON nested more than {MAX_JSON_DEPTH} levels deep", code="too_deep"
            ) from None
        problem = json_problem(data)
        if problem:
            code, message = problem
            raise ParseError(message, code=code)
        return data
