"""The optional experiment trackers: W&B offline and MLflow on a local store get the same steps and
values as metrics.jsonl, with the network blocked; a missing package is one clear error; and turning
a tracker on changes no fingerprint."""

import glob
import json
import socket
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from pipeline.config import MlflowConfig, TrackingConfig, WandbConfig
from pipeline.errors import CptError, InputError
from pipeline.train.contract import decode_spec, encode_spec
from pipeline.train.trackers import INSTALL_HINT, log_summary, mlflow_uri
from train_runner import MEGATRON_NOISE, TRAIN, read_metrics, train_tiny, write_corpus

BOTH = TrackingConfig(wandb=WandbConfig(enabled=True), mlflow=MlflowConfig(enabled=True))
RECORDS = [
    {"kind": "train", "step": 2, "loss": 5.5, "lr": 1e-3, "grad_norm": 1.5, "mfu": None, "tokens": 512},
    {"kind": "eval", "step": 2, "eval_loss": {"old": 5.25, "new": 6.0}},
    {"kind": "train", "step": 4, "loss": 4.75, "lr": 5e-4, "grad_norm": 1.25, "mfu": None, "tokens": 1024},
    {"kind": "eval", "step": 4, "eval_loss": {"old": 5.0, "new": 5.5}},
]
# what the trackers get from RECORDS: name -> [(step, value)]
EXPECTED = {"train/loss": [(2, 5.5), (4, 4.75)], "train/lr": [(2, 1e-3), (4, 5e-4)],
            "train/tokens": [(2, 512), (4, 1024)], "eval_loss/old": [(2, 5.25), (4, 5.0)],
            "eval_loss/new": [(2, 6.0), (4, 5.5)]}


def _is_local(address) -> bool:
    return not isinstance(address, tuple) or address[0] in ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network: a connect from this process to anything but loopback (or a Unix socket) fails and is
    recorded; HTTP(S) clients in any process (W&B's wandb-core too) are sent to a local proxy that
    records whoever connects. Also keeps W&B's caches and the trackers' variables inside the test."""
    attempts = []
    connect = socket.socket.connect

    def guarded(sock, address):
        if not _is_local(address):
            attempts.append(address)
            raise OSError(f"network blocked in this test: {address}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", lambda sock, address: guarded(sock, address) or 0)
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen(8)
    proxy.setblocking(False)
    url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(var, url)
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    for var in ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(tmp_path / "wandb-home" / var.lower()))
    for var in ("WANDB_MODE", "WANDB_SILENT", "WANDB_ERROR_REPORTING", "WANDB_DISABLE_CODE", "WANDB_DISABLE_GIT",
                "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "MLFLOW_ALLOW_FILE_STORE"):
        monkeypatch.setenv(var, "")  # set by the trackers; restored after the test
    yield attempts
    try:
        caller = proxy.accept()[1]
    except BlockingIOError:
        caller = None
    proxy.close()
    assert caller is None, f"something connected to the network (through the proxy) from {caller}"
    assert not attempts, attempts


def _wandb_records(root: Path) -> list:
    """Every record of the one offline W&B run under ``root``, read with wandb's own reader."""
    from wandb.proto import wandb_internal_pb2 as pb
    from wandb.sdk.internal import datastore

    (path,) = glob.glob(str(root / "**" / "offline-run-*" / "run-*.wandb"), recursive=True)
    store = datastore.DataStore()
    store.open_for_scan(path)
    records = []
    while (data := store.scan_data()) is not None:
        record = pb.Record()
        record.ParseFromString(data)
        records.append(record)
    return records


def _items(items) -> dict:
    return {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in items}


def _mlflow_run(uri: str, experiment: str = "cpt"):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name(experiment).experiment_id])
    return client, run


