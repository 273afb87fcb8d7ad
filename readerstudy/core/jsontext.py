"""What parsed JSON may hold before it reaches a serializer or the database.

PostgreSQL refuses NUL in text (and ``\\u0000`` in jsonb); a lone UTF-16 surrogate cannot be
encoded as UTF-8, so neither database stores it and no response could echo it. Nesting is
bounded so that every later step (validation, ``json.dumps`` into a JSONField, rendering)
stays far from Python's recursion limit.
"""

import re

MAX_JSON_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why this text cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character (U+0000)"
    match = _SURROGATE.search(text)
    if match:
        return f"contains a lone surrogate (U+{ord(match.group()):04X}), which is not a character"
    return None


def _where(path: tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "the body"


def json_problem(value, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """(code, message) of the first thing in parsed JSON that cannot be accepted, or None."""
    stack: list[tuple[object, int, tuple[object, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return "unstorable_text", f"text at {_where(path)} {problem}"
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            return "too_deep", f"JSON nested more than {max_depth} levels deep"
        if isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(key)
                if problem:
                    return "unstorable_text", f"a key at {_where(path)} {problem}"
                stack.append((child, depth + 1, (*path, key)))
        else:
            stack.extend((child, depth + 1, (*path, i)) for i, child in enumerate(item))
    return None
