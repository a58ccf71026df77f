"""The hostile suite: every class of attack on a submitted config, path, artifact or header gets a
4xx; nothing runs, is read or written outside the job's sandbox; a canary secret in the server's
environment appears in no response, log, event or file. Auth: tokens, users, admins, loopback."""

import http.client
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from service_server import CANARY, SMALL_RUN, Server, request, submit, token, wait_state

pytestmark = pytest.mark.slow
MARKER = f"/tmp/cpt-pwned-{uuid.uuid4().hex}"  # an attack that ran would create it
RESPONSES: list[str] = []  # every body the server sent back: none may hold the canary


def call(server, method, path, body=None, token=None, **kw):
    status, payload = request(server, method, path, body, token, **kw)
    RESPONSES.append(str(payload))
    return status, payload


def raw_get(server, path: str, token: str) -> tuple[int, str]:
    """A GET with the path exactly as written (no client-side normalization of '..' or escapes)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.putheader("Authorization", f"Bearer {token}")
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    RESPONSES.append(body)
    return resp.status, body


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    root = tmp_path_factory.mktemp("sec")
    workdir, data = root / "work", root / "data"
    data.mkdir()
    (data / "ok.jsonl").write_text('{"text": "hello"}\n')
    os.symlink("/etc", data / "link")  # a symlink out of the data root
    task = "task: t\ndataset_path: json\ntest_split: test\ndoc_to_choice: \"{{ c }}\"\ndoc_to_target: 0\n"
    (data / "outside_task.yaml").write_text(task + "dataset_kwargs: {data_files: {test: /etc/hostname}}\n")
    (data / "code_task.yaml").write_text(task + "dataset_kwargs: {data_files: {test: ok.jsonl}}\n"
                                         "doc_to_text: !function os.system\n")
    (data / "ssti_task.yaml").write_text(task + "dataset_kwargs: {data_files: {test: ok.jsonl}}\n"
                                         "doc_to_text: \"{{ c.__class__.__mro__ }}\"\n")
    for name, meta in (("ckpt_tok_outside", {"tokenizer_path": "/etc/hostname"}),
                       ("ckpt_dir_outside", {"tokenizer_dir": "../../../etc"})):  # export-hf copies it out
        (data / name).mkdir()
        (data / name / "checkpoint_meta.json").write_text(json.dumps({"model": {}, "vocab_size": 8, **meta}))
    tokens = {name: token(workdir, name, admin=name == "root") for name in ("alice", "bob", "root", "gone")}
    subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", "token", "revoke", "gone", f"workdir={workdir}"],
                   check=True, capture_output=True)
    server = Server(workdir, "service.auth=on", f"service.data_roots=[{data}]", "service.max_body_kb=64").start()
    job_id = submit(server, "run", SMALL_RUN[:2] + ["train.train_iters=5", "base_model.pretrain_iters=5",
                                                      "evaluate.max_samples=4", "recipe.extraction.timeout=10"],
                    token=tokens["alice"])
    done = wait_state(server, job_id, token=tokens["alice"], timeout=600)
    assert done["state"] == "succeeded", done["error"]
    os.symlink("/etc/passwd", workdir / "report" / done["stages"][-1]["fingerprint"] / "passwd")
    yield server, tokens, job_id, data, workdir
    server.stop()


BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" \
       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"


def hostile_submissions(data: Path) -> list[tuple[str, dict]]:
    """(class, submission): each must be refused with a 4xx."""
    env = "${oc.env:CPT_CANARY_SECRET}"
    ablate = lambda grid: {"command": "ablate", "config": "ablate:\n  grid:\n    " + grid + "\n"}  # noqa: E731
    run = lambda *o, config=None: {"command": "run", "overrides": list(o), **({"config": config} if config else {})}  # noqa: E731
    return [
        ("instantiate: _target_ in an override", run(f"+x={{_target_: os.system, _args_: ['touch {MARKER}']}}")),
        ("instantiate: _target_ in a config file", run(config="train:\n  _target_: subprocess.call\n")),
        ("instantiate: _target_ in a list", run(config="mix:\n  extra_sources:\n    - _target_: os.system\n")),
        ("instantiate: _partial_", run("+x={_partial_: true}")),
        ("hydra: callbacks", run("+hydra.callbacks.x._target_=os.system")),
        ("hydra: launcher group", run("hydra/launcher=submitit_slurm")),
        ("hydra: job settings", run("+hydra.job.chdir=true")),
        ("hydra: run dir in a config file", run(config="hydra:\n  run:\n    dir: /tmp\n")),
        ("hydra: launcher in config defaults", run(config="defaults:\n  - override /hydra/launcher: basic\n")),
        ("resolver: oc.env in an override", run(f"sample.dump={env}")),
        ("resolver: oc.env quoted", run(f"sample.dump='{env}'")),
        ("resolver: oc.env in a config file", run(config=f"sample:\n  dump: \"{env}\"\n")),
        ("resolver: oc.env nested", run("sample.dump=x${oc.select:${oc.env:CPT_CANARY_SECRET}}")),
        ("resolver: oc.decode", run("sample.dump=${oc.decode:'1'}")),
        ("resolver: hydra", run("sample.dump=${hydra:runtime.cwd}")),
        ("resolver: now", run("sample.dump=${now:%Y}")),
        ("resolver: in a key", run(config="ablate:\n  grid:\n    '${oc.env:HOME}': [1]\n")),
        ("policy: workdir", run("workdir=/tmp/evil")),
        ("policy: workdir in a config file", run(config="workdir: /tmp/evil\n")),
        ("policy: delete workdir", run("~workdir")),
        ("policy: code_version", run("code_version=closure")),
        ("policy: service settings", run("service.data_roots=[/]")),
        ("policy: slurm venv", run("cluster.slurm.venv=/tmp/evil")),
        ("policy: slurm sbatch args", run(f"cluster.slurm.sbatch_args={{wrap: 'touch {MARKER}'}}")),
        ("policy: slurm container mounts", run("cluster.slurm.container_mounts=/:/host")),
        ("policy: slurm container image", run("cluster.slurm.container_image=/tmp/evil.sqsh")),
        ("policy: slurm account", run("cluster.slurm.account=finance")),
        ("policy: slurm qos", run("cluster.slurm.qos=high")),
        ("policy: slurm partition", run("cluster.slurm.partition=gpu")),
        ("policy: slurm subtree", run("cluster.slurm={venv: /tmp/evil}")),
        ("policy: slurm in a config file", run(config="cluster:\n  slurm:\n    venv: /tmp/evil\n")),
        ("policy: ray address", run("cluster.ray.address=10.0.0.1:6379")),
        ("policy: executor not offered", run("cluster=slurm")),
        ("policy: ablation axis on workdir", {"command": "ablate", "config": "ablate:\n  grid:\n    workdir: [/tmp/x]\n"}),
        ("policy: ablation axis on slurm venv",
         {"command": "ablate", "config": "ablate:\n  grid:\n    cluster.slurm.venv: [/tmp/x]\n"}),
        ("path: input outside data roots", run("curate.input.paths=[/etc/passwd]")),
        ("path: replay outside data roots", run("replay.paths=[/root]")),
        ("path: HF model outside", run("base_model.hf=/etc")),
        ("path: checkpoint with ..", run("base_model.checkpoint=../../../etc")),
        ("path: tokenizer outside", run("tokenizer.path=/etc/shadow")),
        ("path: language model outside", run("recipe.filters.language.model_path=/etc/hosts")),
        ("path: eval set outside", run("evaluate.new_valid=/etc/x")),
        ("path: extra source outside", run("mix.extra_sources=[{prefix: /etc/x}]")),
        ("path: eval task data outside", run("+evaluate.tasks.domain.arc_easy=/etc/hostname")),
        ("path: eval task file outside", run("evaluate.tasks.general={mine: /etc/x.yaml}")),
        ("path: eval task file naming data outside", run(f"+evaluate.tasks.domain.t={data}/outside_task.yaml")),
        ("task file: code (!function)", run(f"+evaluate.tasks.domain.t={data}/code_task.yaml")),
        ("task file: template reaching Python internals", run(f"+evaluate.tasks.domain.t={data}/ssti_task.yaml")),
        ("policy: tracker files", run("tracking.wandb.dir=/tmp/evil")),
        ("policy: tracker store", run("tracking.mlflow.tracking_uri=/tmp/evil.db")),
        ("path: .. out of a data root", run(f"curate.input.paths=[{data}/../../etc]")),
        ("path: glob climbing out", run(f"curate.input.paths=['{data}/*/../../etc/*']")),
        ("path: symlink out of a data root", run(f"curate.input.paths=[{data}/link/passwd]")),
        ("path: ablation axis on paths", {"command": "ablate", "config": "ablate:\n  grid:\n    replay.paths: [[/etc]]\n"}),
        ("ablate: ++ axis on an input path", ablate("'++curate.input.paths': [[/etc]]")),
        ("ablate: ++ axis on workdir", ablate("'++workdir': [/tmp/x]")),
        ("ablate: ~ axis", ablate("'~workdir': [null]")),
        ("ablate: executor axis", ablate("cluster.executor: [slurm]")),
        ("ablate: axis on the parent of a path", ablate("curate.input: [{paths: [/etc]}]")),
        ("ablate: axis on a group, unknown option", ablate("recipe: ['../experiment/continue_hf_on_slurm']")),
        ("ablate: recipe traversal", {"command": "ablate",
                                      "config": "ablate:\n  recipes: ['../experiment/continue_hf_on_slurm']\n"}),
        ("ablate: a hundred million runs", ablate("".join(f"\n    train.a{i}: [{','.join(map(str, range(100)))}]"
                                                          for i in range(4)).lstrip())),
        ("config file: another submission's, selected", run("+config_file=submitted")),
        ("config file: another submission's, in defaults", run(config="defaults:\n  - override /config_file: submitted\n")),
        ("path: a folder holding a symlink out", run(f"curate.input.paths=[{data}]")),
        ("path: a glob through a symlinked folder", run(f"curate.input.paths=['{data}/*/passwd']")),
        ("group: option path traversal", run("recipe=../../etc/passwd")),
        ("group: option traversal in defaults", run(config="defaults:\n  - override /recipe: ../../x\n")),
        ("group: package override", run("recipe@train=fineweb")),
        ("yaml: alias bomb", run(config=BOMB)),
        ("yaml: python tag", run(config="x: !!python/object/apply:os.system ['id']\n")),
        ("yaml: not a mapping", run(config="- a\n- b\n")),
        ("yaml: too deep", run(config="a: " + "[" * 200 + "]" * 200 + "\n")),
        ("flags: config dir", run("--config-dir=/etc")),
        ("flags: multirun", run("-m", "train.seed=1,2")),
        ("flags: sweep", run("train.seed=1,2")),
        ("command: unknown", {"command": "rm", "overrides": ["-rf", "/"]}),
        ("command: tool", {"command": "doctor", "overrides": []}),
        ("import-hf: source outside", {"command": "import-hf", "overrides": ["/etc", "x"]}),
        ("export-hf: dest climbing out", {"command": "export-hf", "overrides": [f"{data}/ok.jsonl", "../../x"]}),
        ("export-hf: absolute dest", {"command": "export-hf", "overrides": [f"{data}/ok.jsonl", "/tmp/x"]}),
        ("export-hf: tokenizer outside", {"command": "export-hf", "overrides": [f"{data}/ok.jsonl", "x", "--tokenizer", "/etc/x"]}),
        ("export-hf: a checkpoint naming a tokenizer outside", {"command": "export-hf",
                                                                "overrides": [f"{data}/ckpt_tok_outside", "x"]}),
        ("export-hf: a checkpoint naming a tokenizer folder outside", {"command": "export-hf",
                                                                       "overrides": [f"{data}/ckpt_dir_outside", "x"]}),
        ("export-hf: unknown flag", {"command": "export-hf", "overrides": [f"{data}/ok.jsonl", "x", "--exec", "id"]}),
        ("value: control characters", run("sample.dump=a\x00b")),
        ("body: overrides not strings", {"command": "run", "overrides": [1, 2]}),
        ("body: unknown field", {"command": "run", "overrides": [], "workdir": "/tmp"}),
        ("body: too many overrides", run(*[f"train.seed={i}" for i in range(201)])),
        ("body: override too long", run("sample.dump=" + "x" * 5000)),
    ]


def test_every_hostile_submission_is_refused_and_nothing_runs(secured):
    server, tokens, _, data, workdir = secured
    cases = hostile_submissions(data)
    accepted = []
    for name, body in cases:
        for path in ("/jobs/validate", "/jobs"):
            status, payload = call(server, "POST", path, body, tokens["bob"])
            if not 400 <= status < 500:
                accepted.append((name, path, status, payload))
    assert not accepted
    assert not os.path.exists(MARKER)
    status, jobs = call(server, "GET", "/jobs", token=tokens["bob"])
    assert jobs == []  # nothing was queued
    print(f"\nhostile submissions refused: {len(cases)} classes x 2 endpoints")


def test_task_files_are_refused_for_what_they_are(secured):
    """Each hostile task file is refused for its own reason, named in the reply."""
    server, tokens, _, data, _ = secured
    expect = {"outside_task.yaml": "/etc/hostname is outside the folders", "code_task.yaml": "task files are data",
              "ssti_task.yaml": "attribute '__mro__' is not allowed"}
    for name, reason in expect.items():
        body = {"command": "run", "overrides": [f"+evaluate.tasks.domain.t={data}/{name}"]}
        status, payload = call(server, "POST", "/jobs/validate", body, tokens["bob"])
        assert status == 422 and reason in json.dumps(payload), (name, payload)


def test_a_task_name_is_never_a_path(secured, tmp_path):
    """A task's name picks a shipped YAML: as a path it would read any YAML on the server and name its keys."""
    server, tokens, _, data, _ = secured
    (tmp_path / "secret.yaml").write_text("password_hint: x\n")
    body = {"command": "run", "config": f"evaluate:\n  tasks:\n    domain:\n      {tmp_path}/secret: {data}/ok.jsonl\n"}
    status, payload = call(server, "POST", "/jobs/validate", body, tokens["bob"])
    assert status == 422 and "is not a name" in json.dumps(payload) and "password_hint" not in json.dumps(payload)


