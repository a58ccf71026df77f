"""Tokenize documents into Megatron indexed datasets with datatrove's Megatron tokenizer.

Used twice: for the curated new data (``tokenize``) and for the original pretraining data that
replay draws from (``replay``, which also holds out a validation split to measure forgetting)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import assets
from pipeline import inputs as inputs_mod
from pipeline.executor import Executor, Job, stat
from pipeline.errors import ConfigError, CptError, InputError
from pipeline.registry import StageContext, output_version
from pipeline.tokenize import indexed

if TYPE_CHECKING:  # annotations only: the values are in the fingerprint, the schema's code is not
    from pipeline.config import ReplayConfig, TokenizerConfig

TOKENS_DIR = "tokens"


def tokenizer_info(cfg: TokenizerConfig) -> dict:
    """Check the tokenizer asset and its EOS token; return what downstream stages must agree on."""
    from tokenizers import Tokenizer

    path = assets.verify(assets.tokenizer(cfg.path, cfg.sha256))
    if path.is_dir():
        path = path / "tokenizer.json"
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # the tokenizers library raises a bare Exception on a malformed file
        raise InputError(f"tokenizer {path} does not load ({exc}); point tokenizer.path at a "
                         "Hugging Face tokenizer.json (or a folder holding one)") from None
    eos_id = tok.token_to_id(cfg.eos_token)
    if eos_id is None:
        raise ConfigError(f"invalid value for 'tokenizer.eos_token': {cfg.eos_token!r} is not in {path}")
    return {"path": str(path), "sha256": assets.sha256_file(path), "vocab_size": tok.get_vocab_size(),
            "eos_token": cfg.eos_token, "eos_id": eos_id}


def tokenize(executor: Executor, reader, cfg: TokenizerConfig, out_dir: Path, *, tasks: int, what: str) -> dict:
    """Tokenize in ``tasks`` shards (one Megatron dataset each, EOS after every document); several
    shards are merged into ``merged.bin/.idx``. Records tokens per shard and throughput."""
    import time

    from datatrove.pipeline.tokens import MegatronDocumentTokenizer

    info = tokenizer_info(cfg)
    step = MegatronDocumentTokenizer(output_folder=str(out_dir / TOKENS_DIR), save_filename="part",
                                     tokenizer_name_or_path=info["path"], eos_token=cfg.eos_token,
                                     batch_size=cfg.batch_size)
    t0 = time.perf_counter()
    step_stats = executor.run(Job([reader, step], out_dir / "logs", tasks, tasks, what))
    wall = time.perf_counter() - t0
    docs, tokens = stat(step_stats[0], "documents"), stat(step_stats[1], "tokens")
    skipped = {k[len("error_"):]: stat(step_stats[0], k) for k in step_stats[0].get("stats", {})
               if k.startswith("error_") and stat(step_stats[0], k)}
    shards = [p for p in indexed.prefixes(out_dir / TOKENS_DIR) if indexed.sequence_count(p)]  # no empty task
    if not shards:
        lost = f" ({', '.join(f'{k} {v}' for k, v in sorted(skipped.items()))} records skipped)" if skipped else ""
        raise CptError(f"{what}: no tokens written: {docs} documents read{lost}")
    merged_prefix = shards[0]
    if len(shards) > 1:
        merged_prefix = out_dir / "merged"
        indexed.merge(shards, merged_prefix)
    if indexed.count(merged_prefix)["tokens"] != tokens:
        raise CptError(f"{what}: the dataset holds fewer tokens than the tokenizer wrote ({tokens})")
    tok_time = step_stats[1].get("time_stats", {}).get("total", 0.0) or wall  # tokenizer CPU-seconds
    return {"tokenizer": info, "documents": docs, **({"skipped": skipped} if skipped else {}), "tokens": tokens,
            "merged": str(merged_prefix.relative_to(out_dir)), "tasks": tasks,
            "shards": [{"prefix": str(p.relative_to(out_dir)), **indexed.count(p)} for p in shards],
            "wall_s": round(wall, 3), "tokens_per_s_per_core": round(tokens / tok_time, 1) if tok_time else None}


@output_version(1)
def run(ctx: StageContext) -> dict:
    """New data: the deduplicated Parquet documents."""
    from datatrove.pipeline.readers import ParquetReader

    src = ctx.inputs["dedup"].path / "docs"
    reader = ParquetReader(str(src), glob_pattern="*.parquet")
    tok: TokenizerConfig = ctx.config.tokenizer  # (tokenizer_file: its sha256, for the fingerprint)
    tasks = max(1, min(tok.tasks, len(list(src.glob("*.parquet")))))
    ctx.log(f"document separator {tok.eos_token!r} after every document (tokenizer.eos_token)")
    stats = tokenize(ctx.executor, reader, tok, ctx.out_dir, tasks=tasks, what="tokenize")
    ctx.log(f"{stats['documents']} documents -> {stats['tokens']} tokens in {len(stats['shards'])} shard(s), "
            f"{stats['tokens_per_s_per_core']} tokens/s/core")
    return stats


@output_version(2)
def run_replay(ctx: StageContext) -> dict:
    """Replay source: the original pretraining documents, tokenized, with a held-out split. A record that
    cannot be read is counted under ``skipped`` by reason (:mod:`pipeline.records`)."""
    from pipeline.records import AccountedJsonlReader, AccountedParquetReader, check_record_files

    replay: ReplayConfig = ctx.config.replay
    sample = ctx.inputs.get("sample")
    if replay.format == "megatron":
        return _replay_from_prefixes(ctx, replay)
    paths = replay.paths or [str(sample.path / "original")]
    files = inputs_mod.expand(paths, replay.format)
    root = inputs_mod.common_root(files)
    paths_file = ctx.out_dir / "input_files.txt"
    inputs_mod.write_paths_file(files, root, paths_file)
    check_record_files(files, replay.format, replay.text_key, "replay.text_key", ctx.log)
    reader_cls = AccountedJsonlReader if replay.format == "jsonl" else AccountedParquetReader
    reader = reader_cls(str(root), paths_file=str(paths_file), text_key=replay.text_key)
    tok: TokenizerConfig = ctx.config.tokenizer
    tasks = max(1, min(tok.tasks, len(files)))
    stats = tokenize(ctx.executor, reader, tok, ctx.out_dir, tasks=tasks, what="replay tokenize")
    stats.setdefault("skipped", {})  # records the reader could not use, by reason
    if stats["skipped"]:
        ctx.log(f"warning: {sum(stats['skipped'].values())} replay record(s) skipped: "
                + ", ".join(f"{k} {v}" for k, v in sorted(stats["skipped"].items())))
    stats["split"] = indexed.split(ctx.out_dir / stats["merged"], ctx.out_dir / "split",
                                   valid_fraction=replay.valid_fraction, seed=0)
    ctx.log(f"{stats['documents']} documents -> {stats['tokens']} tokens; held out "
            f"{stats['split']['valid']['tokens']} tokens for forgetting")
    return stats


def _replay_from_prefixes(ctx: StageContext, replay: ReplayConfig) -> dict:
    """Replay from existing Megatron datasets: checked against the tokenizer, merged (when several),
    split."""
    info = tokenizer_info(ctx.config.tokenizer)
    prefixes = [assets.resolve_path(p) for p in replay.paths]
    checked = [indexed.check_prefix(p, vocab_size=info["vocab_size"], what="replay") for p in prefixes]
    source = prefixes[0]
    if len(prefixes) > 1:
        source = ctx.out_dir / "merged"
        indexed.merge(prefixes, source)
    stats = {"tokenizer": info, "documents": sum(c["documents"] for c in checked),
             "tokens": sum(c["tokens"] for c in checked), "merged": str(source),
             "shards": [{"prefix": str(p), "documents": c["documents"], "tokens": c["tokens"]}
                        for p, c in zip(prefixes, checked)]}
    stats["split"] = indexed.split(source, ctx.out_dir / "split",
                                   valid_fraction=replay.valid_fraction, seed=0)
    ctx.log(f"{len(replay.paths)} Megatron prefix(es): {stats['documents']} documents, {stats['tokens']} tokens")
    return stats
