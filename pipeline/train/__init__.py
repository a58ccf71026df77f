"""Training on megatron-core: pretraining the base model and continued pretraining (CPT).

Entry points live in :mod:`pipeline.train.loop` (``train``, ``evaluate_loss``); the other modules
each hold one idea: ``cpu_compat`` (megatron on a machine without CUDA), ``distributed`` (the
process group: one process, or one rank), ``model`` (Llama-form GPTModel), ``data`` (indexed datasets), ``schedule``
(LR schedule), ``checkpoint`` (save, resume, weights-only), ``checkpoint_paths`` (which
checkpoint is current), ``preemption`` (SIGTERM/SIGUSR1), ``flops`` (MFU), ``launch`` and ``worker``
(data-parallel ranks on one node). Nothing heavy is imported here, so
``import pipeline.train`` stays cheap; megatron takes seconds to import.
"""

import logging
import warnings

# megatron-core announces its fallbacks at import time, four times over, on every machine without
# TransformerEngine/Apex (CPU included). The fallbacks are expected; the announcements are noise.
for _message in ("Transformer Engine and Apex are not installed", "Apex is not installed"):
    warnings.filterwarnings("ignore", message=_message, category=UserWarning)

# megatron logs every dataset index, DDP bucket and config at INFO; our own logs say what matters.
logging.getLogger("megatron.core").setLevel(logging.WARNING)
