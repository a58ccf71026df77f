"""Downstream evaluation through lm-evaluation-harness on local task files, scored by the project's
own logits path (a tiny random model imported from transformers), offline."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from pipeline.errors import InputError
from pipeline.evaluate.downstream import DownstreamTasks, score_tasks
from pipeline.evaluate.harness_lm import CheckpointLM
from pipeline.evaluate.scorer import CheckpointScorer
from pipeline.hf.convert import import_hf
from pipeline.tasks.harness import load_tasks, task_items
from pipeline.tasks.spec import SHIPPED_DIR, task_spec, task_specs

sys.path.insert(0, str(Path(__file__).parent))
from hf_models import TOKENIZER, make_hf_model  # noqa: E402
from offline import network_blocked  # noqa: E402
from train_runner import MEGATRON_NOISE  # noqa: E402

pytestmark = [pytest.mark.filterwarnings(f) for f in MEGATRON_NOISE]
EOS = "<|endoftext|>"
WORDS = "the planet orbit moon ring crater probe lander ice dust comet star rover basin plume".split()


@pytest.fixture(scope="module", autouse=True)
def offline():
    with network_blocked():
        yield


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, Path]:
    """(the HF folder, the cpt checkpoint imported from it)."""
    root = tmp_path_factory.mktemp("downstream")
    hf = make_hf_model("llama_tied", root / "hf", seed=3)
    import_hf(hf, root / "cpt", progress=False)
    return hf, root / "cpt"


def _mc_items(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    phrase = lambda k: " ".join(rng.choice(WORDS) for _ in range(k))  # noqa: E731
    return [{"query": "Q: " + phrase(6), "choices": [phrase(rng.randint(1, 7)) for _ in range(4)],
             "gold": rng.randrange(4)} for _ in range(n)]


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def mc_task(tmp_path_factory) -> dict:
    data = _write(tmp_path_factory.mktemp("task") / "items.jsonl", _mc_items(40, 0))
    specs = task_specs(SimpleNamespace(general={}, domain={"sample_domain": data}))
    return load_tasks(specs)


def _by_hand(ckpt: Path, tasks: dict) -> list[tuple[list[float], int, list[str]]]:
    """Per item: the log-likelihood of each choice from checkpoint logits, split as lm-eval splits."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(TOKENIZER))
    enc = lambda s: tok.encode(s, add_special_tokens=False).ids  # noqa: E731
    out = []
    with CheckpointScorer(ckpt) as scorer:
        for item in task_items("sample_domain", tasks["sample_domain"]):
            lls = []
            for choice in item.choices:
                context, whole = enc(item.query), enc(item.query + " " + choice)
                cont = whole[len(context):]
                logp = torch.log_softmax(scorer.logits(torch.tensor([whole[:-1]]))[0], -1)
                lls.append(float(sum(logp[len(whole) - 1 - len(cont) + j, t] for j, t in enumerate(cont))))
            out.append((lls, item.gold_index, list(item.choices)))
    return out


def test_acc_and_acc_norm_equal_a_computation_by_hand(model, mc_task):
    """lm-eval's per-item acc and acc_norm are the argmax of our own log-likelihoods (acc_norm: divided by
    the choice's length in characters), including items where normalisation flips the choice."""
    _, ckpt = model
    with CheckpointScorer(ckpt) as scorer:
        out = score_tasks(CheckpointLM(scorer, str(TOKENIZER), EOS, progress=False), mc_task)
    hand = _by_hand(ckpt, mc_task)
    acc = [float(max(range(4), key=lambda i: lls[i]) == gold) for lls, gold, _ in hand]
    norm = [float(max(range(4), key=lambda i: lls[i] / len(ch[i])) == gold) for lls, gold, ch in hand]
    flips = sum(max(range(4), key=lambda i: lls[i]) != max(range(4), key=lambda i: lls[i] / len(ch[i]))
                for lls, _, ch in hand)
    assert flips >= 3, "the items should include choices that length normalisation flips"
    assert out["sample_domain"]["n"] == 40
    assert out["sample_domain"]["acc"] == pytest.approx(sum(acc) / 40, abs=1e-12)
    assert out["sample_domain"]["acc_norm"] == pytest.approx(sum(norm) / 40, abs=1e-12)
    gold = sum(lls[g] for lls, g, _ in hand) / 40
    assert out["sample_domain"]["gold_logprob"] == pytest.approx(gold, abs=1e-4)


