"""The external check: images from repositories no training source touched.

    synthdet-evaluate --model=exported/synthdet/2 --external=runs/external --output_dir=runs/ext_v2
    synthdet-generalize --config=configs/lab/generalize.py --model=... --external=runs/external --workdir=...

The folder (`../shared/data/external/build.py` makes it) has `real/`, `fake/`
and a MANIFEST.csv whose `source` and `generator` columns name where each
image came from. It is for evaluation only: nothing here chooses a
threshold; every number is at the model's stored one.

Two readings, as the folder's README defines them:
- **as-is**: the files as they are;
- **processing-matched**: every image of both classes decoded, its long side
  scaled down to at most 1,600 px (Lanczos) and re-encoded as JPEG q90 in
  memory, so format, size and codec history no longer differ by class.

Each file is scored the way `synthdet-detect` scores it (`model_views`, the
model's own crop grid), and its views' logits are kept, so view pooling can be
compared without scoring again.
"""

import concurrent.futures
import csv
import dataclasses
import io
import json
import logging
import os

import numpy as np
from PIL import Image

from synthdet_tf.evaluate import calibration, metrics
from synthdet_tf.detect.views import logits_per_file, model_views, pool_logits

MATCHED_LONG_SIDE = 1600
MATCHED_QUALITY = 90
READINGS = ("as_is", "matched")


@dataclasses.dataclass(frozen=True)
class ExternalImage:
    relpath: str
    path: str
    label: int
    source: str
    generator: str


def load_folder(folder: str) -> list[ExternalImage]:
    """The images MANIFEST.csv lists, in its order; a listed file that is missing is an error."""
    manifest = os.path.join(folder, "MANIFEST.csv")
    if not os.path.exists(manifest):
        raise FileNotFoundError(f"{folder} has no MANIFEST.csv: build it with ../shared/data/external/build.py")
    images = []
    with open(manifest, newline="") as f:
        for row in csv.DictReader(f):
            label = {"REAL": 0, "FAKE": 1, "0": 0, "1": 1}.get(row["label"].strip().upper())
            if label is None:
                raise ValueError(f"{manifest}: label {row['label']!r} of {row['relpath']} is neither REAL nor FAKE")
            path = os.path.join(folder, row["relpath"])
            if not os.path.exists(path):
                raise FileNotFoundError(f"{path} is listed in {manifest} but missing")
            generator = (row.get("generator") or "").strip() or ("real photo" if label == 0 else "unknown")
            images.append(ExternalImage(row["relpath"], path, label, row["source"], generator))
    if not images:
        raise ValueError(f"{manifest} lists no images")
    return images


def matched_bytes(contents: bytes, long_side: int = MATCHED_LONG_SIDE, quality: int = MATCHED_QUALITY) -> bytes:
    """The processing-matched file: long side <= `long_side` (Lanczos), JPEG at `quality`."""
    with Image.open(io.BytesIO(contents)) as im:
        image = im.convert("RGB")
    scale = long_side / max(image.size)
    if scale < 1:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _file_bytes(image: ExternalImage, matched: bool) -> bytes:
    with open(image.path, "rb") as f:
        contents = f.read()
    return matched_bytes(contents) if matched else contents


def view_logits(backend, images, *, matched: bool, crops: int, batch_size: int = 32) -> list[np.ndarray]:
    """Per image, the float32 logits of its views (decoding on threads, the model in batches).

    A fused model scores whole files: one logit per image.
    """
    if backend.scores_files:
        return [np.array([z], np.float32) for start in range(0, len(images), batch_size)
                for z in backend.score_contents([_file_bytes(im, matched) for im in images[start : start + batch_size]])]
    out = []
    with concurrent.futures.ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        for start in range(0, len(images), batch_size):
            views = list(pool.map(lambda im: model_views(_file_bytes(im, matched), backend.spec, crops),
                                  images[start : start + batch_size]))
            out += logits_per_file(backend, views)
    return out


def pool_views(per_image: list[np.ndarray], rule: str = "mean_logit", temperature: float = 1.0) -> np.ndarray:
    """One fake probability per image from its views' logits.

    `mean_logit` is what `synthdet-detect` reports (`views.pool_logits`);
    `mean_prob` and `max` are the alternatives it was measured against.
    """
    if rule == "mean_logit":
        return np.array([calibration.sigmoid(pool_logits(v), temperature) for v in per_image])
    if rule == "mean_prob":
        return np.array([np.mean(calibration.sigmoid(v, temperature)) for v in per_image])
    if rule == "max":
        return np.array([calibration.sigmoid(np.max(v), temperature) for v in per_image])
    raise ValueError(f"Unknown view pooling {rule!r}; choose mean_logit, mean_prob or max")


