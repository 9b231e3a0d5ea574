"""Does a recipe generalize? Leave-one-generator-family-out, held-out sources, content and format checks.

    synthdet-generalize --config=configs/lab/generalize.py --workdir=runs/gen_v1 \\
        --data_dir=../shared/data/dev,runs/wide

One config = one recipe. The benchmark trains, under `workdir`:
- one model per FAKE family with >= `min_images` fakes, without any of that
  family's fakes: its fakes (all of them) are scored against the REAL test
  split -> AUC, AP, and fake recall at the threshold chosen on that model's
  validation split;
- one model on everything (`_all`), which gives the numbers a shipped model
  would have: the independent held-out sources, real faces and fake faces
  recall, the format audit, and balanced accuracy per data folder.

`config.data.held_out_sources` (written before any training) are whole
sources that no run trains or selects on: they are removed from every
training and validation set, and only the `_all` model scores them.
"""

import json
import logging
import os

import numpy as np

from synthdet_tf.data.discovery import FAKE, REAL, discover_from_config
from synthdet_tf.evaluate import calibration, external, metrics, perturbations
from synthdet_tf.lab import loso
from synthdet_tf.evaluate.predict import predict_logits

AUDIT_QUALITY = 90
ALL = "_all"
EXTERNAL_ROWS = (("external check as-is, macro balanced acc.", "as_is", "macro_balanced_accuracy"),
                 ("external check as-is, AUC", "as_is", "pooled_auc"),
                 ("external check matched, macro balanced acc.", "matched", "macro_balanced_accuracy"),
                 ("external check matched, AUC", "matched", "pooled_auc"))


def by_family(record) -> str:
    return record.family


def split_held_out(records, held_out_sources) -> tuple[list, list]:
    """(pool to train, select and test on; the held-out sources' records)."""
    held = set(held_out_sources)
    missing = held - {r.source for r in records}
    if missing:
        raise ValueError(f"held_out_sources not found in the data: {sorted(missing)}")
    return [r for r in records if r.source not in held], [r for r in records if r.source in held]


def is_face(record, face_sources=()) -> bool:
    return record.content == "face" or record.source in set(face_sources)


def _bacc(labels, logits, threshold) -> dict:
    m = metrics.binary_metrics(np.asarray(labels), calibration.sigmoid(logits), threshold)
    return {"n": len(labels), "balanced_accuracy": m["balanced_accuracy"], "roc_auc": m["roc_auc"],
            "real_recall": m["per_class"]["REAL"]["recall"], "fake_recall": m["per_class"]["FAKE"]["recall"]}


def _recall(records, logits, threshold, label) -> dict:
    chosen = [i for i, r in enumerate(records) if r.label == label]
    if not chosen:
        return {"n": 0, "recall": float("nan")}
    probs = calibration.sigmoid(logits[chosen])
    hits = (probs >= threshold) if label == FAKE else (probs < threshold)
    return {"n": len(chosen), "recall": float(np.mean(hits))}


def full_model_checks(backend, threshold, test, independent, face_sources=()) -> dict:
    """The `_all` model's numbers: held-out sources, faces, audit, per data folder."""
    logits = predict_logits(backend, test, desc="test")
    labels = [r.label for r in test]
    out = {"test": _bacc(labels, logits, threshold)}
    faces = [i for i, r in enumerate(test) if is_face(r, face_sources)]
    face_records = [test[i] for i in faces]
    out["real_faces"] = _recall(face_records, logits[faces], threshold, REAL)
    out["fake_faces"] = _recall(face_records, logits[faces], threshold, FAKE)
    folders = sorted({r.relpath.split("/", 1)[0] for r in test if "/" in r.relpath and r.relpath.split("/", 1)[0] not in ("real", "fake")})
    for folder in folders:
        idx = [i for i, r in enumerate(test) if r.relpath.startswith(folder + "/")]
        out[f"folder_{folder}"] = _bacc([labels[i] for i in idx], logits[idx], threshold)
    size = backend.spec.image_size
    audited = predict_logits(backend, test, perturb=perturbations.uniform_format(size, AUDIT_QUALITY), desc="audit")
    out["audit"] = {**_bacc(labels, audited, threshold), "size": size, "quality": AUDIT_QUALITY}
    # A crop model never sees a resized image, so the one-size audit also measures a resize for it;
    # re-encoding at native size measures the codec alone.
    native = predict_logits(backend, test, perturb=perturbations.jpeg(AUDIT_QUALITY), desc="audit, native size")
    out["audit_native"] = {**_bacc(labels, native, threshold), "quality": AUDIT_QUALITY}
    # The robustness targets: a q75 JPEG and a x0.5 downscale of every test image.
    out["jpeg_75"] = _bacc(labels, predict_logits(backend, test, perturb=perturbations.jpeg(75), desc="jpeg q75"), threshold)
    out["downscale_0.5"] = _bacc(labels, predict_logits(backend, test, perturb=perturbations.downscale(0.5), desc="x0.5"), threshold)
    out["fake_recall_per_family"] = {f: _recall([r for r in test if r.family == f], logits[[i for i, r in enumerate(test) if r.family == f]],
                                                threshold, FAKE) for f in sorted({r.family for r in test if r.label == FAKE})}
    if independent:
        held_logits = predict_logits(backend, independent, desc="held-out")
        out["held_out_sources"] = _bacc([r.label for r in independent], held_logits, threshold)
        out["held_out_per_source"] = {
            s: _recall([r for r in independent if r.source == s], held_logits[[i for i, r in enumerate(independent) if r.source == s]],
                       threshold, next(r.label for r in independent if r.source == s))
            for s in sorted({r.source for r in independent})}
    return out


