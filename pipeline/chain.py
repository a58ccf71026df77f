"""The stage graph: which stage consumes which, and what goes into each fingerprint.

Each method returns a completed :class:`Artifact`, running the stage (and, first, whatever it
depends on) unless the registry already holds it. Each stage receives a :class:`StageConfig` of
exactly the sections it reads, and that is what its fingerprint hashes, so an ablation of one
filter reruns curation onwards and nothing before. Where a stage runs (``cluster``, local
``curate.workers``, ``progress``) and the experiment trackers (``tracking``) are handed over as a
:class:`Runtime`, in no fingerprint.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from pipeline import assets, events
from pipeline.codeversion import PACKAGE_DIR
from pipeline.config import CptConfig, ScheduleConfig
from pipeline.errors import InputError
from pipeline.launch.executors import executor_for
from pipeline.registry import Artifact, Registry, Runtime
from pipeline.resolve import hf_source, resolve
from pipeline.stage_config import StageConfig
from pipeline.tasks.spec import task_files
from pipeline.train.checkpoint_paths import resolve_checkpoint

# command -> the stages it names (for --force)
STAGES = ("sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "hf_import", "pretrain", "train",
          "evaluate", "report", "export")


def log(stage: str, msg: str) -> None:
    print(f"[{stage}] {msg}", file=sys.stderr, flush=True)


class Chain:
    def __init__(self, cfg: CptConfig, *, forced: tuple[str, ...] = (), plan_only: bool = False,
                 package_root: Path | None = None):
        """``cfg``: a validated config; the chain runs :func:`~pipeline.resolve.resolve` of it.
        ``plan_only``: compute every stage's fingerprint and whether it is a cache hit, running nothing
        (the artifacts are placeholders with ``manifest["planned"]``). ``package_root``: the code to
        fingerprint (a copy in tests; default: this package)."""
        self.cfg = cfg = resolve(cfg)
        if cfg.base_model.hf:
            log("hf_import", f"model from {cfg.base_model.hf}/config.json ({cfg.model.name}: {cfg.model.num_layers} "
                f"layers, hidden {cfg.model.hidden_size}, vocab {cfg.model.vocab_size}); tokenizer {cfg.tokenizer.path}")
        self.task_files = task_files(cfg.evaluate.tasks)  # a missing or unsafe task file fails before any stage
        check_replay_records(cfg.replay)  # and so do replay records without a text field
        self.registry = Registry(cfg.workdir, code_mode=cfg.code_version, package_root=package_root or PACKAGE_DIR)
        self.plan_only = plan_only
        self.executor = executor_for(cfg.cluster)  # where stages run: in no fingerprint, in no stage's closure
        self.forced = set(forced)
        self._done: dict[str, Artifact] = {}

    def artifacts(self) -> dict[str, Artifact]:
        """The stages this chain has resolved so far (``cached``: a hit, not a run)."""
        return dict(self._done)

    def _run(self, stage: str, fn, *, config: StageConfig, inputs: dict, workers: int | None = None) -> Artifact:
        if stage not in self._done and self.plan_only:
            fp, code, key, input_fps = self.registry.fingerprint_for(stage, fn, config=config, inputs=inputs)
            planned = {"planned": True, "stage": stage, "fingerprint": fp, "config": config.to_dict(),
                       "inputs": input_fps, "code_key": key, "code_module_digests": code.module_digests,
                       "library_versions": code.distributions}
            hit = self.registry.lookup(stage, fp)
            self._done[stage] = hit or Artifact(stage, fp, self.registry.stage_dir(stage, fp), planned)
        if stage not in self._done:
            self._done[stage] = self._run_reporting(stage, fn, config=config, inputs=inputs, workers=workers)
        return self._done[stage]

    def _run_reporting(self, stage: str, fn, *, config: StageConfig, inputs: dict, workers: int | None) -> Artifact:
        """``registry.run`` with the job events (:mod:`pipeline.events`) around it."""
        fp = self.registry.fingerprint_for(stage, fn, config=config, inputs=inputs)[0]
        if stage not in self.forced and self.registry.lookup(stage, fp):
            events.emit("stage_cached", stage=stage, fingerprint=fp)
        else:
            events.emit("stage_started", stage=stage, fingerprint=fp)
        runtime = Runtime(progress=self.cfg.progress, executor=self.executor, workers=workers,
                          tracking=self.cfg.tracking)
        try:
            art = self.registry.run(stage, fn, config=config, inputs=inputs, force=stage in self.forced,
                                    runtime=runtime)
        except BaseException as exc:
            events.emit("stage_failed", stage=stage, fingerprint=fp, error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
        if not art.cached:
            events.emit("stage_completed", stage=stage, fingerprint=art.fingerprint,
                        duration_s=art.manifest.get("duration_s"), path=str(art.path))
        return art

    # ------------------------------------------------------------------ data
    def sample(self) -> Artifact:
        from pipeline.sample import stage

        return self._run("sample", stage.run, config=StageConfig(sample=self.cfg.sample), inputs={})

    def _external(self, name: str, paths: list[str], fmt: str) -> Artifact:
        """User-provided files as a pseudo-artifact whose fingerprint tracks their size and mtime."""
        from pipeline import inputs

        if fmt == "megatron":  # dataset prefixes: fingerprint their .bin/.idx files
            files = []
            for prefix in paths:
                for ext in (".bin", ".idx"):
                    f = assets.resolve_path(f"{prefix}{ext}")
                    if not f.is_file():
                        raise InputError(f"replay: Megatron dataset file missing: {f}")
                    files.append(f)
        else:
            files = inputs.expand(paths, fmt)
        return Artifact(name, inputs.fingerprint_files(files), Path("/"), {"files": [str(f) for f in files]})

    def extract(self) -> Artifact:
        """Raw input -> URL filter -> text. Cached apart from the filters, so ablations skip it."""
        from pipeline.curate import extract

        c = self.cfg
        inputs = ({"sample": self.sample()} if not c.curate.input.paths
                  else {"raw": self._external("raw", c.curate.input.paths, c.curate.input.format)})
        config = StageConfig(input=c.curate.input, tasks=c.curate.tasks, max_doc_bytes=c.curate.max_doc_bytes,
                             http_status_keep=list(c.curate.http_status_keep), extraction=c.recipe.extraction,
                             url=c.recipe.filters.url)
        return self._run("extract", extract.run, config=config, inputs=inputs, workers=c.curate.workers)

    def curate(self) -> Artifact:
        from pipeline.curate import stage
        from pipeline.curate.filter_steps import language_model

        c = self.cfg
        f = c.recipe.filters
        if f.language.enabled:  # a missing model fails now, not after extraction
            language_model(f.language)
        decont = self.eval_tasks() if c.curate.decontaminate.enabled else {}
        config = StageConfig(tasks=c.curate.tasks, filter_impl=c.curate.filter_impl,
                             rejects_sample_rate=c.curate.rejects_sample_rate, recipe=c.recipe.name,
                             language=f.language, gopher_repetition=f.gopher_repetition,
                             gopher_quality=f.gopher_quality, c4=f.c4, fineweb=f.fineweb,
                             decontaminate=c.curate.decontaminate if decont else None,
                             eval_tasks=c.evaluate.tasks if decont else None)
        return self._run("curate", stage.run, config=config, inputs={"extract": self.extract(), **decont},
                         workers=c.curate.workers)

    def dedup(self) -> Artifact:
        from pipeline.curate.filter_steps import word_tokenizer_language
        from pipeline.dedup import stage

        # the shingles' words are split as the filters split them
        language = word_tokenizer_language(self.cfg.recipe.filters.language)
        config = StageConfig(dedup=self.cfg.dedup, word_tokenizer=language)
        return self._run("dedup", stage.run, config=config,
                         inputs={"curate": self.curate()})

    @cached_property
    def tokenizer_file(self) -> str:
        """The tokenizer file's sha256: in the config of every stage that reads the tokenizer itself
        (tokenize, replay, export); the others see it through their inputs."""
        t = self.cfg.tokenizer
        path = assets.verify(assets.tokenizer(t.path, t.sha256))
        return assets.sha256_file(path) if path.is_file() else str(path)

    def tokenize(self) -> Artifact:
        from pipeline.tokenize import stage

        config = StageConfig(tokenizer=self.cfg.tokenizer, tokenizer_file=self.tokenizer_file)
        return self._run("tokenize", stage.run, config=config, inputs={"dedup": self.dedup()})

    def replay(self) -> Artifact:
        from pipeline.tokenize import stage

        c = self.cfg
        inputs = ({"sample": self.sample()} if not c.replay.paths
                  else {"original": self._external("original", c.replay.paths, c.replay.format)})
        config = StageConfig(replay=c.replay, tokenizer=c.tokenizer, tokenizer_file=self.tokenizer_file)
        return self._run("replay", stage.run_replay, config=config, inputs=inputs)

    @property
    def budget(self) -> dict:
        """What training draws from the blend: its sample count, sample length and seed."""
        t = self.cfg.train
        return {"num_samples": t.train_iters * t.global_batch_size, "seq_length": self.cfg.model.seq_length,
                "seed": t.seed}

    def mix(self) -> Artifact:
        from pipeline.mix import stage

        return self._run("mix", stage.run, config=StageConfig(mix=self.cfg.mix, budget=self.budget),
                         inputs={"tokenize": self.tokenize(), "replay": self.replay()})

    # ------------------------------------------------------------------ model
    def base(self) -> Artifact:
        """The model to continue from: a user checkpoint, an imported HF model, or one pretrained here
        on the replay corpus."""
        if self.cfg.base_model.hf:
            return self.hf_import()
        ckpt = self.cfg.base_model.checkpoint
        if ckpt:
            path = assets.resolve_path(ckpt)
            if not path.exists():
                raise InputError(f"base model checkpoint not found: {ckpt}")
            path = resolve_checkpoint(path)  # a run's checkpoints/ directory means its newest
            ident = hashlib.sha256(f"{path}\0{path.stat().st_mtime_ns}".encode()).hexdigest()[:16]
            return Artifact("base", ident, path, {"checkpoint": str(path)})
        return self.pretrain()

    def hf_import(self) -> Artifact:
        """``base_model.hf``: the HF model converted to a cpt checkpoint (cached by its files)."""
        from pipeline import inputs
        from pipeline.hf import stage

        c = self.cfg
        src = hf_source(c)
        files = sorted(str(p) for p in src.iterdir() if p.is_file())
        source = Artifact("hf", inputs.fingerprint_files(files), src, {"files": files})
        config = StageConfig(pad_vocab_multiple=c.base_model.hf_pad_vocab_multiple, seq_length=c.model.seq_length)
        return self._run("hf_import", stage.run_import, config=config, inputs={"source": source})

    def export(self) -> Artifact:
        """``export.hf=true``: the trained model as a Hugging Face directory."""
        from pipeline.hf import stage

        config = StageConfig(tokenizer_path=str(assets.resolve_path(self.cfg.tokenizer.path)),
                             tokenizer_file=self.tokenizer_file)
        return self._run("export", stage.run_export, config=config, inputs={"train": self.train()})

    def pretrain(self) -> Artifact:
        from pipeline.train import stage

        return self._run("pretrain", stage.run_pretrain, config=pretrain_config(self.cfg),
                         inputs={"replay": self.replay()})

    def train(self) -> Artifact:
        from pipeline.train import stage

        return self._run("train", stage.run_cpt, config=cpt_config(self.cfg),
                         inputs={"mix": self.mix(), "base": self.base()})

    def eval_tasks(self) -> dict[str, Artifact]:
        """The inputs that ``evaluate.tasks`` adds to a stage: its files, and the sample when it
        generates their data. Empty when no task is named."""
        from pipeline import inputs
        from pipeline.tasks.spec import uses_sample

        tasks = self.cfg.evaluate.tasks
        if not (tasks.general or tasks.domain):
            return {}
        files = self.task_files
        names = sorted(f"{role}:{name}={value}" for role in ("general", "domain")
                       for name, value in getattr(tasks, role).items())
        ident = hashlib.sha256(f"{inputs.fingerprint_files(files)}\0{names}".encode()).hexdigest()[:16]
        out = {"tasks": Artifact("tasks", ident, Path("/"), {"files": files})}
        if uses_sample(tasks):
            out["sample"] = self.sample()
        return out

    def evaluate(self) -> Artifact:
        from pipeline.evaluate import stage

        c = self.cfg
        config = StageConfig(evaluate=c.evaluate, model=c.model, precision=c.precision)
        return self._run("evaluate", stage.run, config=config,
                         inputs={"mix": self.mix(), "base": self.base(), "train": self.train(),
                                 "curate": self.curate(), **self.eval_tasks()})

    def report(self) -> Artifact:
        from pipeline.report import stage

        inputs = {"extract": self.extract(), "curate": self.curate(), "dedup": self.dedup(), "tokenize": self.tokenize(),
                  "replay": self.replay(), "mix": self.mix(), "train": self.train(), "evaluate": self.evaluate()}
        base = self.base()
        if base.stage == "pretrain":
            inputs["pretrain"] = base
        return self._run("report", stage.run, config=StageConfig(), inputs=inputs)

    def preflight(self) -> None:
        """What the model stages need and a user names, checked before the data stages run for an hour:
        the tokenizer loads, the base checkpoint is one."""
        from pipeline.tokenize.stage import tokenizer_info

        tokenizer_info(self.cfg.tokenizer)
        if self.cfg.base_model.checkpoint and not self.cfg.base_model.hf:
            self.base()

    def run_all(self) -> Artifact:
        if not self.plan_only:
            self.preflight()
        report = self.report()
        if self.cfg.export.hf:
            self.export()
        return report


def check_replay_records(replay) -> None:
    """Replay records that cannot give a document (no text field, a JSON array) fail before any stage,
    not after the new data is curated and tokenized. A single bad file among good ones: the replay stage
    warns of it and counts its records."""
    if not replay.paths or replay.format == "megatron":
        return
    from pipeline import inputs
    from pipeline.records import check_record_files

    check_record_files(inputs.expand(replay.paths, replay.format), replay.format, replay.text_key,
                       "replay.text_key", lambda msg: None)


def pretrain_config(cfg: CptConfig) -> StageConfig:
    """What pretraining reads: the run's model and precision, its train settings with pretraining's own
    step count and fixed eval/save intervals (evaluate and checkpoint at the end only), and its own
    schedule. So the CPT run's ``train.train_iters``, ``eval_interval``, ``save_interval`` and
    ``schedule`` never rerun it."""
    b = cfg.base_model
    train = replace(cfg.train, train_iters=b.pretrain_iters, eval_interval=0, save_interval=0)
    schedule = ScheduleConfig(name="rewarm_cosine", peak_lr=b.pretrain_peak_lr, min_lr_ratio=0.1, warmup_fraction=0.05)
    return StageConfig(model=cfg.model, train=train, schedule=schedule, precision=cfg.precision)


def cpt_config(cfg: CptConfig) -> StageConfig:
    """What continued pretraining reads (``schedule.peak_lr: null`` is resolved from the base input)."""
    return StageConfig(model=cfg.model, train=cfg.train, schedule=cfg.schedule, precision=cfg.precision)