def test_a_page_rebound_to_loopback_is_refused(secured):
    """DNS rebinding: the browser sends the attacker's name as Host; a loopback server answers only to its own."""
    server, tokens, *_ = secured
    for host, expect in (("rebind.example:%d", 421), ("127.0.0.1:%d", 200), ("localhost:%d", 200), ("[::1]:%d", 200)):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.putrequest("GET", "/api/v1/jobs", skip_host=True)
        conn.putheader("Host", host % server.port)
        conn.putheader("Authorization", f"Bearer {tokens['bob']}")
        conn.endheaders()
        resp = conn.getresponse()
        RESPONSES.append(resp.read().decode())
        assert resp.status == expect, host


def test_a_body_over_the_limit_is_413_and_a_lying_content_length_too(secured):
    server, tokens, *_ = secured
    big = {"command": "run", "overrides": [], "config": "x: " + "y" * 100_000}
    assert call(server, "POST", "/jobs", big, tokens["bob"])[0] == 413
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("POST", "/api/v1/jobs")
    conn.putheader("Authorization", f"Bearer {tokens['bob']}")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Transfer-Encoding", "chunked")  # no Content-Length: counted as it arrives
    conn.endheaders()
    chunk = b'{"command": "run", "config": "' + b"y" * 100_000 + b'"}'
    conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
    assert conn.getresponse().status == 413