def test_wrapper_agrees_with_lm_eval_hf_model(model, mc_task):
    """Our checkpoint through our wrapper and the HF folder through lm-eval's own HF model give the same
    log-likelihoods (within 1e-4) on every request."""
    from lm_eval.models.huggingface import HFLM
    from transformers import PreTrainedTokenizerFast

    hf_dir, ckpt = model
    task = mc_task["sample_domain"]
    task.build_all_requests(limit=10)
    requests = [inst for inst in task.instances]
    hf = HFLM(pretrained=str(hf_dir), tokenizer=PreTrainedTokenizerFast(tokenizer_file=str(TOKENIZER), eos_token=EOS),
              device="cpu", batch_size=4)
    theirs = hf.loglikelihood(requests, disable_tqdm=True)
    with CheckpointScorer(ckpt) as scorer:
        ours = CheckpointLM(scorer, str(TOKENIZER), EOS, progress=False).loglikelihood(requests, disable_tqdm=True)
    assert len(ours) == len(theirs) == 40
    assert max(abs(a[0] - b[0]) for a, b in zip(ours, theirs)) < 1e-4
    assert [a[1] for a in ours] == [b[1] for b in theirs]


def test_same_checkpoint_before_and_after_changes_nothing(model, tmp_path):
    """The whole downstream path (the sample's task form, with its control split): the same checkpoint
    twice gives a change of exactly 0 in every metric and in Min-K%, and the clean-item accuracy
    leaves out what decontamination hit."""
    _, ckpt = model
    (tmp_path / "tasks").mkdir()
    for name, seed in (("sample_general", 1), ("sample_domain", 2)):
        _write(tmp_path / "tasks" / f"{name}.jsonl", _mc_items(12, seed))
        _write(tmp_path / "tasks" / f"{name}.control.jsonl", _mc_items(8, seed + 10))
    specs = task_specs(SimpleNamespace(general={"sample_general": "sample"}, domain={"sample_domain": "sample"}),
                       sample_dir=tmp_path)
    tasks = DownstreamTasks(specs, SimpleNamespace(limit=None, batch_size=4, contamination=True),
                            dirty={"sample_domain": {0, 5}})
    tok = {"path": str(TOKENIZER), "eos_token": EOS}
    runs = {when: tasks.run(ckpt, tok, lambda _: None) for when in ("before", "after")}
    summary = tasks.summary({when: r[0] for when, r in runs.items()})
    for t in summary["tasks"].values():
        assert t["change"] and all(v == 0.0 for v in t["change"].values())
    assert summary["forgetting_acc"] == 0.0 and summary["adaptation_acc"] == 0.0
    assert summary["tasks"]["sample_domain"]["after"]["n_clean"] == 10
    assert "sample_domain" in "\n".join(tasks.table(summary))
    cont = tasks.contamination({when: r[1] for when, r in runs.items()}, tmp_path / "items.jsonl")
    for name in ("sample_general", "sample_domain"):
        assert cont[name]["n_items"] == 12 and cont[name]["n_control"] == 8
        for m in ("min_k", "min_k_pp"):
            assert cont[name][m]["mean_change"] == 0.0
            assert cont[name][m]["auroc_before"] == cont[name][m]["auroc_after"]
            assert 0.0 <= cont[name][m]["auroc_after"] <= 1.0
    rows = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert len(rows) == 24 and all(r["min_k_before"] == r["min_k_after"] for r in rows)


SHIPPED_ROWS = {
    "hellaswag": {"ctx_a": "A man sits on a roof.", "ctx_b": "he", "activity_label": "Roofing",
                  "endings": [" eats [step] lunch.", "rips tiles off [title] now", "sings.", "pulls up the shingles."],
                  "label": "3"},
    "arc_easy": {"question": "Which is a gas?", "choices": {"text": ["ice", "steam", "rock"], "label": ["A", "B", "C"]},
                 "answerKey": "B"},
    "arc_challenge": {"question": "Which is hot?", "choices": {"text": ["sun", "ice"], "label": ["1", "2"]},
                      "answerKey": "1"},
    "winogrande": {"sentence": "The cup did not fit in the box because the _ was too big.", "option1": "cup",
                   "option2": "box", "answer": "1"},
    "piqa": {"goal": "Open a jar", "sol1": "twist the lid", "sol2": "hit it", "label": 0},
    "sciq": {"question": "What do plants absorb?", "distractor1": "oxygen", "distractor2": "helium",
             "distractor3": "neon", "correct_answer": "carbon dioxide", "support": " Plants absorb carbon dioxide."},
}


def test_shipped_tasks_build_from_local_files(tmp_path, model):
    """Every shipped task YAML builds in lm-eval from a local JSON-lines file and is scored."""
    files = {name: _write(tmp_path / f"{name}.jsonl", [row]) for name, row in SHIPPED_ROWS.items()}
    specs = task_specs(SimpleNamespace(general=files, domain={}))
    tasks = load_tasks(specs, tmp_path / "cache")
    golds = {name: task_items(name, t)[0].gold for name, t in tasks.items()}
    assert golds == {"hellaswag": "pulls up the shingles.", "arc_easy": "steam", "arc_challenge": "sun",
                     "winogrande": "The cup did not fit in the box because the cup was too big.",
                     "piqa": "twist the lid", "sciq": "carbon dioxide"}
    assert task_items("hellaswag", tasks["hellaswag"])[0].query == "A man sits on a roof. he"
    from lm_eval.tasks.hellaswag.utils import preprocess  # lm-eval's own cleaning of HellaSwag's text

    hs, row = tasks["hellaswag"], SHIPPED_ROWS["hellaswag"]
    doc = next(iter(hs.eval_docs))
    assert hs.doc_to_choice(doc) == [preprocess(e) for e in row["endings"]] and "eats lunch." in hs.doc_to_choice(doc)
    assert hs.doc_to_text(doc) == preprocess(f"{row['activity_label']}: {row['ctx_a']} {row['ctx_b'].capitalize()}")
    with CheckpointScorer(model[1]) as scorer:
        out = score_tasks(CheckpointLM(scorer, str(TOKENIZER), EOS, progress=False), tasks)
    assert set(out) == set(SHIPPED_ROWS) and all(o["n"] == 1 for o in out.values())
    assert all("gold_logprob" in o for o in out.values())
    assert sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml")) == sorted([*SHIPPED_ROWS, "sample_domain",
                                                                        "sample_general"])


