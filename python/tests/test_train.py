"""photon.train: a 2-worker TorchTrainer that really all-reduces, dataset shards,
checkpoints, failures and restarts — written as a Ray Train user writes them."""
import json
import os
import signal
import tempfile
import time

import pytest

import photon as ray
from photon import train
from photon.train import (Checkpoint, CheckpointConfig, DataParallelTrainer, FailureConfig,
                          RunConfig, ScalingConfig)

torch = pytest.importorskip("torch", reason="torch==2.13.0 is installed by scripts/setup.sh")
from photon.train.torch import TorchTrainer, prepare_data_loader, prepare_model  # noqa: E402

pytestmark = pytest.mark.timeout(240, method="thread")


def _linear_loop(config):
    torch.manual_seed(config.get("seed_per_rank", 0) * train.get_context().get_world_rank())
    model = prepare_model(torch.nn.Linear(1, 1))
    opt = torch.optim.SGD(model.parameters(), lr=config["lr"])
    ctx = train.get_context()
    x = torch.linspace(-1, 1, 64).unsqueeze(1)
    y = 3 * x + 2
    mine = slice(ctx.get_world_rank(), None, ctx.get_world_size())
    start = 0
    checkpoint = train.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as d:
            state = torch.load(os.path.join(d, "model.pt"))
            model.module.load_state_dict(state["model"]) if hasattr(model, "module") else \
                model.load_state_dict(state["model"])
            start = state["epoch"] + 1
    for epoch in range(start, config["epochs"]):
        if epoch == config.get("die_at") and not os.path.exists(config["marker"]):
            open(config["marker"], "w").close()
            # Let the previous report's reply reach the driver first: a process killed
            # while sending it loses that report (and its checkpoint) too.
            time.sleep(0.5)
            os.kill(os.getpid(), signal.SIGKILL)
        loss = torch.nn.functional.mse_loss(model(x[mine]), y[mine])
        opt.zero_grad()
        loss.backward()
        opt.step()
        params = [p.detach().flatten().tolist() for p in model.parameters()]
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, f"params_rank{ctx.get_world_rank()}.json"), "w") as f:
                json.dump(params, f)
            if ctx.get_world_rank() == 0:
                inner = model.module if hasattr(model, "module") else model
                torch.save({"model": inner.state_dict(), "epoch": epoch}, os.path.join(d, "model.pt"))
            train.report({"loss": loss.item(), "epoch": epoch, "start": start},
                         checkpoint=Checkpoint.from_directory(d))


def test_torch_trainer_all_reduces_and_converges(ray_start_regular, tmp_path):
    trainer = TorchTrainer(
        _linear_loop, train_loop_config={"lr": 0.3, "epochs": 25, "seed_per_rank": 7},
        scaling_config=ScalingConfig(num_workers=2),
        run_config=RunConfig(name="linear", storage_path=str(tmp_path)))
    result = trainer.fit()
    assert result.error is None
    assert result.metrics["loss"] < 1e-3
    assert result.metrics["epoch"] == 24
    assert result.path == str(tmp_path / "linear")
    # Both ranks' files were merged into each checkpoint, with identical parameters
    # after every step (different initial seeds: DDP broadcast and all-reduce).
    checkpoints = sorted(p for p in os.listdir(result.path)
                         if p.startswith("checkpoint_") and not p.endswith(".json"))
    assert len(checkpoints) == 25
    for name in checkpoints:
        files = sorted(os.listdir(os.path.join(result.path, name)))
        assert "params_rank0.json" in files and "params_rank1.json" in files
        p0 = json.load(open(os.path.join(result.path, name, "params_rank0.json")))
        p1 = json.load(open(os.path.join(result.path, name, "params_rank1.json")))
        assert p0 == p1
    assert result.checkpoint.path == os.path.join(result.path, checkpoints[-1])
    with result.checkpoint.as_directory() as d:
        assert torch.load(os.path.join(d, "model.pt"))["epoch"] == 24
    assert list(result.metrics_dataframe["epoch"]) == list(range(25))


def test_worker_killed_restarts_group_from_checkpoint(ray_start_regular, tmp_path):
    trainer = TorchTrainer(
        _linear_loop,
        train_loop_config={"lr": 0.3, "epochs": 8, "die_at": 4, "marker": str(tmp_path / "died")},
        scaling_config=ScalingConfig(num_workers=2),
        run_config=RunConfig(name="restart", storage_path=str(tmp_path),
                             failure_config=FailureConfig(max_failures=1)))
    result = trainer.fit()
    assert os.path.exists(tmp_path / "died")
    assert result.metrics["epoch"] == 7
    assert result.metrics["start"] == 4  # resumed after the checkpoint of epoch 3
    assert list(result.metrics_dataframe["epoch"]) == [0, 1, 2, 3, 4, 5, 6, 7]


