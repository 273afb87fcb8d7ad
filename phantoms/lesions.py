"""Haemorrhage phenotypes of the reference paper: CVST-related ICH versus spontaneous ICH.

What separates the classes on non-contrast CT (seeds-digest section 1) is encoded as
overlapping distributions rather than rules, so a small 3D CNN can learn the task but not
perfectly:

* ``cvst_ich``: juxtacortical lobar haematoma near the convexity (parasagittal, or
  temporal next to the transverse sinus), irregular margin built as a lumpy union of
  perturbed blobs, sometimes several "flame-shaped" patches or bilateral; large
  perihaematomal (venous) oedema; often a hyperdense sinus (dense delta / dense
  triangle) or a thrombosed cortical vein (cord sign); sometimes convexity SAH.
* ``sich``: single round/ovoid haematoma with a smooth margin, lobar or deep (basal
  ganglia / thalamus), thin oedema rim; rarely a mildly dense sinus (high haematocrit).

Tails of each distribution reach into the other (small oedema in CVST, moderate oedema or
a lumpy margin in sICH, hyperdense-sinus mimics), which keeps the task non-trivial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .anatomy import TISSUE, Array, HeadModel, paint, ramp

# A thrombosed cortical vein: (start direction, end direction, radius mm, HU).
CorticalVein = tuple[Array, Array, float, float]


@dataclass(frozen=True)
class Blob:
    """A perturbed ellipsoid: radius 1 + sum(amp * sin(freq . q_hat + phase)) in its own frame."""

    center: np.ndarray  # head frame, mm
    axes: np.ndarray  # 3x3, columns = blob axes in the head frame
    semi: np.ndarray  # semi-axes, mm
    amp: np.ndarray  # (K,)
    freq: np.ndarray  # (K, 3)
    phase: np.ndarray  # (K,)

    @property
    def reach(self) -> float:
        return float(self.semi.max() * (1.0 + self.amp.sum()))

    def depth(self, xl: Array, yl: Array, zl: float) -> Array:
        """Approximate signed depth (mm, > 0 inside) below the blob surface."""
        # python floats keep the float32 slice arrays in float32 (NEP 50 weak scalars)
        cx, cy, cz = self.center.tolist()
        ax = (self.axes / self.semi[None, :]).tolist()
        dx, dy, dz = xl - cx, yl - cy, zl - cz
        q0 = dx * ax[0][0] + dy * ax[1][0] + dz * ax[2][0]
        q1 = dx * ax[0][1] + dy * ax[1][1] + dz * ax[2][1]
        q2 = dx * ax[0][2] + dy * ax[1][2] + dz * ax[2][2]
        r = np.maximum(np.sqrt(q0 * q0 + q1 * q1 + q2 * q2), 1e-6)
        inv = 1.0 / r
        bound = np.ones_like(r)
        for a, (f0, f1, f2), ph in zip(self.amp.tolist(), self.freq.tolist(), self.phase.tolist()):
            bound += a * np.sin((q0 * f0 + q1 * f1 + q2 * f2) * inv + ph)
        out: Array = (bound - r) * float(self.semi.mean())
        return out


@dataclass(frozen=True)
class Patch:
    """One haemorrhagic focus: union of blobs, confined to one hemisphere (side +1 = left)."""

    blobs: tuple[Blob, ...]
    side: int

    @property
    def center(self) -> Array:
        out: Array = np.mean([b.center for b in self.blobs], axis=0)
        return out

    def depth(self, xl: Array, yl: Array, zl: float) -> Array:
        d = self.blobs[0].depth(xl, yl, zl)
        for b in self.blobs[1:]:
            d = np.maximum(d, b.depth(xl, yl, zl))
        if self.side:
            d = np.minimum(d, self.side * xl - 0.8)
        return d


@dataclass(frozen=True)
class Lesion:
    label: str
    site: str  # "parasagittal" | "temporal" | "lobar" (lobar); "putamen" | "thalamus" (deep)
    patches: tuple[Patch, ...]
    blood_hu: float
    texture: tuple[float, np.ndarray, np.ndarray]  # amplitude, wave vectors (2,3), phases (2,)
    edema_ring: float  # mm
    edema_mod: tuple[float, np.ndarray, float]  # amplitude, direction wave (3,), phase
    edema_hu: float
    sah: bool
    sah_radius: float
    sah_hu: float
    sinus_hu: dict[str, float]  # venous sinus segment -> HU (only the hyperdense ones)
    cortical_vein: CorticalVein | None  # (u_start, u_end, radius, hu)
    midline_shift: float  # mm, applied to the ventricles (sign = direction)

    @property
    def location(self) -> str:
        return "deep" if self.site in ("putamen", "thalamus") else "lobar"

    @property
    def reach(self) -> float:
        """Radius (mm) around ``center`` that bounds haematoma, oedema and SAH."""
        c = self.center
        r = max(np.linalg.norm(b.center - c) + b.reach for p in self.patches for b in p.blobs)
        r += self.edema_ring * 1.5 + 6.0 + (self.sah_radius if self.sah else 0.0)
        if self.cortical_vein is not None:  # the vein runs over the convexity to the SSS
            u1, u2 = self.cortical_vein[:2]
            arc = float(np.arccos(np.clip(np.dot(u1, u2), -1.0, 1.0)))
            r = max(r, arc * (np.linalg.norm(c) + 30.0) + 15.0)
        return float(r)

    @property
    def center(self) -> Array:
        out: Array = np.mean([p.center for p in self.patches], axis=0)
        return out

    def render(
        self,
        hu: Array,
        lab: Array,
        xl: Array,
        yl: Array,
        zl: float,
        fields: dict[str, Array],
        width: float,
    ) -> Array:
        """Paint oedema, SAH, haematoma and thrombosed vein into a slice window (in place).

        Returns the haematoma fraction (the ground-truth mask is ``>= 0.5``).
        """
        d = self.patches[0].depth(xl, yl, zl)
        for p in self.patches[1:]:
            d = np.maximum(d, p.depth(xl, yl, zl))

        # oedema: a ring around the clot, finger-like (modulated), parenchyma only
        amp, vec, ph = self.edema_mod
        v0, v1, v2 = vec.tolist()
        mod = 1.0 + amp * np.sin(xl * v0 + yl * v1 + (zl * v2 + ph))
        edema = ramp(d + self.edema_ring * mod, 3.0) * fields["parenchyma"]
        paint(hu, lab, edema, self.edema_hu, TISSUE["edema"])

        if self.sah:
            c0, c1, c2 = self.center.tolist()
            dist = np.sqrt((xl - c0) ** 2 + (yl - c1) ** 2 + (zl - c2) ** 2)
            near = ramp(self.sah_radius - dist, 6.0) * ramp(6.0 - fields["d_brain"], 2.0)
            paint(hu, lab, fields["sulcal"] * near, self.sah_hu, TISSUE["sah"])

        a_h = ramp(d, width) * fields["cavity"]
        t_amp, t_vec, t_ph = self.texture
        (a0, a1, a2), (b0, b1, b2) = t_vec.tolist()
        p0, p1 = t_ph.tolist()
        blood = self.blood_hu + t_amp * (
            np.sin(xl * a0 + yl * a1 + (zl * a2 + p0)) * np.sin(xl * b0 + yl * b1 + (zl * b2 + p1))
        )
        paint(hu, lab, a_h, blood, TISSUE["hematoma"])

        if self.cortical_vein is not None:
            u1, u2, radius, vein_hu = self.cortical_vein
            cos_arc = float(np.dot(u1, u2)) - 0.02
            n = np.cross(u1, u2)
            n = (n / np.linalg.norm(n)).tolist()
            u1, u2 = u1.tolist(), u2.tolist()
            ux, uy, uz = fields["ux"], fields["uy"], fields["uz"]
            off = np.abs(ux * n[0] + uy * n[1] + uz * n[2]) * fields["rho"]
            between = ramp((ux * u1[0] + uy * u1[1] + uz * u1[2] - cos_arc) * 200.0, 1.0)
            between *= ramp((ux * u2[0] + uy * u2[1] + uz * u2[2] - cos_arc) * 200.0, 1.0)
            shell = ramp(fields["d_brain"] + 1.5, width) * ramp(2.5 - fields["d_brain"], width)
            vein = ramp(radius - off, width) * between * shell * (1.0 - a_h)
            paint(hu, lab, vein, vein_hu, TISSUE["vessel"])
        return a_h


def _unit(v: npt.ArrayLike) -> Array:
    a = np.asarray(v, dtype=float)
    out: Array = a / np.linalg.norm(a)
    return out


def _frame(axis: Array, rng: np.random.Generator) -> Array:
    """Orthonormal 3x3 whose last column is ``axis`` and with a random twist."""
    z = _unit(axis)
    t = rng.normal(size=3)
    x = _unit(t - np.dot(t, z) * z)
    return np.stack([x, np.cross(z, x), z], axis=1)


def _blob(
    rng: np.random.Generator,
    center: npt.ArrayLike,
    axis: Array,
    semi: npt.ArrayLike,
    amp_range: tuple[float, float],
    freq_range: tuple[float, float],
    k: int = 3,
) -> Blob:
    return Blob(
        center=np.asarray(center, dtype=float),
        axes=_frame(axis, rng),
        semi=np.asarray(semi, dtype=float),
        amp=rng.uniform(*amp_range, size=k) / k,
        freq=rng.normal(size=(k, 3)) * rng.uniform(*freq_range),
        phase=rng.uniform(0, 2 * np.pi, size=k),
    )


def _radius_ml(volume_ml: float) -> float:
    return float((3.0 * volume_ml * 1000.0 / (4.0 * np.pi)) ** (1.0 / 3.0))


def _surface_point(head: HeadModel, u: Array, depth: float) -> Array:
    out: Array = u * (head.brain_radius(u) - depth)
    return out


def _cvst_patch(
    rng: np.random.Generator, head: HeadModel, centre: Array, u: Array, radius: float, side: int
) -> Patch:
    """A lumpy focus; often "flame-shaped" (elongated along ``u``, toward the cortex).

    A minority is a single, mildly perturbed blob, overlapping the sICH phenotype.
    """
    if rng.random() < 0.2:
        semi: npt.ArrayLike = radius * rng.uniform(0.85, 1.15, size=3)
        blob = _blob(rng, centre, u, semi, (0.1, 0.3), (1.5, 3.0))
        return Patch((blob,), side)
    flame = rng.random() < 0.5
    blobs = []
    for i in range(int(rng.integers(2, 5))):
        r = radius * rng.uniform(0.55, 0.85)
        offset = rng.normal(size=3) * radius * 0.45 if i else np.zeros(3)
        elong = rng.uniform(1.2, 1.8) if flame else rng.uniform(0.85, 1.2)
        semi = (r / elong**0.5, r / elong**0.5 * rng.uniform(0.8, 1.1), r * elong)
        axis = u + rng.normal(size=3) * 0.25
        blobs.append(_blob(rng, centre + offset, axis, semi, (0.3, 0.6), (1.5, 3.0)))
    return Patch(tuple(blobs), side)


def _sich_patch(rng: np.random.Generator, centre: Array, radius: float, side: int) -> Patch:
    """A single smooth ovoid; a minority is lobulated (overlap with CVST)."""
    ratio = rng.uniform(1.0, 1.5)
    semi = np.array([radius / ratio**0.5, radius * rng.uniform(0.85, 1.1), radius * ratio**0.5])
    semi *= radius / np.prod(semi) ** (1.0 / 3.0)
    amp = (0.25, 0.5) if rng.random() < 0.25 else (0.03, 0.12)
    blob = _blob(rng, centre, rng.normal(size=3), semi, amp, (1.5, 3.0))
    return Patch((blob,), side)


def _deep_centre(rng: np.random.Generator, head: HeadModel, side: int, thalamus: bool) -> Array:
    u = rng.uniform
    sx, sy, sz = head.a / 73.0, head.b / 91.0, head.c / 79.0
    if thalamus:
        return np.array([side * u(8.0, 14.0) * sx, u(6.0, 14.0) * sy, u(-2.0, 6.0) * sz])
    # putamen / external capsule
    return np.array([side * u(18.0, 27.0) * sx, u(-10.0, 6.0) * sy, u(-2.0, 8.0) * sz])


def _cvst(rng: np.random.Generator, head: HeadModel, side: int) -> dict[str, Any]:
    u = rng.uniform
    volume = float(np.clip(rng.lognormal(np.log(16.0), 0.6), 3.0, 60.0))
    r_loc = rng.random()
    site = "parasagittal" if r_loc < 0.55 else "temporal" if r_loc < 0.92 else "thalamus"
    n_patches = int(rng.choice([1, 2, 3], p=[0.6, 0.28, 0.12]))
    radius = _radius_ml(volume / n_patches)
    patches: list[Patch] = []
    for i in range(n_patches):
        s = -side if i == 1 and rng.random() < 0.5 and site != "temporal" else side
        if site == "thalamus":  # deep venous (internal cerebral vein) thrombosis: thalami
            centre = _deep_centre(rng, head, s, thalamus=True)
            patches.append(_cvst_patch(rng, head, centre, _unit(centre), radius, s))
            continue
        if site == "parasagittal":
            d = _unit((s * u(0.2, 0.5), u(-0.5, 0.5), u(0.55, 0.9)))
        else:
            d = _unit((s * u(0.85, 1.0), u(-0.15, 0.55), u(-0.05, 0.25)))
        if i and s == side:  # satellite focus next to the first one
            d = _unit(_unit(patches[0].center) * 3 + d)
        depth = radius * (u(0.45, 1.0) if rng.random() < 0.8 else u(1.0, 1.6))
        patches.append(_cvst_patch(rng, head, _surface_point(head, d, depth), d, radius, s))
    ring = radius * (u(0.5, 1.2) if rng.random() < 0.65 else u(0.15, 0.45))
    sinus_hu: dict[str, float] = {}
    if rng.random() < 0.45:  # dense delta / dense triangle sign
        seg = {"parasagittal": "sss", "thalamus": "sss"}.get(site)
        seg = seg or ("transverse_left" if side > 0 else "transverse_right")
        sinus_hu[seg] = u(66.0, 90.0)
    cortical_vein: CorticalVein | None = None
    if site != "thalamus" and rng.random() < 0.25:  # cord sign: thrombosed cortical vein
        u1 = _unit(patches[0].center)
        u2 = _unit((0.08 * side, u1[1] * 0.8, 1.0))
        cortical_vein = (u1, u2, u(1.2, 2.0), u(66.0, 88.0))
    return {
        "volume": volume,
        "radius": radius,
        "site": site,
        "patches": patches,
        "ring": ring,
        "edema_hu": u(10.0, 18.0),
        "blood": u(60.0, 74.0),
        "texture_amp": u(4.0, 9.0),
        "sah": rng.random() < 0.3,
        "sinus_hu": sinus_hu,
        "cortical_vein": cortical_vein,
    }


def _sich(rng: np.random.Generator, head: HeadModel, side: int) -> dict[str, Any]:
    u = rng.uniform
    volume = float(np.clip(rng.lognormal(np.log(20.0), 0.65), 3.0, 80.0))
    radius = _radius_ml(volume)
    if rng.random() < 0.3:
        site = "thalamus" if rng.random() < 0.4 else "putamen"
        centre = _deep_centre(rng, head, side, thalamus=site == "thalamus")
    else:
        site = "lobar"
        d = _unit((side * u(0.35, 1.0), u(-0.8, 0.8), u(0.0, 0.8)))
        juxtacortical = rng.random() < 0.3
        depth = radius * u(0.6, 1.0) if juxtacortical else radius * u(0.9, 1.6) + u(2.0, 10.0)
        centre = _surface_point(head, d, depth)
        centre[0] = side * max(side * centre[0], radius + 3.0)
    sinus_hu: dict[str, float] = {}
    if rng.random() < 0.08:  # high haematocrit: mildly dense sinuses, a CVST mimic
        sinus_hu["sss"] = u(58.0, 70.0)
    return {
        "volume": volume,
        "radius": radius,
        "site": site,
        "patches": [_sich_patch(rng, centre, radius, side)],
        "ring": radius * (u(0.08, 0.35) if rng.random() < 0.7 else u(0.35, 0.8)),
        "edema_hu": u(13.0, 22.0),
        "blood": u(62.0, 76.0),
        "texture_amp": u(1.0, 3.0),
        "sah": site == "lobar" and rng.random() < 0.08,
        "sinus_hu": sinus_hu,
        "cortical_vein": None,
    }


def sample_lesion(rng: np.random.Generator, label: str, head: HeadModel) -> Lesion:
    """Draw the haemorrhage and its associated signs for one case."""
    u = rng.uniform
    side = 1 if rng.random() < 0.5 else -1
    if label == "cvst_ich":
        p = _cvst(rng, head, side)
    elif label == "sich":
        p = _sich(rng, head, side)
    else:
        raise ValueError(f"unknown label {label!r}")
    volume, radius, ring, patches = p["volume"], p["radius"], p["ring"], p["patches"]
    lesion_vol = volume * (1.0 + ring / radius) ** 3
    shift = 0.0
    if len({p.side for p in patches}) == 1:
        shift = -side * float(min(10.0, 0.06 * lesion_vol))
    return Lesion(
        label=label,
        site=p["site"],
        patches=tuple(patches),
        blood_hu=p["blood"],
        texture=(p["texture_amp"], rng.normal(size=(2, 3)) * 0.35, rng.uniform(0, 2 * np.pi, 2)),
        edema_ring=float(ring),
        edema_mod=(u(0.2, 0.45), rng.normal(size=3) * 0.3, u(0, 2 * np.pi)),
        edema_hu=p["edema_hu"],
        sah=bool(p["sah"]),
        sah_radius=radius + u(10.0, 25.0),
        sah_hu=u(50.0, 65.0),
        sinus_hu=p["sinus_hu"],
        cortical_vein=p["cortical_vein"],
        midline_shift=shift,
    )
