"""Downstream tasks through lm-evaluation-harness: per task ``acc``, ``acc_norm`` with standard errors,
the mean log-probability of the gold answer, and accuracy on the items decontamination did not hit."""

from __future__ import annotations

import json
import math

METRICS = ("acc", "acc_norm")
BOOTSTRAP_ITERS = 1000  # lm-eval's stderr for acc is analytic; this bounds the other metrics' cost


def score_tasks(lm, tasks: dict, *, limit: int | None = None, dirty: dict[str, set[int]] | None = None) -> dict:
    """``{task: {"n": items, metric: value, ...}}`` for ``tasks`` (``{name: lm_eval Task}``) scored by ``lm``.
    ``dirty``: per task, the item indices decontamination matched (they get ``acc_clean`` excluded)."""
    from lm_eval.evaluator import evaluate

    out = evaluate(lm=lm, task_dict={"tasks": tasks, "groups": {}, "group_map": {}}, limit=limit,
                   bootstrap_iters=BOOTSTRAP_ITERS, log_samples=True, verbosity="WARNING")
    scores = {}
    for name in tasks:
        row = out["results"][name]
        samples = out["samples"][name]
        metrics = {}
        for m in METRICS:
            if f"{m},none" in row:
                metrics[m] = float(row[f"{m},none"])
                stderr = row.get(f"{m}_stderr,none")
                metrics[f"{m}_stderr"] = float(stderr) if isinstance(stderr, (int, float)) else None
        gold = [gold_logprob(s, _gold_index(tasks[name], s)) for s in samples]
        gold = [g for g in gold if g is not None]
        if gold:
            metrics["gold_logprob"] = sum(gold) / len(gold)
        if dirty is not None and "acc" in metrics:
            clean = [float(s["acc"]) for s in samples if s["doc_id"] not in dirty.get(name, set())]
            metrics["acc_clean"] = sum(clean) / len(clean) if clean else math.nan
            metrics["n_clean"] = len(clean)
        scores[name] = {"n": len(samples), **metrics}
    return scores


def _finite(value):
    """NaN (e.g. an AUROC without a control split) as None: stage stats are strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return None if isinstance(value, float) and math.isnan(value) else value


def _gold_index(task, sample: dict):
    """The gold choice: the target, or for partial scoring (WinoGrande) the prompt's choice index."""
    target = sample.get("target")
    if isinstance(target, int):
        return target
    text = task.doc_to_text(sample["doc"])
    return text if isinstance(text, int) else None


def gold_logprob(sample: dict, target) -> float | None:
    """The log-probability of a multiple-choice item's gold answer (its continuation's, summed over tokens)."""
    resps = sample.get("filtered_resps")
    if not isinstance(target, int) or not resps or not 0 <= target < len(resps):
        return None
    first = resps[target]
    value = first[0] if isinstance(first, (list, tuple)) else first
    return float(value)


def change(before: dict, after: dict) -> dict:
    """Per task and metric, after minus before (a positive change in accuracy or log-prob is better)."""
    out = {}
    for name, b in before.items():
        a = after.get(name, {})
        out[name] = {k: a[k] - b[k] for k in b if k in a and isinstance(b[k], float) and isinstance(a[k], float)
                     and not k.endswith("_stderr")}
    return out