def test_tokens_users_and_admins(secured):
    server, tokens, job_id, *_ = secured
    assert call(server, "GET", "/jobs")[0] == 401
    assert call(server, "GET", "/jobs", token="cpt_" + "x" * 43)[0] == 401
    assert call(server, "GET", "/jobs", token=tokens["gone"])[0] == 401  # revoked
    assert call(server, "GET", "/jobs", headers={"Authorization": "Basic YWxpY2U6eA=="})[0] == 401
    assert call(server, "GET", f"/jobs/{job_id}", token=tokens["alice"])[0] == 200
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/log", f"/jobs/{job_id}/events?follow=false",
                 f"/jobs/{job_id}/artifacts", f"/jobs/{job_id}/artifacts/report/report.html"):
        assert call(server, "GET", path, token=tokens["bob"])[0] == 404, path  # another user's job does not exist
    assert call(server, "POST", f"/jobs/{job_id}/cancel", token=tokens["bob"])[0] == 404
    assert call(server, "POST", f"/jobs/{job_id}/retry", token=tokens["bob"])[0] == 404
    assert call(server, "GET", "/jobs", token=tokens["bob"])[1] == []
    assert call(server, "GET", "/jobs?user=alice", token=tokens["bob"])[0] == 403
    status, all_jobs = call(server, "GET", "/jobs?user=alice", token=tokens["root"])
    assert status == 200 and [j["id"] for j in all_jobs] == [job_id]
    assert call(server, "GET", f"/jobs/{job_id}", token=tokens["root"])[0] == 200


