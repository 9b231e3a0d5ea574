"""Do the exported files behave like the Keras model? Size, latency and agreement on the test split.

Per format: file size (the .keras file also holds the optimizer state, so
sizes are compared with the float32 weights); single-image latency (median of 50 after 5 warm-up
runs) at 1 and 2 threads for TFLite, at TensorFlow's default threads for
Keras and the SavedModel (TF's thread pools are fixed once it starts);
max |delta fake probability| against the Keras model over every test image;
accuracy at the stored threshold and average precision, next to Keras's.
"""

import os
import time

import numpy as np
from sklearn.metrics import average_precision_score

from synthdet_tf.evaluate import calibration as calib
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.detect import layout
from synthdet_tf.detect.backends import KerasBackend, SavedModelBackend, TFLiteBackend

N_RUNS, N_WARMUP = 50, 5


def median_seconds(fn, x, runs, warmup):
    """Median wall time of fn(x) over `runs` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn(x)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def median_latency_ms(fn, image) -> float:
    return 1000 * median_seconds(fn, image, N_RUNS, N_WARMUP)


def split_records(backend, data_dir):
    from synthdet_tf.evaluate.report import discover_as_trained

    found, _ = discover_as_trained(backend, data_dir or backend.train_config()["data"]["data_dir"])
    return found.split("test")


def run(workdir: str, written: dict, data_dir=None) -> list[dict]:
    keras_backend = KerasBackend(workdir)
    records = split_records(keras_backend, data_dir)
    labels = np.array([r.label for r in records])
    cal = keras_backend.calibration
    image = np.zeros((1, keras_backend.spec.image_size, keras_backend.spec.image_size, 3), np.uint8) + 128

    def row(name, backend, size, latencies):
        logits = predict_logits(backend, records, desc=name)
        probs = calib.sigmoid(logits, cal["temperature"])
        return {"format": name, "bytes": size, **latencies, "probs": probs,
                "accuracy": float(np.mean((probs >= cal["threshold"]) == labels)), "ap": float(average_precision_score(labels, probs))}

    rows = [row("keras_float32", keras_backend, os.path.getsize(keras_backend.path),
                {"latency_ms_default_threads": median_latency_ms(keras_backend.logits, image)})]
    if "saved_model" in written:
        sm = SavedModelBackend(written["saved_model"]["path"])
        rows.append(row("saved_model", sm, layout.dir_bytes(sm.path), {"latency_ms_default_threads": median_latency_ms(sm.logits, image)}))
    for fmt, info in written.items():
        if fmt.startswith("tflite"):
            lat = {f"latency_ms_{t}_threads": median_latency_ms(TFLiteBackend(info["path"], num_threads=t).logits, image) for t in (1, 2)}
            rows.append(row(fmt, TFLiteBackend(info["path"], num_threads=2), info["bytes"], lat))
    base = rows[0]["probs"]
    weights = sum(int(np.prod(w.shape)) * 4 for w in keras_backend.model.weights)
    for r in rows:
        probs = r.pop("probs")
        delta = np.abs(probs - base)
        r["max_abs_delta_prob"] = float(delta.max())
        r["p99_abs_delta_prob"] = float(np.quantile(delta, 0.99))
        r["same_label"] = float(np.mean((probs >= cal["threshold"]) == (base >= cal["threshold"])))
        r["size_vs_float32_weights"] = r["bytes"] / weights
        r["n"] = len(records)
    return rows


def format_rows(rows) -> str:
    f = lambda r, k: f"{r[k]:.1f}" if k in r else "-"  # noqa: E731
    lines = [
        f"Test split: {rows[0]['n']} images. Latency: one image, median of {N_RUNS}.",
        "",
        "| format | size (MB) | size vs float32 weights | latency 1 thread (ms) | latency 2 threads (ms) | latency TF default (ms) "
        "| max abs delta p vs Keras | 99th pct abs delta p | same label as Keras | accuracy | AP |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['format']} | {r['bytes'] / 1e6:.2f} | {r['size_vs_float32_weights']:.3f} | {f(r, 'latency_ms_1_threads')} | "
            f"{f(r, 'latency_ms_2_threads')} | {f(r, 'latency_ms_default_threads')} | {r['max_abs_delta_prob']:.4f} | "
            f"{r['p99_abs_delta_prob']:.4f} | {r['same_label']:.4f} | {r['accuracy']:.4f} | {r['ap']:.4f} |"
        )
    return "\n".join(lines) + "\n"