def test_metrics_go_to_wandb_offline_and_mlflow_with_the_network_blocked(offline, tmp_path):
    from pipeline.train.loop import MetricsLog

    out = tmp_path / "train" / "0123abcd.partial"  # a stage's output directory while it runs
    out.mkdir(parents=True)
    log = MetricsLog(out, 0, 4, BOTH, {"model": {"name": "tiny", "num_layers": 2}, "seed": 1234})
    for record in RECORDS:
        log.write(record)
    log.close()

    assert [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()] == RECORDS
    records = _wandb_records(out / "wandb")
    (run,) = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    assert run.display_name == "train-0123abcd" and run.project == "cpt"
    assert _items(run.config.update)["model"] == {"name": "tiny", "num_layers": 2}
    rows = {row["_step"]: row for row in (_items(r.history.item) for r in records if r.HasField("history"))}
    assert {key: [(step, rows[step][key]) for step in sorted(rows)] for key in EXPECTED} == EXPECTED
    assert not any("mfu" in key for row in rows.values() for key in row)  # None: not logged

    client, mlrun = _mlflow_run(mlflow_uri(BOTH.mlflow, out))
    assert Path(out / "mlflow" / "mlflow.db").is_file()
    assert mlrun.info.run_name == "train-0123abcd" and mlrun.info.status == "FINISHED"
    assert mlrun.data.params == {"model.name": "tiny", "model.num_layers": "2", "seed": "1234"}
    history = {key: [(m.step, m.value) for m in client.get_metric_history(mlrun.info.run_id, key)]
               for key in EXPECTED}
    assert history == EXPECTED


def test_log_summary_logs_a_flat_dict_of_final_metrics(offline, tmp_path):
    out = tmp_path / "evaluate" / "feed"
    cfg = TrackingConfig(wandb=WandbConfig(enabled=True, dir=str(tmp_path / "wb"), project="evals"),
                         mlflow=MlflowConfig(enabled=True, tracking_uri=f"sqlite:///{tmp_path}/ml.db",
                                             experiment="evals"))
    log_summary(cfg, out, "evaluate-feed", {"loss/old": 3.25, "forgetting": 0.125, "note": "left out", "ok": True})

    summary = {}
    for record in _wandb_records(tmp_path / "wb"):
        if record.HasField("summary"):
            summary.update(_items(record.summary.update))
    assert summary["loss/old"] == 3.25 and summary["forgetting"] == 0.125 and "note" not in summary
    _, run = _mlflow_run(f"sqlite:///{tmp_path}/ml.db", "evals")
    assert run.info.run_name == "evaluate-feed" and run.data.metrics == {"loss/old": 3.25, "forgetting": 0.125}
    assert not out.exists()  # every file went where the config said


@pytest.mark.parametrize("module, cfg", [
    ("wandb", TrackingConfig(wandb=WandbConfig(enabled=True))),
    ("mlflow.tracking", TrackingConfig(mlflow=MlflowConfig(enabled=True))),
])
def test_a_tracker_enabled_without_its_package_is_one_clear_error(monkeypatch, tmp_path, module, cfg):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError, as when not installed
    monkeypatch.setenv("WANDB_MODE", "")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "")
    with pytest.raises(InputError) as err:
        log_summary(cfg, tmp_path, "x", {"a": 1.0})
    setting = "tracking.wandb.enabled" if module == "wandb" else "tracking.mlflow.enabled"
    assert str(err.value).startswith(f"{setting} is true but the {module} package is not installed")
    assert str(err.value).endswith(f"install it with: {INSTALL_HINT}")
    assert INSTALL_HINT == "pip install 'cpt-pipeline[trackers]'"


def test_disabled_trackers_import_nothing(monkeypatch, tmp_path):
    for module in ("wandb", "mlflow", "mlflow.tracking"):
        monkeypatch.setitem(sys.modules, module, None)
    log_summary(TrackingConfig(), tmp_path, "x", {"a": 1.0})
    log_summary(None, tmp_path, "x", {"a": 1.0})
    log_summary(TrackingConfig(wandb=WandbConfig(enabled=True, mode="disabled")), tmp_path, "x", {"a": 1.0})
    assert not list(tmp_path.iterdir())


def test_the_tracking_settings_reach_a_training_rank():
    """Through the spec a launcher writes for each rank (JSON) and back."""
    spec = json.loads(json.dumps(encode_spec({"out_dir": Path("/x"), "tracking": BOTH})))
    assert decode_spec(spec)["tracking"] == BOTH
    assert decode_spec(encode_spec({"out_dir": Path("/x"), "tracking": None}))["tracking"] is None


