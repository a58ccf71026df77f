"""``cpt``: the command line, on Hydra.

    cpt <command> [hydra overrides...] [--force] [--cfg job] [-m ...]

Commands are stages (``curate``, ``dedup``, ...), the whole chain (``run``), and the tools
``runs`` and ``doctor``. Overrides are Hydra's, e.g. ``cpt run mix.replay_fraction=0.25`` or
``cpt run -m mix.replay_fraction=0.01,0.05``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import Iterator, Optional

from pipeline import events
from pipeline.compose import (compose_config, conf_dir, describe_config_error, preflight, read_config_file, split_args,
                              store_config_file)
from pipeline.errors import CptError

STAGE_COMMANDS = ("sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "pretrain", "train", "evaluate", "report")
COMMANDS = {
    "run": "the whole chain (default: the embedded sample, on CPU)",
    **{s: f"the {s} stage (and whatever it needs that is not cached)" for s in STAGE_COMMANDS},
    "runs": "list stage runs in the workdir: status, timing, lineage; --why STAGE: what differs from its nearest earlier run",
    "status": "per stage run: Slurm/Ray tasks done/running/failed (failed ranks' logs), training job state",
    "doctor": "check versions, assets and checksums, GPU and TransformerEngine",
    "ablate": "filtering ablation: recipe/grid/replay/LR variants x seeds from one base -> one report",
    "compare": "RUN_OR_REPORT ...: the ablation report for runs that already exist",
    "import-hf": "SRC DEST: a Hugging Face model directory -> a cpt checkpoint",
    "export-hf": "SRC DEST: a cpt checkpoint (or a run's directory) -> a Hugging Face model directory",
    "serve": "the service: REST API, queue and a local worker (`cpt serve token create NAME` for tokens)",
    "worker": "a worker for a shared service database (team mode; several hosts)",
    "submit": "COMMAND [overrides] [--config FILE]: queue a job on $CPT_SERVER; prints its id",
    "jobs": "the service's jobs (--state STATE, --all for admins)",
    "job": "ID: one job: state, stages, error",
    "logs": "ID [-f]: a job's log (-f follows it)",
    "cancel": "ID: cancel a queued or running job",
    "retry": "ID: a new attempt of a job (completed stages are cache hits)",
}
SERVICE_COMMANDS = ("serve", "worker", "submit", "jobs", "job", "logs", "cancel", "retry")
PATH_COMMANDS = ("import-hf", "export-hf", "compare")  # positional paths, not Hydra overrides
TOOL_COMMANDS = ("runs", "status", "doctor")  # composed and dispatched here: no Hydra job, no output folder
HYDRA_FLAGS_WITHOUT_COMPOSE = {"--help", "-h", "--hydra-help", "--info", "-i", "--shell-completion", "-sc"}

USAGE = "usage: cpt <command> [key=value ...] [--config FILE] [--force] [--cfg job] [-m]\n\ncommands:\n" + "\n".join(
    f"  {name:<10} {text}" for name, text in COMMANDS.items()
) + "\n\nexamples:\n  cpt run\n  cpt run --cfg job\n  cpt curate recipe.filters.gopher_quality.min_stop_words=3\n" \
    "  cpt run -m mix.replay_fraction=0.01,0.05,0.25\n" \
    "  cpt ablate ablate.recipes=[fineweb,fineweb_no_c4] ablate.seeds=[1,2]\n" \
    "  cpt compare cpt_work/report/<fp> cpt_work/report/<fp2>\n"


def fail(msg: str, code: int = 2) -> "None":
    print(f"cpt: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def raise_interrupt(*_) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """The CLI's one error guard: a CptError is one line and its exit code; Ctrl-C is "interrupted", 130."""
    try:
        yield
    except CptError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)


def take_config_file(args: list[str]) -> tuple[list[str], Optional[dict]]:
    """``--config FILE`` (an experiment YAML, applied before the overrides): (the other args, its body)."""
    if "--config" not in args:
        return args, None
    i = args.index("--config")
    if i + 1 >= len(args) or "--config" in args[i + 2:]:
        raise CptError("--config needs one FILE: cpt run --config experiment.yaml [overrides]")
    return args[:i] + args[i + 2:], read_config_file(args[i + 1])


