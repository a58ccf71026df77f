"""What the pages show, from a job's rows and events (no server): the stage graph, the curves, the
comparison's config diff, where sign-in may send the browser."""

import json

from pipeline.service.web import views
from pipeline.service.web.pages import safe_next


def a_job(plan_stages, ran=()):
    return {"plan": json.dumps({"stages": plan_stages}), "stages": json.dumps(list(ran))}


PLAN = [{"name": "sample", "fingerprint": "a" * 16, "cached": True, "inputs": {}},
        {"name": "extract", "fingerprint": "b" * 16, "cached": False, "inputs": {"sample": "sample/" + "a" * 16}},
        {"name": "replay", "fingerprint": "c" * 16, "cached": False, "inputs": {"sample": "sample/" + "a" * 16}},
        {"name": "mix", "fingerprint": "d" * 16, "cached": False,
         "inputs": {"extract": "extract/" + "b" * 16, "replay": "replay/" + "c" * 16}}]


def test_stage_nodes_merge_the_plan_with_what_ran_and_the_graph_points_downstream():
    job = a_job(PLAN, [{"name": "sample", "fingerprint": "a" * 16, "status": "cached"},
                       {"name": "extract", "fingerprint": "b" * 16, "status": "running", "documents": 12}])
    nodes = views.stage_nodes(job)
    assert [(n["name"], n["status"]) for n in nodes] == [("sample", "cached"), ("extract", "running"),
                                                         ("replay", "queued"), ("mix", "queued")]
    assert nodes[1]["documents"] == 12 and nodes[3]["inputs"] == ["extract", "replay"]
    graph = views.stage_graph(nodes)
    x = {n["name"]: n["x"] for n in graph["nodes"]}
    assert x["sample"] < x["extract"] == x["replay"] < x["mix"]
    assert {(e["from"], e["to"]) for e in graph["edges"]} == {("sample", "extract"), ("sample", "replay"),
                                                              ("extract", "mix"), ("replay", "mix")}
    assert views.stage_nodes(a_job(PLAN))[0]["status"] == "reuse"  # a planned cache hit, not reached yet


def ev(i, kind, **data):
    return {"id": i, "ts": 100.0 + i, "kind": kind, "data": data}


def test_curves_keep_the_train_stage_apart_from_pretrain_and_count_documents_per_task():
    events = [ev(1, "stage_started", stage="curate"),
              ev(2, "progress", metric="documents", task=0, documents=100),
              ev(3, "progress", metric="documents", task=1, documents=50),
              ev(4, "progress", metric="documents", task=0, documents=300),
              ev(5, "stage_started", stage="pretrain"),
              ev(6, "progress", metric="train", step=5, loss=9.0, lr=1e-3, total=10),
              ev(7, "stage_started", stage="train"),
              ev(8, "progress", metric="train", step=5, loss=7.0, lr=2e-4, total=80),
              ev(9, "progress", metric="eval", step=5, eval_loss={"old": 6.5, "new": 7.5}),
              ev(10, "progress", metric="train", step=10, loss=6.0, lr=3e-4, total=80)]
    c = views.curves(events[:4])
    assert c["documents"] == 350 and c["documents_per_s"] == 350 / 3 and c["stage"] == "curate"
    c = views.curves(events)
    assert c["train"] == [[5, 7.0, 2e-4], [10, 6.0, 3e-4]] and c["eval"] == [[5, {"old": 6.5, "new": 7.5}]]
    assert c["last"]["step"] == 10 and c["documents"] is None and c["last_event_id"] == 10
    assert views.curves(events, "pretrain")["train"] == [[5, 9.0, 1e-3]]
    assert views.training_eta(c["last"], 107.0) == (110.0 - 107.0) / 10 * 70


def test_thin_keeps_the_first_and_last_points_within_the_limit():
    pts = list(range(10_000))
    thin = views.thin(pts, 1000)
    assert len(thin) == 1000 and thin[0] == 0 and thin[-1] == 9_999 and thin == sorted(thin)
    assert views.thin(pts[:10], 1000) == pts[:10]


def test_config_diff_names_only_what_differs():
    a = {"train": {"seed": 1, "lr": 0.1}, "mix": {"replay_fraction": 0.05}}
    b = {"train": {"seed": 2, "lr": 0.1}, "mix": {"replay_fraction": 0.05}, "extra": True}
    assert views.config_diff([a, b]) == [{"key": "extra", "values": ["(absent)", "true"]},
                                         {"key": "train.seed", "values": ["1", "2"]}]


def test_sign_in_sends_the_browser_nowhere_but_this_site():
    assert safe_next("/jobs/abc?x=1") == "/jobs/abc?x=1"
    for bad in ("//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "", None,
                "/ok\r\nSet-Cookie: x=1", "/" + "a" * 600):
        assert safe_next(bad) == "/", bad
