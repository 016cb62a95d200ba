"""Where the models run: the CPU, or a CUDA GPU, chosen per process.

``OTKLIK_DEVICE`` (``otklik tag --device``) is ``cpu`` (the default), ``cuda`` or ``auto``
(a GPU when this machine has one). A tagger on a GPU writes the same model versions as one
on a CPU, so GPU and CPU taggers share one store's work; what differs between them is only
the numeric precision (``sentiment.precision`` in ``data/nlp.yaml``), which is part of the
version: pin it where GPU and CPU taggers work side by side.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads where a device is chosen, not where these names are read
    import torch

DEVICES = ("cpu", "cuda", "auto")
DEVICE_VARIABLE = "OTKLIK_DEVICE"


def inference_device(name: str | None = None) -> torch.device:
    """The device ``name`` (default: ``$OTKLIK_DEVICE`` or ``cpu``) stands for on this
    machine; ``ValueError`` for an unknown name or ``cuda`` without a GPU."""
    import torch

    name = (name or os.environ.get(DEVICE_VARIABLE) or "cpu").strip().lower()
    if name not in DEVICES:
        raise ValueError(f"device {name!r} is not one of {', '.join(DEVICES)}")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda: this machine has no CUDA GPU that torch can use "
                         "(a CPU build of torch, or no driver)")
    return torch.device(name)