def ablate_command(args: list[str], config_file: Optional[dict] = None) -> None:
    """``cpt ablate [overrides]``: composed here (not a Hydra job), each variant on top of the overrides."""
    from pipeline.ablate.runner import run_ablation

    if any(a in ("-m", "--multirun") for a in args):
        fail("cpt ablate sweeps its own axes (ablate.recipes, ablate.grid, ablate.replay_fractions, "
             "ablate.peak_lrs, ablate.seeds); drop -m")
    overrides = list(args)
    with one_line_errors():
        if config_file is not None:
            overrides = [store_config_file(config_file), *overrides]
        result = run_ablation(compose_config(overrides), compose_config, overrides)
    print(f"report: {result.report.path / 'report.html'}")
    print(f"table: {result.report.path / 'results.parquet'} and results.csv")


def run_tool(command: str, args: list[str]) -> None:
    """``cpt runs|status|doctor``: the config composed with Hydra's compose API and dispatched here, so
    no Hydra job runs (and no ``<workdir>/hydra/`` output folder appears)."""
    with one_line_errors():
        cfg = compose_config(args)
    cfg.cmd = command
    dispatch_or_fail(command, cfg)


def why_command(args: list[str]) -> None:
    """``cpt runs --why STAGE [overrides]``: what in the stage's fingerprint differs from its nearest earlier run."""
    i = args.index("--why")
    if i + 1 >= len(args) or args[i + 1].startswith("-") or "=" in args[i + 1]:
        fail("cpt runs --why needs a stage: cpt runs --why curate [the run's overrides]")
    stage, overrides = args[i + 1], args[:i] + args[i + 2:]
    with one_line_errors():
        from pipeline.why import explain

        print(explain(compose_config(overrides), stage))


def dispatch_or_fail(command: str, cfg) -> Optional[int]:
    """Run ``command``; a CptError or Ctrl-C is one line and an exit code."""
    with one_line_errors():
        code = dispatch(command, cfg)
    if code:
        sys.exit(code)
    return code


# ---------------------------------------------------------------------------- the Hydra task
def task(dcfg) -> Optional[int]:
    """Runs inside Hydra (once per job under ``-m``)."""
    from omegaconf import OmegaConf

    from pipeline.config import to_object

    command = OmegaConf.select(dcfg, "cmd") or "run"
    try:
        cfg = to_object(dcfg)
    except CptError as exc:
        fail(str(exc))
    except Exception as exc:
        fail(describe_config_error(exc))
    cfg.workdir = os.path.abspath(cfg.workdir)
    return dispatch_or_fail(command, cfg)


def dispatch(command: str, cfg) -> Optional[int]:
    if command == "doctor":
        from pipeline.doctor import doctor

        return doctor(cfg)
    if command == "runs":
        from pipeline.runs import print_runs

        return print_runs(cfg.workdir)
    if command == "status":
        from pipeline.status import print_status

        return print_status(cfg.workdir)
    from pipeline.chain import STAGES, Chain

    forced = (STAGES if command == "run" else (command,)) if cfg.force else ()
    chain = Chain(cfg, forced=forced)
    artifact = chain.run_all() if command == "run" else getattr(chain, command)()
    if artifact.stage == "report":
        print(f"report: {artifact.path / 'report.html'}")
    else:
        print(f"{artifact.stage}: {artifact.path}")
    return 0


