"""Numeric precision of the transformer models at inference: fp32, bf16 or int8.

``auto`` picks bf16 on CPUs that multiply bfloat16 in hardware (x86 AVX512-BF16 or AMX) and
fp32 elsewhere (emulated bf16 is slower than fp32). bf16 weights roughly halve the time of an
encoder pass and change almost no label; int8 dynamic quantization is offered for CPUs
without bf16 but moves more labels (see docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

from nlp.model_config import PRECISIONS


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True if the CPU multiplies bfloat16 in hardware (x86 AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(precision: str, device: torch.device | None = None) -> str:
    """``fp32``, ``bf16`` or ``int8`` for a configured ``precision`` (one of ``PRECISIONS``)
    on ``device`` (default the CPU): ``auto`` is bf16 where the device computes it natively;
    int8 runs on the CPU only."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    on_gpu = device is not None and device.type == "cuda"
    if precision == "auto":
        native = torch.cuda.is_bf16_supported() if on_gpu else cpu_has_native_bf16()
        return "bf16" if native else "fp32"
    if precision == "int8" and on_gpu:
        raise ValueError("precision int8 runs on the CPU only; choose fp32 or bf16 for a GPU")
    return precision


def set_precision(model: torch.nn.Module, precision: str, tokenizer=None) -> torch.nn.Module:
    """``model`` for inference in ``precision`` (``fp32``, ``bf16`` or ``int8``; int8 needs
    the ``tokenizer`` to find outlier channels). May modify ``model`` in place."""
    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        if tokenizer is None:
            raise ValueError("int8 quantization needs the model's tokenizer")
        return quantize_int8(model, tokenizer)
    return model


# int8: a few input channels of the encoder's Linear layers (LayerNorm outputs feeding the
# FFN, some GELU outputs) peak at 10-70 where the rest stay under ~2; one int8 scale per batch
# then rounds the ordinary channels away (15% of labels flipped in a trial). Those channels
# are found on a few built-in posts and multiplied in fp32 (as in LLM.int8()).
OUTLIER_RATIO, OUTLIER_FLOOR = 6.0, 4.0  # peak > 6x the median channel peak and > 4.0
CALIBRATION_TEXTS = (
    "Третий день нет интернета, поддержка молчит.", "Спасибо за быстрый ответ!",
    "Подскажите, как подключить роуминг?", "Офис работает с 9 до 20.",
    "Зв'язок постійно зникає, жахливий сервіс.", "Дякую, все працює чудово!",
    "Який тариф обрати для планшета?", "Магазин на Хрещатику відкрито до 21:00.",
    "The app keeps crashing after the update!!!", "Great coverage, thanks a lot 👍",
    "How do I cancel my subscription?", "Maintenance is scheduled tonight from 2 to 5 am.",
)


class OutlierSplitLinear(torch.nn.Module):
    """``linear`` (to be quantized) over the input with its ``outliers`` channels zeroed, plus
    an fp32 product over those channels alone."""

    def __init__(self, linear: torch.nn.Linear, outliers: torch.Tensor) -> None:
        super().__init__()
        mask = torch.zeros(linear.in_features, dtype=torch.bool)
        mask[outliers] = True
        self.register_buffer("mask", mask, persistent=False)
        self.register_buffer("outliers", outliers, persistent=False)
        self.register_buffer("outlier_weight", linear.weight.detach()[:, outliers].t().clone(),
                             persistent=False)
        self.inner = linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.inner(x.masked_fill(self.mask, 0.0))
        flat = out.view(-1, out.shape[-1])
        flat.addmm_(x.index_select(-1, self.outliers).reshape(-1, len(self.outliers)),
                    self.outlier_weight)
        return out


@torch.inference_mode()
def input_peaks(model: torch.nn.Module, tokenizer, texts: Sequence[str]) -> dict:
    """Largest absolute value of each input channel of every Linear layer over ``texts``."""
    peaks: dict[str, torch.Tensor] = {}

    def record(name):
        def hook(module, inputs, output):
            peak = inputs[0].detach().abs().flatten(0, -2).amax(0)
            peaks[name] = torch.maximum(peaks[name], peak) if name in peaks else peak
        return hook

    hooks = [m.register_forward_hook(record(n)) for n, m in model.named_modules()
             if isinstance(m, torch.nn.Linear)]
    try:
        enc = tokenizer(list(texts), padding=True, return_tensors="pt")
        model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    finally:
        for hook in hooks:
            hook.remove()
    return peaks


def quantize_int8(model: torch.nn.Module, tokenizer) -> torch.nn.Module:
    """int8 dynamic quantization of the Linear layers (weights per output channel,
    activations per batch), outlier input channels kept in fp32. Modifies ``model``."""
    for name, peak in input_peaks(model, tokenizer, CALIBRATION_TEXTS).items():
        limit = max(OUTLIER_FLOOR, OUTLIER_RATIO * float(peak.median()))
        outliers = (peak > limit).nonzero().squeeze(1)
        if len(outliers):
            parent, _, child = name.rpartition(".")
            owner = model.get_submodule(parent) if parent else model
            setattr(owner, child, OutlierSplitLinear(getattr(owner, child), outliers))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
        qconfig = torch.ao.quantization.per_channel_dynamic_qconfig
        return torch.ao.quantization.quantize_dynamic(
            model, {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=True
        )
