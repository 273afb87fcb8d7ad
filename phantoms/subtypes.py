"""Intracranial haemorrhage of five subtypes, each in its own compartment of the head model.

* ``iph``: intraparenchymal haematoma with perihaematomal oedema, at a location class:
  ``deep`` (putamen / thalamus), ``lobar`` (cortex / subcortical white matter) or
  ``subtentorial`` (cerebellar hemisphere, below the transverse sinuses);
* ``ivh``: blood in the ventricles, layering in the dependent (posterior, the patient lies
  supine) part of an atrium, or casting a whole lateral ventricle;
* ``sah``: thin hyperdensity filling the sulci (and interhemispheric fissure) near a centre,
  sometimes with a layer in the basal cisterns over the skull base;
* ``sdh``: a crescent along the inner table over a wide arc, of nearly even thickness,
  its inner margin concave toward the brain, not crossing the midline;
* ``edh``: a biconvex lens against the inner table over a short arc, thickest in its middle.

Every shape is analytic in the head frame (so thick, thin and tilted series of one patient
agree) and painted into a slice window after the anatomy; ``render`` returns the blood
fraction, whose ``>= 0.5`` part is the subtype's mask. Acute blood is 50-80 HU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .anatomy import TISSUE, Array, Ellipsoid, HeadModel, paint, ramp
from .lesions import Lesion, _deep_centre, _radius_ml, _sich_patch, _surface_point, _unit

SUBTYPES = ("iph", "ivh", "sah", "sdh", "edh")  # label-map codes 1..5 in this order
LOCATIONS = ("deep", "lobar", "subtentorial")
CODES = {name: i + 1 for i, name in enumerate(SUBTYPES)}
PAINT_ORDER = ("iph", "ivh", "sah", "sdh", "edh")  # later ones cover earlier ones


class Hemorrhage(Protocol):
    @property
    def subtype(self) -> str: ...

    @property
    def blood_hu(self) -> float: ...

    def render(
        self, hu: Array, lab: Array, xl: Array, yl: Array, zl: float, f: dict[str, Array], w: float
    ) -> Array: ...


def window_fields(
    head: HeadModel, xl: Array, yl: Array, zl: float, fields: dict[str, Array]
) -> None:
    """Add what the subtypes need to the anatomy's fields: depth below the inner table and
    height above the skull base (both mm)."""
    r_inner = head.radii(fields["ux"], fields["uy"], fields["uz"])[2]
    fields["d_inner"] = r_inner - fields["rho"]
    fields["above"] = zl - head.floor_z(xl, yl)


@dataclass(frozen=True)
class Iph:
    subtype = "iph"
    location: str
    lesion: Lesion

    @property
    def blood_hu(self) -> float:
        return self.lesion.blood_hu

    def render(
        self, hu: Array, lab: Array, xl: Array, yl: Array, zl: float, f: dict[str, Array], w: float
    ) -> Array:
        return self.lesion.render(hu, lab, xl, yl, zl, f, w)


@dataclass(frozen=True)
class Ivh:
    subtype = "ivh"
    parts: tuple[Ellipsoid, ...]  # the ventricle compartments that hold blood
    level: float  # head-frame y above which blood lies (dependent layering); -inf: a cast
    blood_hu: float

    def render(
        self, hu: Array, lab: Array, xl: Array, yl: Array, zl: float, f: dict[str, Array], w: float
    ) -> Array:
        a = np.zeros(np.broadcast_shapes(np.shape(xl), np.shape(yl)), dtype=np.float32)
        for e in self.parts:
            alpha = e.alpha(xl, yl, zl, w)
            if alpha is not None:
                np.maximum(a, alpha, out=a)
        if math.isfinite(self.level):
            a *= ramp(yl - self.level, w)
        a *= f["cavity"]
        paint(hu, lab, a, self.blood_hu, TISSUE["hematoma"])
        return a


@dataclass(frozen=True)
class Sah:
    subtype = "sah"
    centre: tuple[float, float, float]  # head frame, near the convexity
    radius: float  # mm: sulci within this distance of the centre fill with blood
    cistern_t: float  # thickness (mm) of the basal cistern layer; 0: none
    blood_hu: float

    def render(
        self, hu: Array, lab: Array, xl: Array, yl: Array, zl: float, f: dict[str, Array], w: float
    ) -> Array:
        c0, c1, c2 = self.centre
        dist = np.sqrt((xl - c0) ** 2 + (yl - c1) ** 2 + (zl - c2) ** 2)
        a = f["sulcal"] * ramp(self.radius - dist, 6.0)
        if self.cistern_t > 0:
            above = f["above"]
            layer = ramp(above, w) * ramp(self.cistern_t - above, w) * f["cavity"]
            # the suprasellar and ambient cisterns: over the middle of the skull base
            layer *= ramp(22.0 - np.abs(xl), 4.0) * ramp(12.0 - np.abs(yl + 8.0), 4.0)
            a = np.maximum(a, layer)
        paint(hu, lab, a, self.blood_hu, TISSUE["sah"])
        return a


@dataclass(frozen=True)
class Extraaxial:
    """A collection against the inner table, around the direction ``axis``.

    Its thickness falls from ``thickness`` on the axis to 0 at ``half_angle``:
    ``(1 - (phi / half)^2)`` gives the epidural lens, ``sqrt(1 - (phi / half)^4)`` the even,
    crescentic subdural layer.
    """

    subtype: str  # "sdh" | "edh"
    axis: tuple[float, float, float]  # unit, head frame
    half_angle: float  # rad
    thickness: float  # mm
    side: int  # +1 left, -1 right: the collection stays on its side of the falx
    blood_hu: float

    def profile(self, phi: Array) -> Array:
        q = np.clip(phi / self.half_angle, 0.0, 1.0)
        if self.subtype == "edh":
            out: Array = self.thickness * (1.0 - q * q)
        else:
            out = self.thickness * np.sqrt(1.0 - q**4)
        return out

    def render(
        self, hu: Array, lab: Array, xl: Array, yl: Array, zl: float, f: dict[str, Array], w: float
    ) -> Array:
        a0, a1, a2 = self.axis
        cos_phi = f["ux"] * a0 + f["uy"] * a1 + f["uz"] * a2
        phi = np.arccos(np.clip(cos_phi, -1.0, 1.0))
        d = f["d_inner"]
        a = f["cavity"] * ramp(self.profile(phi) - d, w) * ramp(self.side * xl - 1.5, w)
        paint(hu, lab, a, self.blood_hu, TISSUE["hematoma"])
        return a


def inside_brain(head: HeadModel, p: Array, margin: float) -> bool:
    """Whether head-frame point ``p`` lies ``margin`` mm inside the brain and above the floor."""
    rho = float(np.linalg.norm(p))
    depth = head.brain_radius(p) - rho if rho > 1e-6 else head.c
    above = float(p[2] - head.floor_z(np.array(p[0]), np.array(p[1])))
    return depth > margin and above > margin


def _subtentorial_centre(rng: np.random.Generator, head: HeadModel, side: int, r: float) -> Array:
    """A cerebellar hemisphere: behind the petrous ridges, below the transverse sinuses."""
    u = rng.uniform
    z_top = head.transverse_z() - 2.0
    for _ in range(100):
        p = np.array([side * u(8.0, 28.0) * head.a / 73.0, u(0.2, 0.5) * head.b, 0.0])
        z_low = float(head.floor_z(np.array(p[0]), np.array(p[1]))) + 0.5 * r + 2.0
        if z_top <= z_low:
            continue
        p[2] = u(z_low, z_top)
        if inside_brain(head, p, 0.5 * r):
            return p
    raise ValueError("no room for a subtentorial haematoma in this head")


def sample_iph(rng: np.random.Generator, head: HeadModel, location: str) -> Iph:
    if location not in LOCATIONS:
        raise ValueError(f"location must be one of {LOCATIONS}, got {location!r}")
    u = rng.uniform
    side = 1 if rng.random() < 0.5 else -1
    top = {"deep": 40.0, "lobar": 50.0, "subtentorial": 15.0}[location]
    volume = float(np.clip(rng.lognormal(np.log(0.4 * top), 0.6), 3.0, top))
    radius = _radius_ml(volume)
    if location == "deep":
        centre = _deep_centre(rng, head, side, thalamus=rng.random() < 0.4)
        site = "deep"
    elif location == "lobar":
        d = _unit((side * u(0.35, 1.0), u(-0.8, 0.8), u(0.05, 0.8)))
        centre = _surface_point(head, d, radius * u(0.9, 1.4) + u(2.0, 8.0))
        centre[0] = side * max(side * centre[0], radius + 3.0)
        site = "lobar"
    else:
        centre = _subtentorial_centre(rng, head, side, radius)
        site = "cerebellum"
    lesion = Lesion(
        label="sich",
        site=site,
        patches=(_sich_patch(rng, centre, radius, side),),
        blood_hu=u(60.0, 76.0),
        texture=(u(1.0, 3.0), rng.normal(size=(2, 3)) * 0.35, rng.uniform(0, 2 * np.pi, 2)),
        edema_ring=float(radius * u(0.1, 0.4)),
        edema_mod=(u(0.2, 0.45), rng.normal(size=3) * 0.3, u(0, 2 * np.pi)),
        edema_hu=u(13.0, 22.0),
        sah=False,
        sah_radius=0.0,
        sah_hu=0.0,
        sinus_hu={},
        cortical_vein=None,
        midline_shift=0.0,
    )
    return Iph(location=location, lesion=lesion)


def sample_ivh(rng: np.random.Generator, head: HeadModel) -> Ivh:
    # head.ventricles: (body, atrium, frontal horn) of the left, then of the right ventricle
    left, right = head.ventricles[:3], head.ventricles[3:]
    sides = (left, right) if rng.random() < 0.5 else (right, left)
    bilateral = rng.random() < 0.5
    if rng.random() < 0.3:  # a cast of the whole lateral ventricle(s), often the third too
        parts = sides[0] + (sides[1] if bilateral else ())
        if rng.random() < 0.6:
            parts += (head.third_ventricle,)
        level = -math.inf
    else:  # blood layering in the dependent atria
        parts = (sides[0][1],) + ((sides[1][1],) if bilateral else ())
        atrium = sides[0][1]
        level = atrium.center[1] + rng.uniform(-0.5, 0.2) * atrium.semi[1]
    return Ivh(parts=parts, level=level, blood_hu=rng.uniform(50.0, 72.0))


def sample_sah(rng: np.random.Generator, head: HeadModel) -> Sah:
    u = rng.uniform
    side = 1 if rng.random() < 0.5 else -1
    d = _unit((side * u(0.2, 1.0), u(-0.7, 0.7), u(0.0, 0.8)))
    centre = _surface_point(head, d, 4.0)
    cistern_t = u(2.0, 3.5) if rng.random() < 0.5 else 0.0
    return Sah(
        centre=(float(centre[0]), float(centre[1]), float(centre[2])),
        radius=u(25.0, 45.0),
        cistern_t=cistern_t,
        blood_hu=u(55.0, 70.0),
    )


def sample_extraaxial(rng: np.random.Generator, subtype: str) -> Extraaxial:
    u = rng.uniform
    side = 1 if rng.random() < 0.5 else -1
    if subtype == "sdh":
        axis = _unit((side * u(0.7, 1.0), u(-0.5, 0.4), u(0.15, 0.55)))
        half, thickness, blood = u(0.75, 1.0), u(4.0, 9.0), u(55.0, 75.0)
    elif subtype == "edh":
        axis = _unit((side * u(0.8, 1.0), u(-0.5, 0.3), u(0.0, 0.35)))
        half, thickness, blood = u(0.32, 0.45), u(13.0, 22.0), u(60.0, 78.0)
    else:
        raise ValueError(f"not an extra-axial subtype: {subtype!r}")
    return Extraaxial(
        subtype=subtype,
        axis=(float(axis[0]), float(axis[1]), float(axis[2])),
        half_angle=half,
        thickness=thickness,
        side=side,
        blood_hu=blood,
    )


def sample_hemorrhage(
    rng: np.random.Generator, head: HeadModel, subtype: str, location: str = ""
) -> Hemorrhage:
    """One haemorrhage of ``subtype`` (``location`` for ``iph``)."""
    if subtype == "iph":
        return sample_iph(rng, head, location)
    if subtype == "ivh":
        return sample_ivh(rng, head)
    if subtype == "sah":
        return sample_sah(rng, head)
    if subtype in ("sdh", "edh"):
        return sample_extraaxial(rng, subtype)
    raise ValueError(f"subtype must be one of {SUBTYPES}, got {subtype!r}")