def compare_command(args: list[str]) -> None:
    """``cpt compare RUN_OR_REPORT ...`` (argparse; no Hydra config)."""
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="cpt compare", description="the ablation report for existing runs: "
                                     "report directories (<workdir>/report/<fp>) or earlier comparisons")
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--workdir", default=None, help="where compare/<fp>/ goes (default: the first run's workdir)")
    parser.add_argument("--noise-sigmas", type=float, default=1.0)
    parser.add_argument("--title", default="")
    parser.add_argument("--pareto", default="loss", choices=("loss", "downstream"),
                        help="the Pareto view's measures: validation loss or downstream task accuracy")
    ns = parser.parse_args(args)
    with one_line_errors():
        from pipeline.ablate.compare import compare, expand_paths

        runs = expand_paths(ns.runs)
        workdir = Path(ns.workdir) if ns.workdir else runs[0][0].parent.parent
        art = compare(runs, workdir, noise_sigmas=ns.noise_sigmas, title=ns.title, pareto_by=ns.pareto)
    print(f"report: {art.path / 'report.html'}")


def convert_command(command: str, args: list[str]) -> None:
    """``cpt import-hf SRC DEST`` / ``cpt export-hf SRC DEST`` (argparse; no Hydra config)."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"cpt {command}")
    parser.add_argument("src")
    parser.add_argument("dest")
    if command == "import-hf":
        parser.add_argument("--pad-vocab-multiple", type=int, default=1,
                            help="pad the embedding rows to a multiple of this (padding is dropped on export)")
        parser.add_argument("--seq-length", type=int, default=None,
                            help="model.seq_length of the derived config (default: max_position_embeddings, at most 4096)")
    else:
        parser.add_argument("--tokenizer", default=None, help="tokenizer.json to ship (default: the checkpoint's)")
        parser.add_argument("--max-shard-gb", type=float, default=5.0)
    ns = parser.parse_args(args)
    with one_line_errors():
        if command == "import-hf":
            from pipeline.hf.convert import import_hf_atomic

            meta = import_hf_atomic(ns.src, ns.dest, pad_vocab_multiple=ns.pad_vocab_multiple,
                                    seq_length=ns.seq_length)
            print(f"import-hf: {ns.dest} ({meta['hf']['architecture']}, vocab {meta['real_vocab_size']}, "
                  f"{meta['hf']['dtype']}); continue from it with base_model.checkpoint={ns.dest} "
                  f"(or base_model.hf={ns.src}) and schedule.peak_lr=<its peak LR>")
        else:
            from pipeline.hf.convert import export_hf

            export_hf(ns.src, ns.dest, tokenizer=ns.tokenizer, max_shard_bytes=int(ns.max_shard_gb * 1024**3))
            print(f"export-hf: {ns.dest}")


def main(argv: Optional[list[str]] = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE)
        sys.exit(0)
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        fail(f"unknown command '{command}'; commands: {', '.join(COMMANDS)}")
    # a SIGTERM (a cancel, a scheduler) stops cpt as Ctrl-C does: the Slurm jobs it waits on are cancelled
    signal.signal(signal.SIGTERM, raise_interrupt)
    events.forward_warnings()  # under the service: warnings are job events too
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub at run time
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if command == "compare":
        return compare_command(rest)
    if command in PATH_COMMANDS:
        return convert_command(command, rest)
    if command in SERVICE_COMMANDS:
        from pipeline.service.commands import service_command

        with one_line_errors():
            return service_command(command, rest)
    rest = ["force=true" if a == "--force" else a for a in rest]
    with one_line_errors():
        rest, config_file = take_config_file(rest)
    if command == "ablate":
        return ablate_command(rest, config_file)
    flags, overrides = split_args(rest)
    if command == "runs" and "--why" in rest:
        return why_command(rest)
    if command in TOOL_COMMANDS and not flags:
        return run_tool(command, rest)
    if not HYDRA_FLAGS_WITHOUT_COMPOSE.intersection(rest):
        with one_line_errors():
            configs = preflight(rest, multirun=any(a in ("-m", "--multirun") for a in rest), config_file=config_file)
        if "--cfg" in flags or "-c" in flags:
            from pipeline.resolve import budget_note

            for note in filter(None, map(budget_note, configs)):
                print(note, flush=True)

    import hydra

    from pipeline.config import register_configs

    register_configs()
    if config_file is not None:
        overrides = [store_config_file(config_file), *overrides]
    sys.argv = [f"cpt-{command}", *flags, f"cmd={command}", *overrides]
    hydra.main(config_path=conf_dir(), config_name="config", version_base="1.3")(task)()


if __name__ == "__main__":
    main()
