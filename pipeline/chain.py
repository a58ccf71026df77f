"""The stage graph: which stage consumes which, and what goes into each fingerprint.

Each method returns a completed :class:`Artifact`, running the stage (and, first, whatever it
depends on) unless the registry already holds it. Only the config a stage actually reads goes
into its fingerprint, so an ablation of one filter reruns curation onwards and nothing before.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

from pipeline import assets
from pipeline.config import CptConfig, section
from pipeline.errors import InputError
from pipeline.registry import Artifact, Registry
from pipeline.train.checkpoint_paths import resolve_checkpoint

# command -> the stages it names (for --force)
STAGES = ("sample", "extract", "curate", "dedup", "tokenize", "replay", "mix", "hf_import", "pretrain", "train",
          "evaluate", "report", "export")


class Chain:
    def __init__(self, cfg: CptConfig, *, forced: tuple[str, ...] = ()):
        self.cfg = cfg
        if cfg.base_model.hf:  # the architecture and tokenizer come from the HF model
            from pipeline.hf.stage import apply_hf_base

            apply_hf_base(cfg)
        self.apply_token_budget(cfg)
        self.registry = Registry(cfg.workdir)
        self.forced = set(forced)
        self._done: dict[str, Artifact] = {}

    @staticmethod
    def apply_token_budget(cfg: CptConfig) -> None:
        """A token budget sets the number of training steps (rounded up to whole steps)."""
        if cfg.mix.token_budget:
            step_tokens = cfg.train.global_batch_size * cfg.model.seq_length
            cfg.train.train_iters = -(-cfg.mix.token_budget // step_tokens)

    def artifacts(self) -> dict[str, Artifact]:
        """The stages this chain has resolved so far (``cached``: a hit, not a run)."""
        return dict(self._done)

    def _run(self, stage: str, fn, *, config, config_dict: dict, inputs: dict, package: str) -> Artifact:
        if stage not in self._done:
            from pipeline.launch.datatrove_exec import use_cluster

            with use_cluster(self.cfg.cluster):  # where data stages run; not part of any fingerprint
                self._done[stage] = self.registry.run(
                    stage, fn, config=config, config_dict=config_dict, inputs=inputs, package=package,
                    force=stage in self.forced, progress=self.cfg.progress)
        return self._done[stage]

    # ------------------------------------------------------------------ data
    def uses_sample(self) -> bool:
        return not self.cfg.curate.input.paths or not self.cfg.replay.paths

    def sample(self) -> Artifact:
        from pipeline.sample import stage

        return self._run("sample", stage.run, config=self.cfg.sample, config_dict=section(self.cfg.sample),
                         inputs={}, package="sample")

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
        config_dict = {"input": section(c.curate.input), "tasks": c.curate.tasks,
                       "max_doc_bytes": c.curate.max_doc_bytes, "extraction": section(c.recipe.extraction),
                       "url": section(c.recipe.filters.url)}
        return self._run("extract", extract.run, config={"curate": c.curate, "recipe": c.recipe},
                         config_dict=config_dict, inputs=inputs, package="curate")

    def curate(self) -> Artifact:
        from pipeline.curate import stage

        c = self.cfg
        filters = {k: v for k, v in section(c.recipe.filters).items() if k != "url"}
        config_dict = {"tasks": c.curate.tasks, "filter_impl": c.curate.filter_impl,
                       "rejects_sample_rate": c.curate.rejects_sample_rate, "filters": filters}
        return self._run("curate", stage.run, config={"curate": c.curate, "recipe": c.recipe},
                         config_dict=config_dict, inputs={"extract": self.extract()}, package="curate")

    def dedup(self) -> Artifact:
        from pipeline.dedup import stage

        return self._run("dedup", stage.run, config=self.cfg.dedup, config_dict=section(self.cfg.dedup),
                         inputs={"curate": self.curate()}, package="dedup")

    @cached_property
    def tokenizer_fingerprint(self) -> dict:
        t = self.cfg.tokenizer
        path = assets.verify(assets.tokenizer(t.path, t.sha256))
        return {**section(t), "file_sha256": assets.sha256_file(path) if path.is_file() else str(path)}

    def tokenize(self) -> Artifact:
        from pipeline.tokenize import stage

        return self._run("tokenize", stage.run, config=self.cfg.tokenizer, config_dict=self.tokenizer_fingerprint,
                         inputs={"dedup": self.dedup()}, package="tokenize")

    def replay(self) -> Artifact:
        from pipeline.tokenize import stage

        c = self.cfg
        inputs = ({"sample": self.sample()} if not c.replay.paths
                  else {"original": self._external("original", c.replay.paths, c.replay.format)})
        return self._run("replay", stage.run_replay, config={"replay": c.replay, "tokenizer": c.tokenizer},
                         config_dict={"replay": section(c.replay), "tokenizer": self.tokenizer_fingerprint},
                         inputs=inputs, package="tokenize")

    @property
    def budget(self) -> dict:
        """What training draws from the blend: its sample count, sample length and seed."""
        t = self.cfg.train
        return {"num_samples": t.train_iters * t.global_batch_size, "seq_length": self.cfg.model.seq_length,
                "seed": t.seed}

    def mix(self) -> Artifact:
        from pipeline.mix import stage

        budget = self.budget
        return self._run("mix", stage.run, config={"mix": self.cfg.mix, "budget": budget},
                         config_dict={**section(self.cfg.mix), "budget": budget},
                         inputs={"tokenize": self.tokenize(), "replay": self.replay()}, package="mix")

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
        src = stage.hf_source(c)
        files = sorted(str(p) for p in src.iterdir() if p.is_file())
        source = Artifact("hf", inputs.fingerprint_files(files), src, {"files": files})
        config_dict = {"pad_vocab_multiple": c.base_model.hf_pad_vocab_multiple, "seq_length": c.model.seq_length}
        return self._run("hf_import", stage.run_import, config=c, config_dict=config_dict,
                         inputs={"source": source}, package="hf")

    def export(self) -> Artifact:
        """``export.hf=true``: the trained model as a Hugging Face directory."""
        from pipeline.hf import stage

        return self._run("export", stage.run_export, config=self.cfg,
                         config_dict={"hf": True, "tokenizer": self.tokenizer_fingerprint},
                         inputs={"train": self.train()}, package="hf")

    def pretrain(self) -> Artifact:
        from pipeline.train import stage

        c = self.cfg
        batch = {k: v for k, v in section(c.train).items() if k not in ("train_iters", "eval_interval", "save_interval")}
        config_dict = {"model": section(c.model), "base_model": section(c.base_model), "train": batch,
                       "precision": section(c.precision)}
        return self._run("pretrain", stage.run_pretrain, config=c, config_dict=config_dict,
                         inputs={"replay": self.replay()}, package="train")

    def train(self) -> Artifact:
        from pipeline.train import stage

        c = self.cfg
        config_dict = {"model": section(c.model), "train": section(c.train), "schedule": section(c.schedule),
                       "precision": section(c.precision)}
        return self._run("train", stage.run_cpt, config=c, config_dict=config_dict,
                         inputs={"mix": self.mix(), "base": self.base()}, package="train")

    def evaluate(self) -> Artifact:
        from pipeline.evaluate import stage

        c = self.cfg
        config_dict = {"evaluate": section(c.evaluate), "model": section(c.model), "precision": section(c.precision)}
        return self._run("evaluate", stage.run, config=c, config_dict=config_dict,
                         inputs={"mix": self.mix(), "base": self.base(), "train": self.train()}, package="evaluate")

    def report(self) -> Artifact:
        from pipeline.report import stage

        inputs = {"extract": self.extract(), "curate": self.curate(), "dedup": self.dedup(), "tokenize": self.tokenize(),
                  "replay": self.replay(), "mix": self.mix(), "train": self.train(), "evaluate": self.evaluate()}
        base = self.base()
        if base.stage == "pretrain":
            inputs["pretrain"] = base
        return self._run("report", stage.run, config=self.cfg, config_dict={}, inputs=inputs, package="report")

    def run_all(self) -> Artifact:
        report = self.report()
        if self.cfg.export.hf:
            self.export()
        return report