def test_worker_killed_without_retries_fails(ray_start_regular, tmp_path):
    trainer = TorchTrainer(
        _linear_loop,
        train_loop_config={"lr": 0.3, "epochs": 8, "die_at": 2, "marker": str(tmp_path / "died")},
        scaling_config=ScalingConfig(num_workers=2),
        run_config=RunConfig(name="dies", storage_path=str(tmp_path)))
    with pytest.raises(train.TrainingFailedError) as info:
        trainer.fit()
    assert isinstance(info.value, train.WorkerGroupError)
    assert info.value.worker_failures


def _shard_loop(config):
    ctx = train.get_context()
    ids = []
    for _ in range(2):  # two epochs over the shard
        epoch = []
        for batch in train.get_dataset_shard("train").iter_batches(batch_size=16):
            epoch.extend(int(i) for i in batch["id"])
        ids.append(epoch)
    with open(os.path.join(config["out"], f"rank{ctx.get_world_rank()}.json"), "w") as f:
        json.dump(ids, f)
    train.report({"rows": len(ids[0])})


@pytest.mark.parametrize("ray_start_regular", [{"num_cpus": 4}], indirect=True)
def test_dataset_shards_are_disjoint_and_complete(ray_start_regular, tmp_path):
    # Two CPUs for the workers, two for the dataset's read tasks.
    trainer = DataParallelTrainer(
        _shard_loop, train_loop_config={"out": str(tmp_path)},
        scaling_config=ScalingConfig(num_workers=2),
        datasets={"train": ray.data.range(200, override_num_blocks=8)},
        run_config=RunConfig(name="shards", storage_path=str(tmp_path)))
    trainer.fit()
    r0 = json.load(open(tmp_path / "rank0.json"))
    r1 = json.load(open(tmp_path / "rank1.json"))
    for epoch in range(2):
        assert not set(r0[epoch]) & set(r1[epoch])
        assert sorted(r0[epoch] + r1[epoch]) == list(range(200))
        assert len(r0[epoch]) == len(r1[epoch]) == 100


def _context_loop():
    ctx = train.get_context()
    train.report({"rank": ctx.get_world_rank(), "size": ctx.get_world_size(),
                  "local": ctx.get_local_rank(), "node": ctx.get_node_rank(),
                  "name": ctx.get_experiment_name()})


def test_context_and_no_argument_loop(ray_start_regular, tmp_path):
    result = DataParallelTrainer(_context_loop, scaling_config=ScalingConfig(num_workers=2),
                                 run_config=RunConfig(name="ctx", storage_path=str(tmp_path))).fit()
    assert result.metrics == {"rank": 0, "size": 2, "local": 0, "node": 0, "name": "ctx"}
    assert result.checkpoint is None


def _failing_loop(config):
    if train.get_context().get_world_rank() == 1:
        raise ValueError("bad batch on rank 1")
    train.report({"x": 1})


def test_user_error_is_training_failed_error(ray_start_regular, tmp_path):
    trainer = DataParallelTrainer(_failing_loop, scaling_config=ScalingConfig(num_workers=2),
                                  run_config=RunConfig(name="err", storage_path=str(tmp_path)))
    with pytest.raises(train.TrainingFailedError, match="bad batch on rank 1") as info:
        trainer.fit()
    assert list(info.value.worker_failures) == [1]
    assert isinstance(info.value.worker_failures[1], ValueError)


def _count_loop(config):
    checkpoint = train.get_checkpoint()
    start = 0
    if checkpoint:
        start = checkpoint.get_metadata()["step"] + 1
    for step in range(start, config["steps"]):
        with tempfile.TemporaryDirectory() as d:
            ckpt = Checkpoint.from_directory(d)
            ckpt.set_metadata({"step": step})
            train.report({"step": step, "score": -abs(step - 2)}, checkpoint=ckpt)


