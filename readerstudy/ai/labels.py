"""A model version's labels and heads, read from its stored manifest.

Manifest 2.0 lists ``labels`` as objects (name, display) and ``heads`` (binary, multi-label,
multi-class). Versions registered from an older manifest (labels as plain names, no heads)
read as one binary head of the positive label, so stored rows keep rendering.

The *scored* labels are those an output has a probability for: a binary head's positive
label, every label of a multi-label head, and every class of a multi-class head (whose
probabilities are nested under the head's name).
"""

from __future__ import annotations

from dataclasses import dataclass

BINARY, MULTI_LABEL, MULTI_CLASS = "binary", "multi_label", "multi_class"


@dataclass(frozen=True)
class Head:
    name: str
    kind: str
    labels: tuple[str, ...]
    positive: str | None = None
    slice_level: bool = False

    @property
    def scored(self) -> tuple[str, ...]:
        if self.kind == BINARY:
            return (self.positive or self.labels[0],)
        return self.labels


@dataclass(frozen=True)
class Label:
    name: str
    display: str
    head: str
    kind: str

    def as_dict(self) -> dict:
        return {"name": self.name, "display": self.display, "head": self.head, "kind": self.kind}


def _default_display(name: str) -> str:
    return name.upper().replace("_", "-")


def displays(manifest: dict) -> dict[str, str]:
    """{label name: display name}; a label without one shows its name in capitals."""
    out: dict[str, str] = {}
    for label in manifest.get("labels") or []:
        if isinstance(label, dict):
            out[label["name"]] = label.get("display") or _default_display(label["name"])
        else:
            out[str(label)] = _default_display(str(label))
    return out


def heads(version) -> list[Head]:
    """The version's heads in manifest order."""
    manifest = version.manifest or {}
    found = [
        Head(
            name=h["name"],
            kind=h["kind"],
            labels=tuple(h["labels"]),
            positive=h.get("positive"),
            slice_level=bool(h.get("slice_level", False)),
        )
        for h in manifest.get("heads") or []
    ]
    if found:
        return found
    names = tuple(displays(manifest)) or (version.positive_label,)
    return [Head(version.positive_label, BINARY, names, positive=version.positive_label)]


def scored_labels(version) -> list[Label]:
    """Every label an output of ``version`` has a probability for, in manifest order."""
    names = displays(version.manifest or {})
    return [
        Label(name, names.get(name) or _default_display(name), head.name, head.kind)
        for head in heads(version)
        for name in head.scored
    ]


def head_display(version, head: str) -> str:
    """A head's display name (``display`` in its manifest entry, else its name)."""
    for h in (version.manifest or {}).get("heads") or []:
        if h.get("name") == head and h.get("display"):
            return str(h["display"])
    return head.replace("_", " ").capitalize()


def display_of(version, label: str) -> str:
    return displays(version.manifest or {}).get(label) or _default_display(label)


def probability_of(probabilities: dict, label: Label) -> float | None:
    """The output's probability of ``label`` (a multi-class class is nested under its head)."""
    if label.kind == MULTI_CLASS:
        value = (probabilities.get(label.head) or {}).get(label.name)
    else:
        value = probabilities.get(label.name)
    return None if value is None or isinstance(value, dict) else float(value)


def scale_of(value, label: str) -> float | None:
    """A global scale given as one number or as {label: number}."""
    if isinstance(value, dict):
        value = value.get(label)
    return float(value) if isinstance(value, int | float) and value > 0 else None


def global_scale(version, method: str, label: str) -> float | None:
    """The manifest's fixed colour scale of ``method`` for ``label`` (explainer defaults
    ``global_scale``: one number, or one per label)."""
    explainer = ((version.manifest or {}).get("explainers") or {}).get(method) or {}
    return scale_of((explainer.get("defaults") or {}).get("global_scale"), label)