def test_config_keys_and_checks():
    from pipeline.compose import compose_config

    cfg = compose_config(["tracking.wandb.enabled=true", "tracking.wandb.entity=team",
                          "tracking.mlflow.enabled=true", "tracking.mlflow.tracking_uri=sqlite:////tmp/m.db"])
    assert cfg.tracking == TrackingConfig(wandb=WandbConfig(enabled=True, entity="team"),
                                          mlflow=MlflowConfig(enabled=True, tracking_uri="sqlite:////tmp/m.db"))
    assert compose_config([]).tracking == TrackingConfig()  # off by default
    for override, expected in [
        ("tracking.wandb.mode=online", "invalid value for 'tracking.wandb.mode': 'online' is not one of offline"),
        ("tracking.mlflow.tracking_uri=http://mlflow:5000", "invalid value for 'tracking.mlflow.tracking_uri'"),
        ("tracking.wandb.bogus=1", "unknown config key 'tracking.wandb.bogus'"),
    ]:
        with pytest.raises(CptError, match=expected):
            compose_config([override])


def _plan(workdir: Path, tracking: TrackingConfig) -> dict:
    from pipeline.chain import Chain
    from pipeline.config import CptConfig, RecipeConfig

    cfg = CptConfig(recipe=RecipeConfig(), workdir=str(workdir), progress=False, tracking=tracking)
    chain = Chain(cfg, plan_only=True)
    chain.report()
    return chain.artifacts()


def test_turning_a_tracker_on_changes_no_fingerprint(tmp_path):
    off = _plan(tmp_path / "work", TrackingConfig())
    on = _plan(tmp_path / "work", TrackingConfig(
        wandb=WandbConfig(enabled=True, project="p", entity="e", dir=str(tmp_path / "wb")),
        mlflow=MlflowConfig(enabled=True, tracking_uri=f"sqlite:///{tmp_path}/m.db", experiment="x")))
    assert {s: a.fingerprint for s, a in on.items()} == {s: a.fingerprint for s, a in off.items()}
    assert {"pretrain", "train", "evaluate"} <= set(off)
    # nor does installing or upgrading the libraries: they are imported in no way the closure follows
    for stage in ("pretrain", "train"):
        versions = off[stage].manifest["library_versions"]
        assert not [d for d in versions if d.startswith(("wandb", "mlflow"))], versions
    assert asdict(TrackingConfig()) == {"wandb": asdict(WandbConfig()), "mlflow": asdict(MlflowConfig())}


@pytest.mark.filterwarnings(*MEGATRON_NOISE)
def test_a_training_run_logs_what_metrics_jsonl_holds(offline, corpus_root, tmp_path):
    """The real loop, in this process: every train and eval record reaches both trackers at its step."""
    out = tmp_path / "train" / "feedbeef.partial"
    train_tiny(write_corpus(corpus_root), out, tracking=BOTH,
               train_cfg=replace(TRAIN, train_iters=6, eval_interval=3, log_interval=3))
    expected = {}
    for record in read_metrics(out):
        for key, value in record.items():
            if key == "eval_loss":
                for domain, loss in value.items():
                    expected.setdefault(f"eval_loss/{domain}", []).append((record["step"], loss))
            elif key == "loss":
                expected.setdefault("train/loss", []).append((record["step"], value))
    assert set(expected) == {"train/loss", "eval_loss/a", "eval_loss/b"} and len(expected["train/loss"]) == 2

    records = _wandb_records(out / "wandb")
    rows = {row["_step"]: row for row in (_items(r.history.item) for r in records if r.HasField("history"))}
    assert {key: [(s, rows[s][key]) for s in sorted(rows) if key in rows[s]] for key in expected} == expected
    client, run = _mlflow_run(mlflow_uri(BOTH.mlflow, out))
    assert run.data.params["model.hidden_size"] == "64" and run.data.params["train_iters"] == "6"
    assert {key: [(m.step, m.value) for m in client.get_metric_history(run.info.run_id, key)]
            for key in expected} == expected
