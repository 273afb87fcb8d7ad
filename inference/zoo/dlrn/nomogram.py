"""The DLRN nomogram: points per variable, total points and the axes of the figure.

Standard nomogram scaling: each variable's contribution ``beta * x`` is measured from its
minimum over the variable's range; the variable with the widest range of ``beta * x``
spans 0-100 points and the others are scaled by the same factor. Total points map back
to the linear predictor ``lp = intercept + sum(min beta*x) + total * unit / 100``, where
``unit`` is that widest range, and to the probability ``1 / (1 + exp(-lp))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Variable:
    name: str
    beta: float
    low: float  # range of x (training)
    high: float
    ticks: tuple[float, ...]  # x values drawn on the variable's axis

    @property
    def span(self) -> tuple[float, float]:
        a, b = self.beta * self.low, self.beta * self.high
        return min(a, b), max(a, b)


class Nomogram:
    def __init__(self, intercept: float, variables: list[Variable]):
        if not variables:
            raise ValueError("a nomogram needs at least one variable")
        self.intercept = float(intercept)
        self.variables = list(variables)
        self.unit = max(v.span[1] - v.span[0] for v in self.variables)
        if self.unit <= 0:
            raise ValueError("every nomogram variable has a zero range of beta * x")

    def points(self, name: str, x: float) -> float:
        v = next(v for v in self.variables if v.name == name)
        return 100.0 * (v.beta * float(x) - v.span[0]) / self.unit

    def max_points(self) -> float:
        return sum(100.0 * (v.span[1] - v.span[0]) / self.unit for v in self.variables)

    def linear_predictor(self, total_points: float) -> float:
        base = self.intercept + sum(v.span[0] for v in self.variables)
        return base + total_points * self.unit / 100.0

    def probability(self, total_points: float) -> float:
        return 1.0 / (1.0 + math.exp(-self.linear_predictor(total_points)))

    def score(self, values: dict[str, float]) -> dict[str, Any]:
        """``{"points": {variable: points}, "total_points", "probability"}`` of one case."""
        pts = {v.name: round(self.points(v.name, values[v.name]), 4) for v in self.variables}
        total = sum(pts.values())
        return {
            "points": pts,
            "total_points": round(total, 4),
            "probability": self.probability(total),
        }

    def axes(self) -> dict[str, Any]:
        """What the figure needs: per variable its (value, points) ticks; the total-points
        axis; the probability axis as (probability, total points) ticks inside its range."""
        top = self.max_points()
        prob_ticks = []
        for p in (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99):
            lp = math.log(p / (1 - p))
            base = self.intercept + sum(v.span[0] for v in self.variables)
            total = (lp - base) * 100.0 / self.unit
            if 0.0 <= total <= top:
                prob_ticks.append({"probability": p, "total_points": round(total, 3)})
        step = 10.0 if top <= 200 else 20.0
        return {
            "points": [{"value": float(v), "points": float(v)} for v in np.arange(0, 101, 10)],
            "variables": [
                {
                    "name": v.name,
                    "beta": v.beta,
                    "range": [v.low, v.high],
                    "ticks": [
                        {"value": t, "points": round(self.points(v.name, t), 3)} for t in v.ticks
                    ],
                }
                for v in self.variables
            ],
            "total_points": [round(float(t), 3) for t in np.arange(0.0, top + 1e-9, step)],
            "probability": prob_ticks,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "intercept": self.intercept,
            "variables": [
                {
                    "name": v.name,
                    "beta": v.beta,
                    "low": v.low,
                    "high": v.high,
                    "ticks": list(v.ticks),
                }
                for v in self.variables
            ],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Nomogram:
        return cls(
            float(d["intercept"]),
            [
                Variable(
                    str(v["name"]),
                    float(v["beta"]),
                    float(v["low"]),
                    float(v["high"]),
                    tuple(float(t) for t in v["ticks"]),
                )
                for v in d["variables"]
            ],
        )