def test_num_to_keep_by_score_and_resume_of_same_run(ray_start_regular, tmp_path):
    run_config = RunConfig(name="keep", storage_path=str(tmp_path), checkpoint_config=CheckpointConfig(
        num_to_keep=2, checkpoint_score_attribute="score", checkpoint_score_order="max"))
    result = DataParallelTrainer(_count_loop, train_loop_config={"steps": 5},
                                 run_config=run_config).fit()
    kept = sorted(result.best_checkpoints, key=lambda cm: cm[1]["step"])
    # The best two by score (steps 2 and 3) plus the latest (step 4) are on disk.
    assert [m["step"] for _, m in kept] == [2, 3] or [m["step"] for _, m in kept] == [2, 4]
    assert result.checkpoint.get_metadata() == {"step": 4}
    on_disk = [p for p in os.listdir(result.path)
               if p.startswith("checkpoint_") and not p.endswith(".json")]
    assert len(on_disk) <= 3
    assert result.get_best_checkpoint("score", "max").get_metadata() == {"step": 2}
    # Running again with the same name resumes from the latest checkpoint.
    again = DataParallelTrainer(_count_loop, train_loop_config={"steps": 7},
                                run_config=run_config).fit()
    assert list(again.metrics_dataframe["step"]) == [5, 6]


def test_prepare_data_loader_gives_each_worker_its_part(ray_start_regular, tmp_path):
    def loop(config):
        data = torch.utils.data.TensorDataset(torch.arange(40).float())
        loader = prepare_data_loader(torch.utils.data.DataLoader(data, batch_size=5))
        seen = [int(v) for (batch,) in loader for v in batch]
        with open(os.path.join(config["out"], f"{train.get_context().get_world_rank()}"), "w") as f:
            json.dump(seen, f)
        train.report({"n": len(seen)})

    TorchTrainer(loop, train_loop_config={"out": str(tmp_path)},
                 scaling_config=ScalingConfig(num_workers=2),
                 run_config=RunConfig(name="loader", storage_path=str(tmp_path))).fit()
    a, b = json.load(open(tmp_path / "0")), json.load(open(tmp_path / "1"))
    assert len(a) == len(b) == 20 and sorted(a + b) == list(range(40))


def test_bad_arguments_and_calls_outside_a_run(tmp_path):
    with pytest.raises(ValueError, match="num_workers"):
        ScalingConfig(num_workers=0)
    with pytest.raises(ValueError, match="num_to_keep"):
        CheckpointConfig(num_to_keep=0)
    with pytest.raises(TypeError, match="train_loop_per_worker"):
        DataParallelTrainer(42)
    with pytest.raises(RuntimeError, match="outside"):
        train.report({"x": 1})
    with pytest.raises(RuntimeError, match="outside"):
        train.get_context()


def test_checkpoint_directory_api(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "weights.bin").write_bytes(b"abc")
    ckpt = Checkpoint.from_directory(str(src))
    ckpt.set_metadata({"epoch": 3})
    ckpt.update_metadata({"loss": 0.5})
    assert ckpt.get_metadata() == {"epoch": 3, "loss": 0.5}
    out = ckpt.to_directory(str(tmp_path / "copy"))
    assert open(os.path.join(out, "weights.bin"), "rb").read() == b"abc"
    with ckpt.as_directory() as d:
        assert d == str(src)
    assert "Checkpoint(filesystem=local" in repr(ckpt)


def test_workers_across_two_nodes_get_node_ranks(ray_start_cluster, tmp_path):
    cluster = ray_start_cluster
    cluster.add_node(num_cpus=1)
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    cluster.connect()

    def loop(config):
        ctx = train.get_context()
        model = prepare_model(torch.nn.Linear(2, 1))
        loss = model(torch.ones(4, 2)).sum()
        loss.backward()  # all-reduced across the two nodes' workers
        grads = [p.grad.flatten().tolist() for p in model.parameters()]
        with open(os.path.join(config["out"], f"rank{ctx.get_world_rank()}.json"), "w") as f:
            json.dump({"node": ctx.get_node_rank(), "local": ctx.get_local_rank(),
                       "local_size": ctx.get_local_world_size(), "grads": grads,
                       "node_id": ray.get_runtime_context().get_node_id()}, f)
        train.report({"ok": 1})

    TorchTrainer(loop, train_loop_config={"out": str(tmp_path)},
                 scaling_config=ScalingConfig(num_workers=2, placement_strategy="STRICT_SPREAD"),
                 run_config=RunConfig(name="nodes", storage_path=str(tmp_path))).fit()
    r0 = json.load(open(tmp_path / "rank0.json"))
    r1 = json.load(open(tmp_path / "rank1.json"))
    assert r0["node_id"] != r1["node_id"]
    assert sorted([r0["node"], r1["node"]]) == [0, 1]
    assert r0["local"] == r1["local"] == 0 and r0["local_size"] == r1["local_size"] == 1
    assert r0["grads"] == r1["grads"]
