import json
import math
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from synthdet_tf.training import distribute, precision
from synthdet_tf.training.callbacks import StopOnNaN, per_source_metrics
from synthdet_tf.data.discovery import discover, split_of
from synthdet_tf.training.train import DONE, make_optimizer, train_and_evaluate


@pytest.fixture
def config(tiny_folder):
    from synthdet_configs.tiny import get_config

    c = get_config()
    c.data.data_dir = str(tiny_folder)
    c.data.fractions = (0.7, 0.3, 0.0)
    c.train.epochs = 2
    c.train.backup_every_steps = 2
    c.train.max_train_images = 0
    c.train.max_val_images = 0
    c.train.verbose = 0
    return c


def test_train_writes_a_complete_run_and_refuses_to_overwrite_it(config, tmp_path):
    workdir = str(tmp_path / "run")
    results = train_and_evaluate(config, workdir)
    assert {"accuracy", "auc", "loss"} <= set(results)
    for name in ("config.json", "versions.json", "data_summary.json", "best.keras", "final.keras", "log.csv", "per_source_val.csv", DONE):
        assert os.path.exists(os.path.join(workdir, name)), name
    assert json.load(open(os.path.join(workdir, "config.json")))["resolved"]["precision_policy"] == "float32"
    assert len(open(os.path.join(workdir, "log.csv")).read().splitlines()) == 1 + config.train.epochs
    with pytest.raises(FileExistsError, match="--overwrite"):
        train_and_evaluate(config, workdir)
    train_and_evaluate(config, workdir, overwrite=True)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_step):
        super().__init__()
        self.at_step = at_step

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.at_step:
            raise KeyboardInterrupt("simulated kill")


class StepAtStart(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.step = int(self.model.optimizer.iterations.numpy())


def test_killed_run_resumes_from_its_backup_not_from_step_zero(config, tmp_path):
    workdir = str(tmp_path / "run")
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate(config, workdir, extra_callbacks=[Interrupt(at_step=5)])
    assert not os.path.exists(os.path.join(workdir, DONE))
    probe = StepAtStart()
    train_and_evaluate(config, workdir, extra_callbacks=[probe])
    assert probe.step == 4  # the last backup (every 2 steps) before the kill at step 5
    assert os.path.exists(os.path.join(workdir, DONE))


def test_nan_loss_stops_with_a_clear_error():
    with pytest.raises(FloatingPointError, match="lr"):
        StopOnNaN().on_train_batch_end(3, {"loss": float("nan")})
    StopOnNaN().on_train_batch_end(3, {"loss": 0.5})


def test_per_source_metrics_known_values():
    labels = np.array([0, 0, 1, 1, 1, 0])
    logits = np.array([-2.0, 1.0, 2.0, 3.0, -1.0, -3.0])
    sources = np.array(["both", "both", "both", "both", "gen", "cam"])
    rows = {r["source"]: r for r in per_source_metrics(labels, logits, sources)}
    assert rows["both"]["accuracy"] == 1.0 - 1 / 4 and rows["both"]["auc"] == 1.0
    # one-class sources are scored against every image of the other class
    assert rows["gen"]["accuracy"] == 0.0 and rows["gen"]["auc"] == pytest.approx(2 / 3)
    assert rows["cam"]["classes"] == "REAL" and rows["cam"]["auc"] == 1.0


def test_schedule_warms_up_then_decays():
    from ml_collections import ConfigDict

    opt = make_optimizer(ConfigDict({"lr": 1e-3, "warmup_steps": 10, "min_lr_ratio": 0.1, "weight_decay": 0.0, "clipnorm": 1.0}), 110)
    schedule = opt._learning_rate  # noqa: SLF001
    assert float(schedule(0)) == 0.0 and math.isclose(float(schedule(10)), 1e-3, rel_tol=1e-5)
    assert float(schedule(5)) < float(schedule(10)) > float(schedule(60)) > float(schedule(110))
    assert math.isclose(float(schedule(110)), 1e-4, rel_tol=1e-4)
    assert opt.global_clipnorm == 1.0


def test_precision_and_distribution_choices():
    assert precision.resolve("auto", "tiny") == "float32"
    assert precision.resolve("auto", "efficientnet_lite0") == "float32"  # bf16 measured slower for it
    assert precision.resolve("auto", "resnet18") == ("mixed_bfloat16" if precision.cpu_has_bf16() else "float32")
    with pytest.raises(ValueError, match="fp8"):
        precision.resolve("fp8")
    assert distribute.resolve("auto") == "none"
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.make_strategy("multi_worker")


def test_synthdet_train_end_to_end_on_real_dev_data(shared_dev, tmp_path):
    """The tiny config through the console script on a small real subset of the dev set."""
    workdir = tmp_path / "tiny_run"
    cmd = [sys.executable, "-m", "synthdet_scripts.train", "--config=configs/tiny.py", f"--workdir={workdir}", f"--data_dir={shared_dev}"]
    result = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "validation: accuracy" in result.stdout
    done = json.load(open(workdir / DONE))
    assert done["steps"] == 32  # 256 training images / batch 8, one epoch
    sources = {line.split(",")[1] for line in open(workdir / "per_source_val.csv").read().splitlines()[1:]}
    assert "NiharikaPanda09/CIFakeImage" in sources and len(sources) >= 4


def free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_train_to_identical_weights(tiny_folder, tmp_path):
    """MultiWorkerMirroredStrategy: two CPU processes on 127.0.0.1, one tiny run."""
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    workdir = tmp_path / "mw"
    cmd = [
        sys.executable, "-m", "synthdet_scripts.train", "--config=configs/tiny.py", f"--workdir={workdir}",
        f"--data_dir={tiny_folder}", "--config.distribution=multi_worker", "--config.train.epochs=2",
        "--config.train.max_train_images=0", "--config.train.max_val_images=0", "--config.data.fractions=(0.5, 0.5, 0.0)",
        "--config.data.batch_size=4",
    ]
    procs = [
        subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})},
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n\n".join(o[-3000:] for o in outputs)
    chief = keras.models.load_model(workdir / "final.keras")
    other = keras.models.load_model(workdir / "worker_1" / "final.keras")
    # Gradients are all-reduced, so trainable weights agree exactly; BatchNorm's
    # moving statistics are each worker's own (the chief's are the run's).
    for a, b in zip(chief.trainable_weights, other.trainable_weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    n_train = sum(split_of(r.relpath, (0.5, 0.5, 0.0)) == "train" for r in discover(str(tiny_folder)).records)
    assert json.load(open(workdir / DONE))["steps"] == 2 * (n_train // 4)  # full batches only