def summarize(images, probs, threshold: float) -> dict:
    """Macro balanced accuracy and AUC over sources, pooled AUC, per-source and per-generator numbers."""
    labels = np.array([im.label for im in images])
    probs = np.asarray(probs, float)
    per_source = {}
    for source in sorted({im.source for im in images}):
        idx = np.array([im.source == source for im in images])
        m = metrics.binary_metrics(labels[idx], probs[idx], threshold)
        per_source[source] = {"n": m["n"], "balanced_accuracy": m["balanced_accuracy"], "roc_auc": m["roc_auc"],
                              "real_recall": m["per_class"]["REAL"]["recall"], "fake_recall": m["per_class"]["FAKE"]["recall"]}
    per_generator = {}
    for gen in sorted({im.generator for im in images if im.label == 1}):
        idx = np.array([im.generator == gen and im.label == 1 for im in images])
        per_generator[gen] = {"n": int(idx.sum()), "recall": float(np.mean(probs[idx] >= threshold))}
    pooled = metrics.binary_metrics(labels, probs, threshold)
    return {
        "n": int(len(images)),
        "threshold": float(threshold),
        "macro_balanced_accuracy": float(np.mean([s["balanced_accuracy"] for s in per_source.values()])),
        "macro_auc": float(np.mean([s["roc_auc"] for s in per_source.values()])),
        "pooled_auc": pooled["roc_auc"],
        "real_recall": pooled["per_class"]["REAL"]["recall"],
        "per_source": per_source,
        "per_generator": per_generator,
    }


def check(backend, folder: str, *, crops: int | None = None, batch_size: int = 32, pooling: str = "mean_logit") -> dict:
    """Both readings of the external folder for one model, at its stored threshold.

    `crops` defaults to the model's own crop grid (`spec.crops`, 1 for whole-image models).
    Returns {"as_is": summary, "matched": summary, "view_logits": {reading: [[...] per image]}}.
    """
    images = load_folder(folder)
    threshold = float(backend.calibration["threshold"])
    temperature = float(backend.calibration.get("temperature", 1.0))
    crops = int(crops or getattr(backend.spec, "crops", 1) or 1)
    out = {"folder": folder, "crops": crops, "pooling": pooling, "relpaths": [im.relpath for im in images], "view_logits": {}}
    for reading in READINGS:
        per_image = view_logits(backend, images, matched=reading == "matched", crops=crops, batch_size=batch_size)
        out[reading] = summarize(images, pool_views(per_image, pooling, temperature), threshold)
        out["view_logits"][reading] = [v.tolist() for v in per_image]
    return out


def format_markdown(result: dict) -> str:
    """The two readings side by side: per source, per generator, and the macro line."""
    a, m = result["as_is"], result["matched"]
    lines = [f"External check ({result['folder']}; {a['n']} images; threshold {a['threshold']:.3f}, the model's own; "
             f"{result['crops']} view(s) per image, pooled by {result['pooling']}):", "",
             "| source | n | bal. acc. as-is | AUC as-is | bal. acc. matched | AUC matched |", "|---|---:|---:|---:|---:|---:|"]
    for s in a["per_source"]:
        x, y = a["per_source"][s], m["per_source"][s]
        lines.append(f"| {s} | {x['n']} | {x['balanced_accuracy']:.3f} | {x['roc_auc']:.3f} | {y['balanced_accuracy']:.3f} | {y['roc_auc']:.3f} |")
    lines.append(f"| **macro** | {a['n']} | **{a['macro_balanced_accuracy']:.3f}** | {a['macro_auc']:.3f} | "
                 f"**{m['macro_balanced_accuracy']:.3f}** | {m['macro_auc']:.3f} |")
    lines += ["", f"Pooled AUC {a['pooled_auc']:.3f} as-is, {m['pooled_auc']:.3f} matched; "
              f"real photos called real {a['real_recall']:.3f} as-is, {m['real_recall']:.3f} matched.", "",
              "| generator | fakes | caught as-is | caught matched |", "|---|---:|---:|---:|"]
    for g, x in a["per_generator"].items():
        lines.append(f"| {g} | {x['n']} | {x['recall']:.3f} | {m['per_generator'][g]['recall']:.3f} |")
    return "\n".join(lines) + "\n"


def evaluate(model: str, folder: str, output_dir: str, *, crops: int | None = None, overwrite: bool = False) -> dict:
    """`check` for the model at path `model`; writes external.json and external.md to `output_dir`."""
    from synthdet_tf.detect.backends import load_backend

    out_json = os.path.join(output_dir, "external.json")
    if os.path.exists(out_json) and not overwrite:
        raise FileExistsError(f"{out_json} exists; choose another --output_dir or pass --overwrite")
    backend = load_backend(model)
    if backend.calibration.get("chosen_on") is None:
        logging.warning("%s has no stored calibration: the external check uses threshold %.2f", model,
                        backend.calibration["threshold"])
    result = {"model": model, **check(backend, folder, crops=crops)}
    os.makedirs(output_dir, exist_ok=True)
    with open(out_json, "w") as f:
        json.dump(result, f, default=float)
    with open(os.path.join(output_dir, "external.md"), "w") as f:
        f.write(format_markdown(result))
    return result
