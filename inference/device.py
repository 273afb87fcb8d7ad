"""Where a model runs: ``"auto"`` (CUDA when present, else the CPU), ``"cpu"`` or ``"cuda[:N]"``.

Mixed precision is used only on CUDA and only around the *forward pass of prediction*
(:func:`autocast`): bfloat16 where the GPU supports it, else float16. Gradient explainers
(Grad-CAM, IG, SHAP, ...) run in float32 even on CUDA: their maps are differences of small
gradients, which half precision does not resolve reliably, and no explainer here has been
shown to be safe under autocast. On the CPU everything runs in float32.

torch is imported on use, so the web tier can import this module.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

DEVICE_CHOICES = ("auto", "cpu", "cuda")
_PATTERN = re.compile(r"^(auto|cpu|cuda(:[0-9]+)?)$")


class DeviceError(ValueError):
    """The requested device is malformed or not available on this machine."""


def resolve_device(name: str | None) -> str:
    """``"auto"``/``None`` -> ``"cuda"`` if ``torch.cuda.is_available()`` else ``"cpu"``;
    ``"cuda[:N]"`` is checked to exist (a clear error, never a silent CPU fallback)."""
    import torch

    name = (name or "auto").strip().lower()
    if not _PATTERN.match(name):
        raise DeviceError(f"device {name!r} is not one of auto, cpu, cuda or cuda:N")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {name!r} was requested but CUDA is not available on this machine "
                f"(torch {torch.__version__}, built for CUDA {torch.version.cuda}); "
                "use --device cpu or auto"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {name!r} does not exist: {torch.cuda.device_count()} CUDA device(s)"
            )
    return name


def autocast_dtype(device: str) -> str | None:
    """``"bfloat16"``/``"float16"`` for a CUDA device, ``None`` (float32) elsewhere."""
    if not device.startswith("cuda"):
        return None
    import torch

    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


@contextlib.contextmanager
def autocast(device: str) -> Iterator[None]:
    """Mixed precision for a prediction forward pass on CUDA; a no-op on the CPU.

    Not for gradient explainers (see the module docstring)."""
    dtype = autocast_dtype(device)
    if dtype is None:
        yield
        return
    import torch

    with torch.autocast("cuda", dtype=getattr(torch, dtype)):
        yield


def device_info(device: str) -> dict[str, object]:
    """What the provenance records about the device."""
    info: dict[str, object] = {"device": device, "autocast": autocast_dtype(device)}
    if device.startswith("cuda"):
        import torch

        info["cuda_device_name"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda_version"] = torch.version.cuda
    return info
