"""Run megatron-core on a machine without CUDA (CI and the embedded default).

megatron-core assumes a GPU in a handful of places: it asks ``torch.cuda`` for the current
device and stream, creates small tensors with ``device="cuda"``, calls ``Tensor.cuda()``, and
checks legacy type strings such as ``'torch.cuda.FloatTensor'`` in gradient clipping and in the
mixed-precision optimizer. :func:`enable_cpu_mode` redirects exactly those to the CPU.

It is process-wide and idempotent. Call it only when training on CPU; on a GPU nothing here is
needed or used.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

_ENABLED = False
_MODE: "_CudaToCpu | None" = None


class _NullStream:
    """Stands in for ``torch.cuda.current_stream()``: every method is a no-op."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _is_cuda(device) -> bool:
    if isinstance(device, torch.device):
        return device.type == "cuda"
    if isinstance(device, str):
        return device.startswith("cuda")
    return False


class _CudaToCpu(TorchFunctionMode):
    """Rewrites a ``device="cuda"`` keyword (factories, ``.to()``) to ``"cpu"``."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _is_cuda(kwargs.get("device")):
            kwargs = {**kwargs, "device": "cpu"}
        return func(*args, **kwargs)


# Legacy type strings megatron compares against, e.g. ``param.grad.type() == 'torch.cuda.FloatTensor'``.
_original_type = torch.Tensor.type


def _type_reporting_cuda(self, dtype=None, non_blocking=False, **kwargs):
    """``Tensor.type()`` with no argument reports a CPU tensor as its CUDA twin; otherwise unchanged."""
    if dtype is None and not kwargs:
        name = _original_type(self)
        if self.device.type == "cpu" and name.startswith("torch.") and not name.startswith("torch.cuda."):
            return "torch.cuda." + name[len("torch."):]
        return name
    return _original_type(self, dtype, non_blocking, **kwargs)


def enable_cpu_mode() -> None:
    """Make megatron-core's CUDA calls land on the CPU (see module docstring)."""
    global _ENABLED, _MODE
    if _ENABLED:
        return
    # Device and stream queries. "cpu" is a valid ``device=`` argument everywhere megatron uses it.
    torch.cuda.current_device = lambda: "cpu"
    torch.cuda.synchronize = lambda *args, **kwargs: None
    torch.cuda.current_stream = lambda *args, **kwargs: _NullStream()
    # ``tensor.cuda()`` keeps the tensor where it is.
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    # Gradient clipping and Float16Optimizer assert CUDA type strings.
    torch.Tensor.type = _type_reporting_cuda
    # ``torch.zeros(..., device="cuda")`` and friends. A mode pushed outside any ``with`` stays
    # active for the rest of the process, on this thread.
    _MODE = _CudaToCpu()
    _MODE.__enter__()
    _ENABLED = True


def cpu_mode_enabled() -> bool:
    return _ENABLED
