"""One data-parallel rank: ``python -m pipeline.train.worker <spec.json>`` (started by launch.py).

Trains with the spec's arguments; rank 0 writes ``result.json`` beside the spec: the stats, or
the error a single-process run would have raised. The exit code is the CLI's for that error.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pipeline.errors import CptError
from pipeline.registry import write_json_atomic
from pipeline.train.launch import decode_spec
from pipeline.train.preemption import TrainingPreempted


def main(argv: list[str]) -> int:
    spec_path = Path(argv[0])
    kwargs = decode_spec(json.loads(spec_path.read_text()))
    rank = int(os.environ["RANK"])
    result_path = spec_path.with_name("result.json")
    from pipeline.train.loop import train

    try:
        stats = train(**kwargs)
    except CptError as exc:
        if rank == 0:
            result = {"ok": False, "error": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code}
            if isinstance(exc, TrainingPreempted):
                result.update(signum=exc.signum, iteration=exc.iteration, checkpoint=str(exc.checkpoint))
            write_json_atomic(result_path, result)
        if not isinstance(exc, TrainingPreempted):
            print(f"cpt: error (rank {rank}): {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    if rank == 0:
        write_json_atomic(result_path, {"ok": True, "stats": stats})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
