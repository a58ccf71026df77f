"""Run megatron-core on a machine without CUDA (CI and the embedded default).

megatron-core assumes a GPU in a handful of places: it asks ``torch.cuda`` for the current
device and stream, creates small tensors with ``device="cuda"``, calls ``Tensor.cuda()``, and
checks legacy type strings such as ``'torch.cuda.FloatTensor'`` in gradient clipping and in the
mixed-precision (bf16) optimizer. :func:`enable_cpu_mode` redirects exactly those to the CPU;
:func:`disable_cpu_mode` puts torch back as it was.

Used only when training on CPU (``distributed.py`` turns it on for the session and off at
teardown, so code that runs later in the process sees an unpatched torch). On a GPU nothing here
is used.
"""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode


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
    return isinstance(device, str) and device.startswith("cuda")


class _CudaToCpu(TorchFunctionMode):
    """Rewrites a ``device="cuda"`` keyword (tensor factories, ``.to()``) to ``"cpu"``."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _is_cuda(kwargs.get("device")):
            kwargs = {**kwargs, "device": "cpu"}
        return func(*args, **kwargs)


def _type_reporting_cuda(original):
    """``Tensor.type()`` with no argument reports a CPU tensor as its CUDA twin; other calls unchanged."""

    def type_(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None and not kwargs:
            name = original(self)
            if self.device.type == "cpu" and not name.startswith("torch.cuda."):
                return name.replace("torch.", "torch.cuda.", 1)
            return name
        return original(self, dtype, non_blocking, **kwargs)

    return type_


_SAVED: dict = {}  # the originals, while CPU mode is on
_MODE: _CudaToCpu | None = None


def enable_cpu_mode() -> None:
    """Make megatron-core's CUDA calls land on the CPU (idempotent; see the module docstring)."""
    global _MODE
    if _MODE is not None:
        return
    from megatron.core.tensor_parallel import random as mcore_random

    _SAVED.update(current_device=torch.cuda.current_device, synchronize=torch.cuda.synchronize,
                  current_stream=torch.cuda.current_stream, cuda=torch.Tensor.cuda, type=torch.Tensor.type,
                  get_rng=mcore_random._get_cuda_rng_state, set_rng=mcore_random._set_cuda_rng_state)
    # Activation recomputation saves and restores the "CUDA" RNG around each recomputed block:
    # there is none, and megatron restores the CPU generator itself.
    mcore_random._get_cuda_rng_state = lambda *args, **kwargs: torch.get_rng_state()
    mcore_random._set_cuda_rng_state = lambda *args, **kwargs: None
    # Device and stream queries. "cpu" is a valid ``device=`` argument everywhere megatron uses it.
    torch.cuda.current_device = lambda: "cpu"
    torch.cuda.synchronize = lambda *args, **kwargs: None
    torch.cuda.current_stream = lambda *args, **kwargs: _NullStream()
    # ``tensor.cuda()`` keeps the tensor where it is.
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    # Gradient clipping and the bf16 optimizer assert CUDA type strings.
    torch.Tensor.type = _type_reporting_cuda(_SAVED["type"])
    # ``torch.zeros(..., device="cuda")`` and friends. The mode stays pushed (on this thread)
    # until disable_cpu_mode(); measured overhead on the tiny model: under 5%.
    _MODE = _CudaToCpu()
    _MODE.__enter__()


def disable_cpu_mode() -> None:
    """Undo :func:`enable_cpu_mode` (no-op when it is off)."""
    global _MODE
    if _MODE is None:
        return
    _MODE.__exit__(None, None, None)
    _MODE = None
    torch.cuda.current_device = _SAVED["current_device"]
    torch.cuda.synchronize = _SAVED["synchronize"]
    torch.cuda.current_stream = _SAVED["current_stream"]
    torch.Tensor.cuda = _SAVED["cuda"]
    torch.Tensor.type = _SAVED["type"]
    from megatron.core.tensor_parallel import random as mcore_random

    mcore_random._get_cuda_rng_state, mcore_random._set_cuda_rng_state = _SAVED["get_rng"], _SAVED["set_rng"]
    _SAVED.clear()


def cpu_mode_enabled() -> bool:
    return _MODE is not None
