#!/usr/bin/env bash
# The GPU checks of the training stack, as one script for a lent GPU machine (see ../shared/gpu/README.md
# for putting TransformerEngine + megatron-core into /tmp/site first):
#   bash benchmarks/gpu_check.sh            # GPU tests + BF16 vs FP8 at width 4096
# Prints the pytest summary and the side-by-side table of benchmarks/train_throughput.py.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-python}
OUT=${OUT:-/tmp}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY -c "import torch, transformer_engine, megatron.core; print('torch', torch.__version__, '| TE', transformer_engine.__version__, '| megatron-core', megatron.core.__version__)"
$PY -m pytest -q -m gpu tests/test_gpu.py -p no:cacheprovider 2>&1 | tail -15
$PY benchmarks/train_throughput.py --preset wide4096 --precisions bf16,fp8:delayed,fp8:tensorwise,fp8:blockwise \
    --steps 30 --warmup 10 --json "$OUT/train_throughput_wide4096.json"
