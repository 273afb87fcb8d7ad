"""Head anatomy: a rounded, layered head evaluated slice by slice.

The head is described in a head-centred frame (mm; x = patient left, y = posterior,
z = superior, as in DICOM LPS) by radial surfaces: for a voxel at distance ``rho`` from
the centre along the unit direction ``u``, each layer (scalp, skull, subarachnoid CSF,
cortex, white matter) is bounded by a radius that depends only on ``u``.  Depths below
those surfaces are then turned into soft tissue fractions (a linear ramp about one pixel
wide), which gives partial-volume edges without a blur pass.  The brain is cut below by a
sloping "skull base" floor, so the lowest slices show bone, air cells and posterior fossa
as a real head CT starting at the skull base does.

Everything is analytic, so a slice can be rendered on its own (modest memory for thin
series) and the same patient renders identically on any grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
"""A slice window of float values (or a piece of one that broadcasts against it)."""

# Tissue codes of the label map kept next to the HU volume (tests and debugging).
TISSUE = {
    "air": 0,
    "scalp": 1,
    "fat": 2,
    "bone": 3,
    "csf": 4,
    "grey": 5,
    "white": 6,
    "edema": 7,
    "hematoma": 8,
    "vessel": 9,
    "calcification": 10,
    "sah": 11,
}

AIR_HU = -1000.0


@overload
def ramp(depth: float, width: float) -> float: ...
@overload
def ramp(depth: Array, width: float) -> Array: ...
def ramp(depth: float | Array, width: float) -> float | Array:
    """Fraction inside a surface from the signed depth (mm, > 0 inside)."""
    t = depth * (1.0 / width) + 0.5
    if not isinstance(t, np.ndarray):
        return min(max(float(t), 0.0), 1.0)
    out: Array = np.minimum(np.maximum(t, 0.0, out=t), 1.0, out=t)
    return out


def paint(hu: Array, lab: Array, alpha: Array, value: float | Array, tissue: int) -> None:
    """Blend ``value`` into ``hu`` with weight ``alpha`` (in place) and relabel."""
    hu += alpha * (value - hu)
    lab[alpha >= 0.5] = tissue


@dataclass(frozen=True)
class Ellipsoid:
    """An axis-aligned ellipsoid in the head frame (small structures)."""

    center: tuple[float, float, float]
    semi: tuple[float, float, float]

    def alpha(self, xl: Array, yl: Array, zl: float, width: float, dx: float = 0.0) -> Array | None:
        cx, cy, cz = self.center
        sx, sy, sz = self.semi
        if abs(zl - cz) > sz + width:
            return None
        r: Array = np.sqrt(
            ((xl - cx - dx) / sx) ** 2 + ((yl - cy) / sy) ** 2 + ((zl - cz) / sz) ** 2
        )
        return ramp((1.0 - r) * min(sx, sy, sz), width)


@dataclass(frozen=True)
class HeadModel:
    """Per-patient anatomy parameters; see ``sample_head`` for their ranges."""

    center: tuple[float, float, float]  # patient mm
    yaw: float  # rad, rotation about z
    a: float  # outer scalp semi-axes (mm): left-right
    b: float  # antero-posterior
    c: float  # superior half
    c_low: float  # inferior half (the head continues into face and neck)
    shape: tuple[float, float, float]  # low-order shape terms (egg, skew, slope)
    scalp_t: float
    temporalis_t: float
    fat_t: float
    skull_t: float
    csf_rim: float
    grey_t: float
    atrophy: float  # 0 (young) .. 1 (marked atrophy)
    sulcal_depth: float
    sulcal_halfwidth: float
    sulcal_waves: tuple[tuple[float, ...], ...]  # (vx, vy, vz, freq, phase, bend)
    fissure_halfwidth: float
    floor: tuple[float, float, float, float]  # z0, anterior rise, posterior drop, lateral drop
    base_t: float
    ventricles: tuple[Ellipsoid, ...]
    third_ventricle: Ellipsoid
    deep_grey: tuple[Ellipsoid, ...]
    calcifications: tuple[Ellipsoid, ...]
    air_cells: tuple[Ellipsoid, ...]
    sinus_depth: float
    sinus_halfwidth: float
    hu: dict[str, float] = field(default_factory=dict)
    noise_sd: float = 5.0

    # -- frames -------------------------------------------------------------------------
    def to_local(self, X: Array, Y: Array, z: float) -> tuple[Array, Array, float]:
        """Patient (x, y arrays, z scalar) -> head frame."""
        cth, sth = math.cos(self.yaw), math.sin(self.yaw)
        dx, dy = X - self.center[0], Y - self.center[1]
        return cth * dx + sth * dy, -sth * dx + cth * dy, z - self.center[2]

    def to_patient(self, p: npt.ArrayLike) -> Array:
        """Head frame point(s) (..., 3) -> patient coordinates."""
        q = np.asarray(p, dtype=float)
        cth, sth = np.cos(self.yaw), np.sin(self.yaw)
        x = cth * q[..., 0] - sth * q[..., 1] + self.center[0]
        y = sth * q[..., 0] + cth * q[..., 1] + self.center[1]
        return np.stack([x, y, q[..., 2] + self.center[2]], axis=-1)

    # -- surfaces -----------------------------------------------------------------------
    def radii(self, ux: Array, uy: Array, uz: Array) -> tuple[Array, Array, Array, Array, Array]:
        """Radii (mm) of the outer scalp, outer table, inner table and brain along ``u``."""
        c_eff = np.where(uz > 0, np.float32(self.c), np.float32(self.c_low))
        r_ell = 1.0 / np.sqrt((ux / self.a) ** 2 + (uy / self.b) ** 2 + (uz / c_eff) ** 2)
        egg, skew, slope = self.shape
        r_head = r_ell * (1.0 + egg * uy + skew * ux * uy + slope * uy * uz)
        scalp = self.scalp_t + self.temporalis_t * ux * ux * np.clip(0.3 - uz, 0.0, 1.0)
        skull = self.skull_t * (1.0 + 0.2 * uy * uy + 0.1 * uz - 0.35 * ux * ux * (1 - uz * uz))
        skull = np.maximum(skull, 2.5)
        r_outer = r_head - scalp
        r_inner = r_outer - skull
        return r_head, r_outer, r_inner, r_inner - self.csf_rim, skull

    def brain_radius(self, u: npt.ArrayLike) -> float:
        """Radius of the brain surface along one direction (lesion placement)."""
        v = np.asarray(u, dtype=float)
        v = v / np.linalg.norm(v)
        return float(self.radii(v[0], v[1], v[2])[3])

    def floor_z(self, xl: Array, yl: Array) -> Array:
        """Height of the cranial floor (skull base) in the head frame."""
        z0, rise, drop, lat = self.floor
        t = yl / self.b
        # the posterior fossa deepens quickly behind the petrous ridges
        post = np.sqrt(np.clip(t + 0.05, 0, 1))
        return z0 + rise * np.clip(-t, 0, 1) - drop * post - lat * (xl / self.a) ** 2

    def transverse_z(self) -> float:
        z0, _, drop, _ = self.floor
        return z0 - 0.3 * drop

    def extent(self, zl: float) -> tuple[float, float]:
        """Half-extent (x, y) in patient mm of the head cross-section at height ``zl``."""
        c_eff = self.c if zl > 0 else self.c_low
        k = 1.0 + sum(abs(s) for s in self.shape)
        if abs(zl) >= c_eff * k:
            return 0.0, 0.0
        f = np.sqrt(max(0.0, 1.0 - (zl / (c_eff * k)) ** 2)) * k
        cth, sth = abs(np.cos(self.yaw)), abs(np.sin(self.yaw))
        ex = np.hypot(self.a * cth, self.b * sth) * f + 3.0
        ey = np.hypot(self.a * sth, self.b * cth) * f + 3.0
        return float(ex), float(ey)

    # -- rendering ----------------------------------------------------------------------
    def render(
        self,
        xl: Array,
        yl: Array,
        zl: float,
        width: float,
        *,
        shift: float = 0.0,
        sinus_hu: dict[str, float] | None = None,
    ) -> tuple[Array, Array, dict[str, Array]]:
        """HU, tissue labels and helper fractions for one slice window.

        ``shift`` moves the deep midline structures (ventricles) to the right/left
        (mass effect).  ``sinus_hu`` maps "sss", "transverse_left", "transverse_right"
        to the HU of that venous sinus (a thrombosed sinus is hyperdense).
        """
        hu_t = self.hu
        shape = np.broadcast_shapes(np.shape(xl), np.shape(yl))
        hu = np.full(shape, AIR_HU, dtype=np.float32)
        lab = np.zeros(shape, dtype=np.uint8)
        rho = np.maximum(np.sqrt(xl * xl + yl * yl + zl * zl), 1e-3).astype(np.float32)
        ux, uy, uz = xl / rho, yl / rho, zl / rho
        r_head, r_outer, r_inner, r_brain, skull = self.radii(ux, uy, uz)
        d_head = r_head - rho
        d_outer = r_outer - rho
        d_inner = r_inner - rho
        d_brain = r_brain - rho
        zf = self.floor_z(xl, yl)
        above = zl - zf

        # scalp with a thin subcutaneous fat layer
        paint(hu, lab, ramp(d_head, width), hu_t["scalp"], TISSUE["scalp"])
        fat = ramp(d_head - 1.5, width) * ramp(1.5 + self.fat_t - d_head, width)
        paint(hu, lab, fat, hu_t["fat"], TISSUE["fat"])

        # skull: dense tables, lower-density diploe in the middle of thick bone
        q = np.clip(d_outer / skull, 0.0, 1.0)
        diploe = np.exp(-(((q - 0.5) / 0.2) ** 2)) * np.clip((skull - 3.0) / 3.0, 0.0, 1.0)
        bone_hu = hu_t["cortical"] - (hu_t["cortical"] - hu_t["diploe"]) * diploe
        inside_outer = ramp(d_outer, width)
        paint(hu, lab, inside_outer, bone_hu, TISSUE["bone"])

        # intracranial cavity (CSF), brain (cortex), white matter
        cavity = ramp(d_inner, width) * ramp(above, width)
        paint(hu, lab, cavity, hu_t["csf"], TISSUE["csf"])
        brain = ramp(d_brain, width) * ramp(above - 1.0, width)
        paint(hu, lab, brain, hu_t["grey"], TISSUE["grey"])
        paint(hu, lab, ramp(d_brain - self.grey_t, width) * brain, hu_t["white"], TISSUE["white"])
        for e in self.deep_grey:
            a = e.alpha(xl, yl, zl, width * 2.0)
            if a is not None:
                paint(hu, lab, a * brain, hu_t["deep_grey"], TISSUE["grey"])

        # sulci: zero set of a sum of plane waves on the sphere, lined by cortex
        wave = np.zeros(shape, dtype=np.float32)
        fmean = 0.0
        for vx, vy, vz, f, ph, bend in self.sulcal_waves:
            # the depth term bends the sulci so they are not straight radial clefts
            wave += np.sin(f * (ux * vx + uy * vy + uz * vz) + bend * d_brain + ph)
            fmean += f / len(self.sulcal_waves)
        dist = np.abs(wave) * rho * (1.0 / (0.7 * fmean))  # ~ mm from the sulcal midline
        in_depth = ramp(self.sulcal_depth - d_brain, 2.0)
        lining = ramp(2.2 * self.sulcal_halfwidth + self.grey_t - dist, width)
        lining *= ramp(self.sulcal_depth + self.grey_t - d_brain, 2.0) * brain
        paint(hu, lab, lining, hu_t["grey"], TISSUE["grey"])
        sulcal = ramp(self.sulcal_halfwidth - dist, width) * in_depth
        # interhemispheric fissure above the corpus callosum and in front/behind it
        fiss_region = np.maximum(
            ramp(zl - 0.28 * self.c, 2.0), ramp(np.abs(yl) - 0.45 * self.b, 2.0)
        )
        fissure = ramp(self.fissure_halfwidth - np.abs(xl), width) * fiss_region
        sulcal = np.maximum(sulcal, fissure) * brain
        paint(hu, lab, sulcal, hu_t["csf"], TISSUE["csf"])

        vent = np.zeros(shape, dtype=np.float32)
        for e in (*self.ventricles, self.third_ventricle):
            a = e.alpha(xl, yl, zl, width, dx=shift)
            if a is not None:
                np.maximum(vent, a, out=vent)
        vent *= brain
        paint(hu, lab, vent, hu_t["csf"], TISSUE["csf"])
        for e in self.calcifications:
            a = e.alpha(xl, yl, zl, width, dx=shift)
            if a is not None:
                paint(hu, lab, a * brain, hu_t["calcification"], TISSUE["calcification"])

        # falx: a thin dense sheet in the middle of the fissure
        falx = ramp(0.45 * self.fissure_halfwidth - np.abs(xl), width) * fiss_region * cavity
        paint(hu, lab, falx, hu_t["falx"], TISSUE["vessel"])

        # skull base: bone below the cranial floor, then face/neck soft tissue and air cells
        below = inside_outer * ramp(-above, width)
        paint(hu, lab, below, hu_t["base_bone"], TISSUE["bone"])
        deep_below = inside_outer * ramp(-above - self.base_t, width)
        paint(hu, lab, deep_below, hu_t["scalp"], TISSUE["scalp"])
        for e in self.air_cells:
            a = e.alpha(xl, yl, zl, width)
            if a is not None:
                a *= inside_outer * ramp(-above - 2.0, width)
                paint(hu, lab, a, hu_t["air_cells"], TISSUE["air"])

        # dural venous sinuses along the inner table
        sinus = np.zeros(shape, dtype=np.float32)
        if sinus_hu is None:
            sinus_hu = {}
        base_sinus = hu_t["sinus"]
        band = (
            ramp(d_inner + 0.5, width)
            * ramp(self.sinus_depth - d_inner, width)
            * ramp(above, width)
        )
        taper = np.clip(1.0 - d_inner / self.sinus_depth, 0.0, 1.0)
        z_ts = self.transverse_z()
        sss = ramp(self.sinus_halfwidth * taper - np.abs(xl), width) * band
        sss *= ramp(zl - z_ts + 2.0, width) * np.maximum(
            ramp(yl, 4.0), ramp(zl - 0.2 * self.c, 4.0)
        )
        sinus_val = np.full(shape, base_sinus, dtype=np.float32)
        if "sss" in sinus_hu:
            sinus_val[:] = sinus_hu["sss"]
        np.maximum(sinus, sss, out=sinus)
        if abs(zl - z_ts) < 6.0:
            ts = ramp(3.0 - np.abs(zl - z_ts), width) * ramp(yl - 0.25 * self.b, 4.0)
            ts *= ramp(d_inner + 0.5, width) * ramp(self.sinus_depth - d_inner, width)
            for side, key in ((1.0, "transverse_left"), (-1.0, "transverse_right")):
                if key in sinus_hu:
                    sel = (side * xl > 0) & (ts > 0)
                    sinus_val[sel] = sinus_hu[key]
            np.maximum(sinus, ts, out=sinus)
        paint(hu, lab, sinus, sinus_val, TISSUE["vessel"])

        parenchyma = brain * (1.0 - sulcal) * (1.0 - vent)
        fields = {
            "rho": rho,
            "ux": ux,
            "uy": uy,
            "uz": uz,
            "d_brain": d_brain,
            "cavity": cavity * (1.0 - sinus),
            "parenchyma": parenchyma,
            "sulcal": sulcal,
        }
        return hu, lab, fields


def sample_head(rng: np.random.Generator, age: float, z_center: float) -> HeadModel:
    """Draw one patient's head.  Age drives atrophy (ventricles, sulci, CSF rim)."""
    u = rng.uniform
    atrophy = float(np.clip((age - 30.0) / 55.0 + rng.normal(0.0, 0.12), 0.0, 1.0))
    a = u(68.0, 78.0)
    b = float(np.clip(a * u(1.14, 1.32), 84.0, 96.0))
    c = u(72.0, 86.0)
    # scale deep structures with the head so they stay inside the brain
    sx, sy, sz = a / 73.0, b / 91.0, c / 79.0
    vs = 0.75 + 1.1 * atrophy + rng.normal(0.0, 0.08)
    vent_w = 2.2 + 2.6 * vs
    # lateral ventricles: body, atrium (trigone) and frontal horn on each side
    parts = (
        ((3.0 + 0.55 * vent_w, -6.0, 12.0), (vent_w, 24.0, 6.5 * (0.8 + 0.25 * vs))),
        ((13.0 + 0.6 * vent_w, 24.0, 5.0), (1.1 * vent_w, 11.0, 8.0)),
        ((6.0 + 0.5 * vent_w, -26.0, 8.0), (0.9 * vent_w, 8.0, 6.0)),
    )
    ventricles = [
        Ellipsoid((side * x * sx, y * sy, z * sz), (wx, wy * sy, wz * sz))
        for side in (1.0, -1.0)
        for (x, y, z), (wx, wy, wz) in parts
    ]
    third = Ellipsoid((0.0, 2.0 * sy, -3.0 * sz), (0.6 + 0.9 * vs, 11.0 * sy, 7.0 * sz))
    deep_grey = tuple(
        Ellipsoid((side * x * sx, y * sy, z * sz), (ax * sx, ay * sy, az * sz))
        for side in (1.0, -1.0)
        for (x, y, z, ax, ay, az) in (
            (23.0, -4.0, 1.0, 6.5, 14.0, 9.0),
            (10.0, 10.0, 2.0, 7.0, 10.0, 8.0),
        )
    )
    calcs = []
    if rng.random() < 0.55:  # pineal gland
        calcs.append(Ellipsoid((0.0, 15.0 * sy, 0.0), (u(1.5, 3.0),) * 3))
    if rng.random() < 0.45:  # choroid plexus in the atria
        r = u(1.5, 2.8)
        for side in (1.0, -1.0):
            calcs.append(
                Ellipsoid((side * (13.0 + vent_w * 0.6) * sx, 25.0 * sy, 6.0 * sz), (r, r, r))
            )
    floor = (-0.25 * c, 0.12 * c, 0.6 * c, 0.25 * c)
    air_cells = (
        Ellipsoid((0.0, -0.62 * b, floor[0] - 8.0), (u(10.0, 16.0), u(9.0, 14.0), 9.0)),
        Ellipsoid((0.0, -0.2 * b, floor[0] - 12.0), (u(8.0, 12.0), u(6.0, 10.0), 8.0)),
        Ellipsoid((0.72 * a, 0.3 * b, floor[0] - 10.0), (7.0, 8.0, 8.0)),
        Ellipsoid((-0.72 * a, 0.3 * b, floor[0] - 10.0), (7.0, 8.0, 8.0)),
        Ellipsoid((0.33 * a, -0.62 * b, floor[0] - 28.0), (11.0, 13.0, 14.0)),
        Ellipsoid((-0.33 * a, -0.62 * b, floor[0] - 28.0), (11.0, 13.0, 14.0)),
    )
    waves = []
    for _ in range(4):
        v = rng.normal(size=3)
        v /= np.linalg.norm(v)
        bend = u(0.08, 0.25) * (1 if rng.random() < 0.5 else -1)
        waves.append(
            (float(v[0]), float(v[1]), float(v[2]), u(14.0, 22.0), u(0.0, 2 * np.pi), bend)
        )
    wm = u(25.5, 30.5)
    gm = wm + u(5.0, 8.5)
    hu = {
        "scalp": u(25.0, 55.0),
        "fat": u(-100.0, -60.0),
        "cortical": u(1150.0, 1500.0),
        "diploe": u(650.0, 900.0),
        "base_bone": u(800.0, 1100.0),
        "air_cells": u(-950.0, -800.0),
        "csf": u(3.0, 11.0),
        "white": wm,
        "grey": gm,
        "deep_grey": gm - u(0.0, 2.0),
        "calcification": u(120.0, 350.0),
        "falx": u(45.0, 65.0),
        "sinus": u(38.0, 50.0),
    }
    return HeadModel(
        center=(u(-4.0, 4.0), u(-4.0, 4.0), z_center),
        yaw=float(np.deg2rad(u(-7.0, 7.0))),
        a=a,
        b=b,
        c=c,
        c_low=1.3 * c,
        shape=(u(0.0, 0.04), u(-0.03, 0.03), u(-0.03, 0.03)),
        scalp_t=u(4.0, 6.5),
        temporalis_t=u(3.0, 7.0),
        fat_t=u(0.5, 2.2),
        skull_t=u(5.0, 8.0),
        csf_rim=1.0 + 2.8 * atrophy + u(0.0, 0.8),
        grey_t=u(2.5, 3.5),
        atrophy=atrophy,
        sulcal_depth=7.0 + 8.0 * atrophy + u(0.0, 2.0),
        sulcal_halfwidth=0.6 + 1.6 * atrophy + u(0.0, 0.3),
        sulcal_waves=tuple(waves),
        fissure_halfwidth=1.2 + 2.0 * atrophy,
        floor=floor,
        base_t=u(8.0, 14.0),
        ventricles=tuple(ventricles),
        third_ventricle=third,
        deep_grey=deep_grey,
        calcifications=tuple(calcs),
        air_cells=air_cells,
        sinus_depth=u(5.5, 8.0),
        sinus_halfwidth=u(3.5, 5.0),
        hu=hu,
        noise_sd=u(4.0, 7.0),
    )