class DownstreamTasks:
    """The tasks of a run, built once and scored for each model (``run``), then summarised."""

    def __init__(self, specs, eval_cfg, *, dtype: str = "fp32", dirty: dict[str, set[int]] | None = None,
                 cache_dir=None):
        from pipeline.tasks.harness import load_tasks, task_items

        self.cfg, self.dtype, self.dirty = eval_cfg, dtype, dirty
        self.roles = {s.name: s.role for s in specs}
        self.tasks = load_tasks(specs, cache_dir)
        self.items = {s.name: task_items(s.name, self.tasks[s.name], eval_cfg.limit) for s in specs}
        self.controls = {s.name: task_items(s.name, self.tasks[s.name], eval_cfg.limit, control=True)
                         for s in specs if s.control_split}

    def run(self, checkpoint, tokenizer: dict, log) -> tuple[dict, dict]:
        """``(scores, min_k)`` of one checkpoint: lm-eval metrics per task, and per task the Min-K%
        scores of its items and control items (empty when ``evaluate.contamination`` is off)."""
        import torch
        from pipeline.evaluate.harness_lm import CheckpointLM
        from pipeline.evaluate.scorer import CheckpointScorer
        from pipeline.train.loop import configure_threads

        device = "cuda" if torch.cuda.is_available() else "cpu"
        configure_threads(torch.device(device))
        n = sum(len(v) for v in self.items.values())
        log(f"downstream: {len(self.tasks)} tasks, {n} items ({', '.join(self.tasks)})")
        with CheckpointScorer(checkpoint, dtype=self.dtype, device=device) as scorer:
            lm = CheckpointLM(scorer, tokenizer["path"], tokenizer["eos_token"], self.cfg.batch_size)
            scores = score_tasks(lm, self.tasks, limit=self.cfg.limit, dirty=self.dirty)
            min_k = (self._min_k(scorer, lm.tokenizer, lm.eot_token_id)
                     if self.cfg.contamination else {})
        return scores, min_k

    def _min_k(self, scorer, tokenizer, separator: int) -> dict:
        """Each item scored as a document of its own: after the document separator."""
        from pipeline.evaluate.contamination import item_text, min_k_scores

        def score(items):
            return min_k_scores(scorer, tokenizer, [item_text(i) for i in items], batch_size=self.cfg.batch_size,
                                prefix_id=separator)

        return {name: {"items": score(items), "control": score(self.controls.get(name, []))}
                for name, items in self.items.items()}

    def summary(self, scores: dict) -> dict:
        """Per task before/after/change, and the forgetting (general) and adaptation (domain) averages:
        both > 0 mean what their names say (forgetting: accuracy lost; adaptation: accuracy gained)."""
        before, after = scores["before"], scores["after"]
        delta = change(before, after)
        tasks = {name: {"role": role, "n": after[name]["n"], "before": before[name], "after": after[name],
                        "change": delta[name]} for name, role in self.roles.items()}
        out = {"tasks": tasks}
        for metric in ("acc", "acc_norm", "gold_logprob"):
            general = [-delta[n][metric] for n, r in self.roles.items() if r == "general" and metric in delta[n]]
            domain = [delta[n][metric] for n, r in self.roles.items() if r == "domain" and metric in delta[n]]
            out[f"forgetting_{metric}"] = sum(general) / len(general) if general else None
            out[f"adaptation_{metric}"] = sum(domain) / len(domain) if domain else None
        return out

    def contamination(self, min_k: dict, items_path=None) -> dict:
        """Per task, Min-K% and Min-K%++ before/after with AUROCs against the control split;
        ``items_path``: also each item's scores, as JSON lines."""
        from pipeline.evaluate.contamination import contamination_summary

        if items_path is not None:
            rows = [{"task": name, "item": item.index, **{f"{m}_{when}": min_k[when][name]["items"][i][m]
                                                          for when in ("before", "after")
                                                          for m in ("min_k", "min_k_pp")}}
                    for name, items in self.items.items() for i, item in enumerate(items)]
            items_path.write_text("".join(json.dumps(_finite(r)) + "\n" for r in rows))
        return {name: _finite(contamination_summary(
            min_k["before"][name]["items"], min_k["after"][name]["items"], min_k["before"][name]["control"],
            min_k["after"][name]["control"])) for name in self.items}

    @staticmethod
    def table(summary: dict) -> list[str]:
        lines = [f"{'task':<18} {'role':<8} {'n':>5} {'acc before':>10} {'after':>7} {'change':>7} "
                 f"{'gold logp':>10} {'after':>8}"]
        for name, t in summary["tasks"].items():
            b, a, c = t["before"], t["after"], t["change"]
            lines.append(f"{name:<18} {t['role']:<8} {t['n']:>5} {b.get('acc', float('nan')):>10.3f} "
                         f"{a.get('acc', float('nan')):>7.3f} {c.get('acc', float('nan')):>+7.3f} "
                         f"{b.get('gold_logprob', float('nan')):>10.2f} {a.get('gold_logprob', float('nan')):>8.2f}")
        for key in ("forgetting_acc", "adaptation_acc"):
            if summary.get(key) is not None:
                lines.append(f"{key.replace('_', ' ')}: {summary[key]:+.3f}")
        return lines