def run(config, workdir: str, *, min_images: int = 50, families=None, overwrite: bool = False, external_dir=None,
        folds_only: bool = False) -> dict:
    """Trains every fold under `workdir` (finished folds are reused); returns and writes the results.

    `external_dir`: the external check folder, scored by the `_all` model (evaluation only).
    `folds_only`: no `_all` model (e.g. a stream whose fusion is benchmarked with `fused_lofo`).
    """
    found = discover_from_config(config.data)
    pool, independent = split_held_out(found.records, config.data.held_out_sources)
    candidates = loso.fake_sources(pool, min_images, key=by_family)
    chosen = list(families or candidates)
    unknown = set(chosen) - set(candidates)
    if unknown:
        raise ValueError(f"Not FAKE families with >= {min_images} images: {sorted(unknown)}; choose from {candidates}")
    rows = []
    for family in chosen:
        f = loso.fold(pool, family, key=by_family)
        backend, threshold = loso.train_fold(config, os.path.join(workdir, loso.slug(family)), found, f, overwrite)
        real = predict_logits(backend, f["real_test"])
        row = {"family": family, "train_pool": len(f["train"]), "threshold": threshold,  # a run samples max_train_images of it
               **loso.held_out_scores(real, predict_logits(backend, f["held_out"]), threshold)}
        rows.append(row)
        logging.info("Left out %s: %s", family, row)
    result = {
        "held_out_sources": list(config.data.held_out_sources),
        "families": rows,
        "mean_auc": float(np.mean([r["auc"] for r in rows])) if rows else float("nan"),
        "min_auc": float(np.min([r["auc"] for r in rows])) if rows else float("nan"),
        "all": {},
    }
    if folds_only:
        return _finish(result, None, workdir, None)
    everything = {"train": [r for r in pool if r.split == "train"], "val": [r for r in pool if r.split == "val"]}
    backend, threshold = loso.train_fold(config, os.path.join(workdir, ALL), found, everything, overwrite)
    test = [r for r in pool if r.split == "test"]
    result["all"] = {"threshold": threshold, **full_model_checks(backend, threshold, test, independent, config.data.face_sources)}
    return _finish(result, backend, workdir, external_dir)


def _finish(result, backend, workdir, external_dir) -> dict:
    """Adds the external check (when given) and writes generalization.json / .md."""
    if external_dir:
        checked = external.check(backend, external_dir)
        result["external"] = {k: checked[k] for k in ("folder", "crops", "pooling", *external.READINGS)}
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "generalization.json"), "w") as fh:
        json.dump(result, fh, indent=2, default=float)
    with open(os.path.join(workdir, "generalization.md"), "w") as fh:
        fh.write(format_markdown(result))
    return result


def score_model(config, model_path: str, workdir: str, external_dir=None) -> dict:
    """The `_all` checks for a model trained elsewhere (e.g. a shipped one), at its stored threshold.

    Uses the config's data, held-out and face sources; the model is scored on the
    pool's test split, which for a model trained on a subset of the folders is
    still data it never trained on (splits are per file, see discovery).
    """
    from synthdet_tf.detect.backends import load_backend

    found = discover_from_config(config.data)
    pool, independent = split_held_out(found.records, config.data.held_out_sources)
    backend = load_backend(model_path)
    threshold = float(backend.calibration["threshold"])
    test = [r for r in pool if r.split == "test"]
    result = {"model": model_path, "held_out_sources": list(config.data.held_out_sources), "families": [],
              "mean_auc": float("nan"), "min_auc": float("nan"),
              "all": {"threshold": threshold, **full_model_checks(backend, threshold, test, independent, config.data.face_sources)}}
    return _finish(result, backend, workdir, external_dir)