def test_artifact_paths_stay_inside_the_jobs_outputs(secured):
    server, tokens, job_id, _, workdir = secured
    t = tokens["alice"]
    base = f"/api/v1/jobs/{job_id}/artifacts"
    assert raw_get(server, f"{base}/report/report.html", t)[0] == 200
    for path in ("report/../../service.sqlite", "report/%2e%2e/%2e%2e/service.sqlite", "report/..%2f..%2fservice.sqlite",
                 "report/%252e%252e/service.sqlite", "report/passwd", "report//etc/passwd", "../jobs",
                 "outputs/../../../service.sqlite", "nostage/x", "report/%00", "train/../report/report.html/.."):
        status, body = raw_get(server, f"{base}/{path}", t)
        assert status == 404 and "root:" not in body, (path, status)
    status, listing = call(server, "GET", f"/jobs/{job_id}/artifacts", token=t)
    assert not any(f["path"].endswith("passwd") for f in listing["files"])  # a symlink out is not listed
    assert raw_get(server, "/api/v1/jobs/..%2F..%2Fservice.sqlite", t)[0] == 404
    assert raw_get(server, "/api/v1/runs/report/..%2F..%2F..", t)[0] == 404


def test_the_canary_secret_appears_in_no_response_log_event_or_file(secured):
    """Runs last in this module (pytest keeps file order): after every attack and a real job."""
    server, tokens, job_id, _, workdir = secured
    status, events = call(server, "GET", f"/jobs/{job_id}/events?follow=false", token=tokens["alice"])
    assert status == 200 and "succeeded" in events
    assert RESPONSES and not [r for r in RESPONSES if CANARY in r]
    leaks = []
    for p in [*workdir.rglob("*"), server.log]:
        if p.is_file() and not p.is_symlink() and CANARY.encode() in p.read_bytes():
            leaks.append(str(p))
    assert not leaks


def test_the_server_refuses_to_listen_off_loopback_without_auth(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "serve", f"workdir={tmp_path}", "service.host=0.0.0.0",
                          "service.auth=off"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "refuses to listen off loopback without auth" in out.stderr
    from pipeline.service.auth import auth_enabled

    assert auth_enabled("auto", "0.0.0.0") and not auth_enabled("auto", "127.0.0.1") and auth_enabled("on", "::1")
