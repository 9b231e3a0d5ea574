"""Scores a whole-image model, a local model and their fusions side by side (issue 16's candidate table).

Every coefficient and threshold is fitted on the validation split of the
training folders; the test split gives the in-distribution numbers (dev test,
per folder, real faces) and the external folder the numbers that decide.
"""

import json
import os

import numpy as np

from synthdet_tf.data.discovery import FAKE, REAL, discover
from synthdet_tf.evaluate import calibration, external, metrics
from synthdet_tf.lab import fusion
from synthdet_tf.lab.generalization import is_face
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.detect.fused import fuse
from synthdet_tf.detect.views import pool_logits


def _records(backend, data_dir, split):
    d = backend.train_config()["data"]
    found = discover(data_dir, fractions=tuple(d["fractions"]), salt=d["split_salt"], source_from=d["source_from"])
    held = set(d.get("held_out_sources") or ())
    return [r for r in found.split(split) if r.source not in held]


def has_crop(sizes, crop: int) -> np.ndarray:
    """Whether each (width, height) holds one native crop of the local stream."""
    return np.array([min(w, h) >= crop for w, h in sizes])


def _sizes(records):
    return [(r.info.width, r.info.height) for r in records]


def _test_checks(records, logits, threshold, face_sources) -> dict:
    labels = np.array([r.label for r in records])
    probs = calibration.sigmoid(logits)
    out = {"test": metrics.binary_metrics(labels, probs, threshold)["balanced_accuracy"]}
    for folder in sorted({r.relpath.split("/", 1)[0] for r in records}):
        idx = np.array([r.relpath.startswith(folder + "/") for r in records])
        out[f"test_{folder}"] = metrics.binary_metrics(labels[idx], probs[idx], threshold)["balanced_accuracy"]
    faces = np.array([is_face(r, face_sources) and r.label == REAL for r in records])
    out["real_faces_recall"] = float(np.mean(probs[faces] < threshold)) if faces.any() else float("nan")
    fake_faces = np.array([is_face(r, face_sources) and r.label == FAKE for r in records])
    out["fake_faces_recall"] = float(np.mean(probs[fake_faces] >= threshold)) if fake_faces.any() else float("nan")
    return out


def _external_pooled(backend, folder):
    checked = external.check(backend, folder)
    return {r: np.array([pool_logits(v) for v in checked["view_logits"][r]]) for r in external.READINGS}


def compare(whole_path: str, local_path: str, data_dir: str, external_dir: str, output_dir: str, overwrite: bool = False) -> dict:
    from synthdet_tf.detect.backends import load_backend

    out_json = os.path.join(output_dir, "fusion.json")
    if os.path.exists(out_json) and not overwrite:
        raise FileExistsError(f"{out_json} exists; choose another --output_dir or pass --overwrite")
    whole, local = load_backend(whole_path), load_backend(local_path)
    crop, face_sources = local.spec.image_size, tuple(local.train_config()["data"].get("face_sources") or ())
    val, test = _records(local, data_dir, "val"), _records(local, data_dir, "test")
    labels = np.array([r.label for r in val])
    z = {name: {"val": predict_logits(b, val, desc=f"{name} val"), "test": predict_logits(b, test, desc=f"{name} test"),
                **_external_pooled(b, external_dir)} for name, b in (("whole", whole), ("local", local))}
    images = external.load_folder(external_dir)
    ext_sizes = [_image_size(im.path) for im in images]
    sizes = {"val": _sizes(val), "test": _sizes(test), **{r: ext_sizes for r in external.READINGS}}
    big = has_crop(sizes["val"], crop)
    rows = {}
    # Each stream alone: the whole-image model at its stored threshold (the shipped numbers), the
    # local one at a threshold chosen on the validation images it can crop.
    stored = whole.calibration if whole.calibration.get("chosen_on") else calibration.calibrate(labels, z["whole"]["val"])
    rows["whole"] = _row(stored, z["whole"], images, test, face_sources)
    rows["local"] = _row(calibration.calibrate(labels[big], z["local"]["val"][big]), z["local"], images, test, face_sources)
    for rule in fusion.RULES:
        params = fusion.fit(rule, labels[big], z["whole"]["val"][big], z["local"]["val"][big])
        params["local_neutral"] = float(np.mean(z["local"]["val"][big]))
        fused = {k: fuse(params, z["whole"][k], z["local"][k], has_crop(sizes[k], crop)) for k in sizes}
        cal = calibration.calibrate(labels, fused["val"])
        rows[f"fused_{rule}"] = {**_row(cal, fused, images, test, face_sources), "params": params}
    result = {"whole": whole_path, "local": local_path, "data_dir": data_dir, "external": external_dir,
              "n_val": len(val), "n_test": len(test), "rows": rows}
    os.makedirs(output_dir, exist_ok=True)
    with open(out_json, "w") as f:
        json.dump(result, f, indent=2, default=float)
    with open(os.path.join(output_dir, "fusion.md"), "w") as f:
        f.write(format_markdown(result))
    return result


def _image_size(path):
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def _row(cal, z, images, test, face_sources) -> dict:
    t = cal["threshold"]
    row = {"threshold": t, "calibration": cal, **{r: external.summarize(images, calibration.sigmoid(z[r]), t) for r in external.READINGS}}
    return {**row, **_test_checks(test, z["test"], t, face_sources)}


def format_markdown(result: dict) -> str:
    lines = [f"Whole-image model {result['whole']}, local model {result['local']}; coefficients and thresholds fitted on "
             f"{result['n_val']} validation images; test split {result['n_test']} images.", "",
             "| candidate | external as-is bal. acc. | AUC | matched bal. acc. | AUC | test bal. acc. | real faces recall |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in result["rows"].items():
        a, m = r["as_is"], r["matched"]
        lines.append(f"| {name} | {a['macro_balanced_accuracy']:.3f} | {a['pooled_auc']:.3f} | {m['macro_balanced_accuracy']:.3f} | "
                     f"{m['pooled_auc']:.3f} | {r['test']:.3f} | {r['real_faces_recall']:.3f} |")
    gens = list(next(iter(result["rows"].values()))["as_is"]["per_generator"])
    lines += ["", "| fakes caught, as-is | " + " | ".join(result["rows"]) + " |", "|---|" + "---:|" * len(result["rows"])]
    for g in gens:
        lines.append(f"| {g} | " + " | ".join(f"{r['as_is']['per_generator'][g]['recall']:.3f}" for r in result["rows"].values()) + " |")
    return "\n".join(lines) + "\n"