def format_markdown(result: dict, title: str = "") -> str:
    lines = [f"## {title}" if title else "", ""]
    if result["families"]:
        lines += ["| left-out family | its fakes | AUC | AP | fakes caught (val threshold) |", "|---|---:|---:|---:|---:|"]
        for r in result["families"]:
            lines.append(f"| {r['family']} | {r['n_fake']} | {r['auc']:.3f} | {r['ap']:.3f} | {r['fake_recall']:.3f} |")
        lines += [f"| **mean** (min) | | **{result['mean_auc']:.3f}** ({result['min_auc']:.3f}) | | |", ""]
    a = result["all"]
    if not a:
        return "\n".join(lines) + "\n"
    which = f"Model {result['model']}, at its stored threshold" if "model" in result else "Model trained on everything"
    lines += [f"{which} (threshold {a['threshold']:.3f}, chosen on validation):", "",
              "| check | n | balanced acc. | AUC | REAL recall | FAKE recall |", "|---|---:|---:|---:|---:|---:|"]
    for key in ["test", "held_out_sources", "audit", "audit_native", "jpeg_75", "downscale_0.5"] + sorted(k for k in a if k.startswith("folder_")):
        if key in a:
            m = a[key]
            name = {"audit": f"test, format audit (JPEG q{a['audit']['quality']} at {a['audit']['size']} px)",
                    "audit_native": f"test, every image re-saved as JPEG q{a['audit']['quality']} at its own size",
                    "jpeg_75": "test, every image re-saved as JPEG q75", "downscale_0.5": "test, every image downscaled x0.5",
                    "held_out_sources": "held-out sources: " + ", ".join(result["held_out_sources"])}.get(key, key.replace("folder_", "test, folder "))
            lines.append(f"| {name} | {m['n']} | {m['balanced_accuracy']:.3f} | {m['roc_auc']:.3f} | {m['real_recall']:.3f} | {m['fake_recall']:.3f} |")
    lines += ["", f"Real faces recall {a['real_faces']['recall']:.3f} (n={a['real_faces']['n']}); "
              f"fake faces recall {a['fake_faces']['recall']:.3f} (n={a['fake_faces']['n']}), test split."]
    if "external" in result:
        lines += ["", external.format_markdown(result["external"])]
    return "\n".join(lines) + "\n"


def load(workdir: str) -> dict:
    with open(os.path.join(workdir, "generalization.json")) as fh:
        return json.load(fh)


def format_comparison(results: dict) -> str:
    """Recipes side by side ({name: result}): AUC per left-out family, then the `_all` checks."""
    names = list(results)
    families = sorted({r["family"] for res in results.values() for r in res["families"]})
    auc = {n: {r["family"]: r for r in res["families"]} for n, res in results.items()}
    cell = lambda n, f, k: f"{auc[n][f][k]:.3f}" if f in auc[n] else "-"  # noqa: E731
    lines = [] if not families else ["| left-out family | fakes | " + " | ".join(f"AUC {n} | caught {n}" for n in names) + " |",
             "|---|---:|" + "---:|---:|" * len(names)]
    for f in families:
        n_fake = next(auc[n][f]["n_fake"] for n in names if f in auc[n])
        lines.append(f"| {f} | {n_fake} | " + " | ".join(f"{cell(n, f, 'auc')} | {cell(n, f, 'fake_recall')}" for n in names) + " |")
    if families:
        lines.append("| **mean** (min) | | " + " | ".join(f"**{results[n]['mean_auc']:.3f}** ({results[n]['min_auc']:.3f}) | " for n in names) + " |")
        lines.append("")
    lines += ["| model trained on everything | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    checks = [("held-out sources, balanced acc.", "held_out_sources", "balanced_accuracy"), ("held-out sources, AUC", "held_out_sources", "roc_auc"),
              ("test, balanced acc.", "test", "balanced_accuracy"), ("test, AUC", "test", "roc_auc"),
              ("format audit, balanced acc.", "audit", "balanced_accuracy"),
              ("JPEG q90 at native size, balanced acc.", "audit_native", "balanced_accuracy"),
              ("JPEG q75, balanced acc.", "jpeg_75", "balanced_accuracy"), ("downscaled x0.5, AUC", "downscale_0.5", "roc_auc"),
              ("real faces recall", "real_faces", "recall"),
              ("fake faces recall", "fake_faces", "recall")]
    folders = sorted({k for res in results.values() for k in res["all"] if k.startswith("folder_")})
    checks += [(f"test {k[7:]}, balanced acc.", k, "balanced_accuracy") for k in folders]
    for label, key, metric in checks:
        vals = [results[n]["all"].get(key, {}).get(metric) for n in names]
        lines.append(f"| {label} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in vals) + " |")
    for label, reading, metric in EXTERNAL_ROWS:
        vals = [results[n].get("external", {}).get(reading, {}).get(metric) for n in names]
        if any(v is not None for v in vals):
            lines.append(f"| {label} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in vals) + " |")
    for key, title in (("fake_recall_per_family", "test split, fakes caught per family"),
                       ("held_out_per_source", "held-out source, recall of its class")):
        rows = sorted({k for res in results.values() for k in res["all"].get(key, {})})
        if rows:
            lines += ["", f"| {title} | n | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
            for k in rows:
                n = next(res["all"][key][k]["n"] for res in results.values() if k in res["all"].get(key, {}))
                vals = [results[m]["all"].get(key, {}).get(k, {}).get("recall") for m in names]
                lines.append(f"| {k} | {n} | " + " | ".join("-" if v is None else f"{v:.3f}" for v in vals) + " |")
    return "\n".join(lines) + "\n"