@pytest.mark.parametrize("name, bad", [
    ("piqa", {"label": 2}),  # only two solutions
    ("piqa", {"label": None}),
    ("arc_easy", {"answerKey": "E"}),  # not among the labels
    ("hellaswag", {"label": "7"}),
    ("arc_easy", {"choices": {"text": [], "label": []}}),
])
def test_a_malformed_row_after_the_first_is_one_error_naming_it(tmp_path, name, bad):
    """lm-eval checks a task's first row only: a later one that does not make an item is named, not a traceback."""
    good = SHIPPED_ROWS[name]
    path = _write(tmp_path / f"{name}.jsonl", [good, good, {**good, **bad}])
    tasks = load_tasks(task_specs(SimpleNamespace(general={name: path}, domain={})), tmp_path / "cache")
    with pytest.raises(InputError, match=f"task {name}: row 2 of its scored split is not a valid item") as e:
        task_items(name, tasks[name])
    assert "\n" not in str(e.value)


# ----------------------------------------------------------------------------- task files are data
def _yaml(tmp_path: Path, body: str) -> str:
    data = _write(tmp_path / "d.jsonl", [{"q": "x", "c": ["a", "b"], "g": 0}])
    path = tmp_path / "t.yaml"
    path.write_text(f"task: t\ndataset_path: json\ndataset_kwargs:\n  data_files: {{test: {data}}}\n"
                    f"test_split: test\noutput_type: multiple_choice\n{body}")
    return str(path)


@pytest.mark.parametrize("body, error", [
    ("doc_to_text: !function utils.doc_to_text\n", "task files are data"),
    ("doc_to_text: \"{{ q.__class__ }}\"\n", "attribute '__class__'"),
    ("doc_to_text: \"{{ cycler.__init__.__globals__ }}\"\n", "attribute '__"),
    ("doc_to_text: \"{{ q | attr('__class__') }}\"\n", "filter 'attr'"),
    ("doc_to_text: \"{{ lipsum() }}\"\n", "a call"),
    ("doc_to_choice: \"{{ c | map(attribute='__class__') | list }}\"\n", "map other than"),
    ("doc_to_choice: \"{{ c | map('attr', '__class__') | list }}\"\n", "filter 'attr'"),
    ("doc_to_choice: \"{{ c | map(q) | list }}\"\n", "map other than"),
    ("doc_to_text: \"{% include 'x' %}\"\n", "include"),
    ("process_docs: x\n", "keys not accepted in a task file: process_docs"),
    ("include: other.yaml\n", "keys not accepted in a task file: include"),
])
def test_task_file_that_could_run_code_is_refused(tmp_path, body, error):
    with pytest.raises(InputError, match=error.replace("(", r"\(")) as e:
        task_spec("t", "domain", _yaml(tmp_path, body))
    assert "\n" not in str(e.value)


def test_hub_dataset_and_missing_files_are_one_line_errors(tmp_path):
    path = tmp_path / "hub.yaml"
    path.write_text("task: t\ndataset_path: Rowan/hellaswag\nvalidation_split: validation\n")
    with pytest.raises(InputError, match="dataset_path must be 'json'"):
        task_spec("t", "general", str(path))
    with pytest.raises(InputError, match=r"evaluate.tasks.general.arc_easy: data file not found: .*nope.jsonl$"):
        task_spec("arc_easy", "general", str(tmp_path / "nope.jsonl"))
    with pytest.raises(InputError, match="task file not found"):
        task_spec("mine", "general", str(tmp_path / "nope.yaml"))
    with pytest.raises(InputError, match="cpt ships no task named 'mmlu'"):
        task_spec("mmlu", "general", str(tmp_path / "mmlu.jsonl"))


def test_missing_task_file_fails_cpt_before_any_stage(cpt, tmp_path):
    res = cpt("run", f"+evaluate.tasks.domain.arc_easy={tmp_path}/missing.jsonl")
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert lines[-1] == f"cpt: error: evaluate.tasks.domain.arc_easy: data file not found: {tmp_path}/missing.jsonl"
    assert not (tmp_path / "work" / "sample").exists()
