"""One data-parallel rank: ``python -m pipeline.train.worker <spec.json>`` (started by pipeline.launch.local_ranks, or srun in a Slurm job).

Trains with the spec's arguments and writes ``result-<rank>.json`` beside the spec: rank 0 its
stats, and every rank that fails its error, so the launcher can report what went wrong wherever
it happened. The exit code is the CLI's for that error (128 + signal for a preemption).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from pipeline.train.contract import LAUNCHER_PID_ENV, adopt_slurm_rank_env, decode_spec, result_path
from pipeline.train.preemption import PreemptionGuard


def die_with_launcher() -> None:
    """Have Linux SIGKILL this rank when the launcher dies (even by SIGKILL); exit if it already has."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux with glibc: a killed launcher may leave ranks behind
        return
    launcher = os.environ.get(LAUNCHER_PID_ENV)
    if launcher and os.getppid() != int(launcher):  # it died before the prctl took effect
        sys.exit(1)


def main(argv: list[str]) -> int:
    # Record SIGTERM/SIGUSR1 from the very start: the imports below take seconds (more with TE), and a
    # signal then must still end as a preemption, not kill the rank (the training loop takes it over).
    with PreemptionGuard():
        adopt_slurm_rank_env()
        die_with_launcher()
        return _train(Path(argv[0]), int(os.environ["RANK"]))


def train_in_process(train_kwargs: dict) -> dict:
    """One rank in the launching process itself (no spec file, no result file)."""
    from pipeline.train.loop import train

    return train(**train_kwargs)


def _train(spec_path: Path, rank: int) -> int:
    import json

    from pipeline.errors import CptError
    from pipeline.registry import write_json_atomic
    from pipeline.train.loop import train
    from pipeline.train.contract import TrainingPreempted

    try:
        stats = train(**decode_spec(json.loads(spec_path.read_text())))
    except CptError as exc:
        result = {"ok": False, "rank": rank, "error": type(exc).__name__, "message": str(exc),
                  "exit_code": exc.exit_code}
        if isinstance(exc, TrainingPreempted):
            result.update(signum=exc.signum, iteration=exc.iteration, checkpoint=str(exc.checkpoint))
        else:
            print(f"cpt: error (rank {rank}): {exc}", file=sys.stderr, flush=True)
        write_json_atomic(result_path(spec_path, rank), result)
        return exc.exit_code
    except Exception as exc:  # a bug or a failure of the machine: keep the traceback, report the message
        write_json_atomic(result_path(spec_path, rank), {"ok": False, "rank": rank, "error": type(exc).__name__,
                                                         "message": str(exc), "exit_code": 1})
        raise
    if rank == 0:
        write_json_atomic(result_path(spec_path, rank), {"ok": True, "stats": stats})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
