"""One evaluation of one model on one labelled folder: numbers, tables and pictures.

    report = evaluate_model("runs/lite0", "../shared/data/dev", "reports/lite0", robustness=True, audit=True)

Writes `report.json`, `report.md`, `calibration.json` and PNGs to the output
directory. The threshold comes from the model's stored calibration, or is
chosen on the validation split (and stored with a training workdir), never
on the split being reported.
"""

import json
import logging
import os

import numpy as np

from synthdet_configs.common import get_config as _common_config
from synthdet_tf.data.discovery import LABEL_NAMES, discover
from synthdet_tf.evaluate import calibration, metrics, perturbations, plots
from synthdet_tf.evaluate.predict import predict_logits
from synthdet_tf.detect.backends import load_backend

AUDIT_QUALITY = 95
AUDIT_MAX_DROP = 0.02  # a larger balanced-accuracy drop under the audit means a format/size shortcut


def _split_settings(backend) -> dict:
    """The train/val/test split the model was trained with (else synthdet's default)."""
    stored = backend.split_settings()
    d = _common_config().data
    default = {"fractions": list(d.fractions), "split_salt": d.split_salt, "source_from": d.source_from}
    if stored is None:
        logging.warning("The model does not say how its data was split; using the default split %s", default)
        return default
    return {**default, **stored}


def discover_as_trained(backend, data_dir: str, progress: bool = False):
    """`discover` with the split the model was trained with, so its test split is the held-out one."""
    s = _split_settings(backend)
    found = discover(data_dir, fractions=tuple(s["fractions"]), salt=s["split_salt"], source_from=s["source_from"], progress=progress)
    return found, s


def without_held_out(records, backend) -> list:
    """Drops the sources the model's config held out: choosing its threshold is selection too."""
    held = set(((backend.train_config() or {}).get("data") or {}).get("held_out_sources") or ())
    return [r for r in records if r.source not in held]


def _calibration(backend, val, args, batch_size) -> tuple[dict, str]:
    stored = backend.calibration
    if stored.get("method") != "default" and not args.get("recalibrate"):
        return stored, "stored with the model"
    if len({r.label for r in val}) < 2:
        logging.warning("No validation images of both classes: using threshold 0.5")
        return dict(calibration.DEFAULT), "default (no usable validation split)"
    val_logits = predict_logits(backend, val, batch_size=batch_size, desc="val")
    doc = calibration.calibrate(
        [r.label for r in val], val_logits, args.get("threshold_method", "balanced_accuracy"),
        args.get("target_fpr", 0.05), args.get("temperature", False), chosen_on="val",
    )
    # Stored next to a training run so export and detect pick it up.
    target = getattr(backend, "calibration_path", None)
    if target:
        calibration.save(doc, target, overwrite=bool(args.get("recalibrate")))
        logging.info("Stored the calibration with the model: %s", target)
    return doc, "chosen on the validation split"


def robustness_rows(backend, records, threshold, temperature, batch_size):
    labels = [r.label for r in records]
    rows = []
    for p in perturbations.SWEEP:
        logits = predict_logits(backend, records, batch_size=batch_size, perturb=p.fn(), desc=p.label)
        m = metrics.binary_metrics(labels, calibration.sigmoid(logits, temperature), threshold)
        rows.append({"family": p.family, "strength": p.strength, "label": p.label, **_headline(m)})
    return rows


def _headline(m):
    keys = ("accuracy", "balanced_accuracy", "roc_auc", "average_precision", "tpr_at_5pct_fpr", "ece")
    return {k: m[k] for k in keys} | {"fake_recall": m["per_class"]["FAKE"]["recall"], "real_recall": m["per_class"]["REAL"]["recall"]}


def audit(clean: dict, audited: dict, size: int) -> dict:
    drop_bacc = clean["balanced_accuracy"] - audited["balanced_accuracy"]
    drop_auc = clean["roc_auc"] - audited["roc_auc"]
    leans = drop_bacc > AUDIT_MAX_DROP or drop_auc > AUDIT_MAX_DROP
    verdict = (
        f"Re-saving every test image as a {size}x{size} JPEG (quality {AUDIT_QUALITY}) cost "
        f"{100 * drop_bacc:.1f} points of balanced accuracy and {100 * drop_auc:.1f} points of AUC. "
        + (
            "That is more than 2 points: the model leans on file format, compression or image size "
            "rather than on the image content alone. Treat its scores on files that were re-saved "
            "or resized with suspicion."
            if leans
            else "That is within 2 points: no sign that the model leans on file format or size."
        )
    )
    return {"size": size, "quality": AUDIT_QUALITY, "audited": audited, "drop_balanced_accuracy": drop_bacc,
            "drop_roc_auc": drop_auc, "leans_on_format": bool(leans), "verdict": verdict}


def evaluate_model(model, data_dir, output_dir, *, split="test", robustness=False, audit_format=False,
                   batch_size=32, overwrite=False, **args) -> dict:
    if os.path.exists(os.path.join(output_dir, "report.json")) and not overwrite:
        raise FileExistsError(f"{output_dir} already holds a report; choose another --output_dir or pass --overwrite")
    os.makedirs(output_dir, exist_ok=True)
    backend = load_backend(model)
    found, s = discover_as_trained(backend, data_dir, progress=True)
    # "all": a folder the model never saw (none of it was trained on), scored whole.
    records = found.records if split == "all" else found.split(split)
    if not records:
        raise ValueError(f"No {split} images in {data_dir}")
    val = found.split("val") if split not in ("val", "all") else []
    val = without_held_out(val, backend)

    cal, cal_origin = _calibration(backend, val, args, batch_size)
    t, threshold = cal["temperature"], cal["threshold"]
    logits = predict_logits(backend, records, batch_size=batch_size, desc=split)
    labels = np.array([r.label for r in records])
    probs = calibration.sigmoid(logits, t)
    oracle = calibration.choose_threshold(labels, probs) if len(set(labels.tolist())) == 2 else float("nan")

    report = {
        "model": backend.describe(),
        "data_dir": found.root,
        "split": split,
        "split_settings": s,
        "n": len(records),
        "skipped": len(found.skipped),
        "calibration": {**cal, "origin": cal_origin},
        "at_threshold": metrics.binary_metrics(labels, probs, threshold),
        "at_0.5": metrics.binary_metrics(labels, probs, 0.5),
        "oracle": {"note": f"threshold chosen on the {split} split itself: optimistic, for reference only",
                   **metrics.binary_metrics(labels, probs, oracle)},
        "per_source": metrics.per_source_metrics(labels, probs, [r.source for r in records], threshold),
        "per_family": metrics.per_source_metrics(labels, probs, [r.family for r in records], threshold),
    }
    if t != 1.0:
        report["ece_before_temperature"] = metrics.expected_calibration_error(labels, calibration.sigmoid(logits))
    if robustness:
        report["robustness"] = robustness_rows(backend, records, threshold, t, batch_size)
    if audit_format:
        size = backend.spec.image_size
        a_logits = predict_logits(backend, records, batch_size=batch_size, perturb=perturbations.uniform_format(size, AUDIT_QUALITY), desc="audit")
        audited = _headline(metrics.binary_metrics(labels, calibration.sigmoid(a_logits, t), threshold))
        report["audit"] = audit(_headline(report["at_threshold"]), audited, size)

    report["plots"] = _plots(report, records, labels, probs, threshold, output_dir, backend)
    calibration.save(cal, os.path.join(output_dir, calibration.CALIBRATION_FILE), overwrite=True)
    with open(os.path.join(output_dir, "report.json"), "w") as f:
        json.dump(report, f, indent=2, default=float)
    with open(os.path.join(output_dir, "report.md"), "w") as f:
        f.write(format_markdown(report))
    with open(os.path.join(output_dir, "scores.csv"), "w") as f:
        f.write("relpath,source,label,logit,fake_probability\n")
        for r, lg, p in zip(records, logits, probs):
            f.write(f"{r.relpath},{r.source},{LABEL_NAMES[r.label]},{lg:.6f},{p:.6f}\n")
    return report


def _plots(report, records, labels, probs, threshold, out, backend):
    j = lambda name: os.path.join(out, name)  # noqa: E731
    made = {}
    if len(set(labels.tolist())) == 2:
        made["roc_pr"] = plots.roc_pr(labels, probs, threshold, j("roc_pr.png"))
        made["reliability"] = plots.reliability(labels, probs, report["at_threshold"]["ece"], j("reliability.png"))
    made["confusion"] = plots.confusion(report["at_threshold"]["confusion_matrix"], threshold, j("confusion.png"))
    made["histogram"] = plots.score_histograms(labels, probs, threshold, j("score_histogram.png"))
    workdir = getattr(backend, "workdir", None)
    curves = plots.training_curves(os.path.join(workdir, "log.csv") if workdir else None, j("training_curves.png"))
    if curves:
        made["training_curves"] = curves
    if "robustness" in report:
        made["robustness"] = plots.robustness(report["robustness"], _headline(report["at_threshold"]), j("robustness.png"))
    idx = plots.pick_grid(labels, probs, threshold)
    made["prediction_grid"] = plots.prediction_grid(
        [records[i].path for i in idx], [int(labels[i]) for i in idx], [float(probs[i]) for i in idx], threshold, j("prediction_grid.png")
    )
    return {k: os.path.basename(v) for k, v in made.items()}


def _f(x, digits=3):
    return "n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def _group_table(rows, name) -> list:
    lines = [f"| {name} | classes | n | accuracy | balanced acc. | REAL recall | FAKE recall | AUC | AP |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s in rows:
        auc = s.get("roc_auc_vs_rest", s["roc_auc"])
        # AP against the rest mostly measures the other class's share: shown only for two-class groups.
        ap = float("nan") if "roc_auc_vs_rest" in s else s["average_precision"]
        rest = " (vs rest)" if "roc_auc_vs_rest" in s else ""
        pc = s["per_class"]
        lines.append(
            f"| {s['source']}{' ⚠' if s['too_small'] else ''} | {s['classes']} | {s['n']} | {_f(s['accuracy'])} | {_f(s['balanced_accuracy'])} | "
            f"{_f(pc['REAL']['recall']) if pc['REAL']['n'] else '-'} | {_f(pc['FAKE']['recall']) if pc['FAKE']['n'] else '-'} | {_f(auc)}{rest} | {_f(ap)} |"
        )
    return lines


def format_markdown(r) -> str:
    a, h, o, cal = r["at_threshold"], r["at_0.5"], r["oracle"], r["calibration"]
    lines = [
        f"# Evaluation: {r['model']['path']}",
        "",
        f"{r['model']['kind']} model, {r['model']['preprocess']['policy']} at {r['model']['preprocess']['image_size']} px; "
        f"{r['split']} split of `{r['data_dir']}`: {r['n']} images ({a['per_class']['REAL']['n']} REAL, {a['per_class']['FAKE']['n']} FAKE).",
        "",
        f"Threshold {cal['threshold']:.4f} ({cal['method']}, {cal['origin']}); temperature {cal['temperature']:.3f}.",
        "",
        "| metric | at threshold | at 0.5 | oracle (fit on this split) |",
        "|---|---:|---:|---:|",
        f"| threshold | {_f(a['threshold'], 4)} | 0.5 | {_f(o['threshold'], 4)} |",
    ]
    for key, name in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy")):
        lines.append(f"| {name} | {_f(a[key])} | {_f(h[key])} | {_f(o[key])} |")
    for cls in LABEL_NAMES:
        for key in ("precision", "recall", "f1"):
            lines.append(f"| {cls} {key} | {_f(a['per_class'][cls][key])} | {_f(h['per_class'][cls][key])} | {_f(o['per_class'][cls][key])} |")
    lines += [
        "",
        f"Threshold-free: ROC-AUC {_f(a['roc_auc'])}, average precision {_f(a['average_precision'])}, "
        f"TPR at 5% FPR {_f(a['tpr_at_5pct_fpr'])}, expected calibration error {_f(a['ece'])}"
        + (f" ({_f(r['ece_before_temperature'])} before temperature scaling)" if "ece_before_temperature" in r else "")
        + ".",
        "",
        f"Confusion matrix at the threshold (rows true REAL/FAKE, columns predicted REAL/FAKE): {a['confusion_matrix']}.",
        "",
        "## Per source",
        "",
        "At the stored threshold. One-class sources have no ROC of their own: their AUC is against every image of the other class. "
        f"Sources under {metrics.MIN_TRUSTED} images are marked ⚠ (too small to trust).",
        "",
    ]
    lines += _group_table(r["per_source"], "source")
    if "per_family" in r:
        lines += ["", "## Per generator family", "",
                  "Fakes grouped by the manifest's `family` column (a fake without one counts as its source); "
                  "REAL files form the family `real`. Each fake family's AUC is against every REAL image.", ""]
        lines += _group_table(r["per_family"], "family")
    if "robustness" in r:
        lines += _robustness_lines(a, r["robustness"])
    if "audit" in r:
        au = r["audit"]
        lines += [
            "",
            "## Shortcut audit",
            "",
            f"Balanced accuracy {_f(a['balanced_accuracy'])} → {_f(au['audited']['balanced_accuracy'])}, "
            f"AUC {_f(a['roc_auc'])} → {_f(au['audited']['roc_auc'])}.",
            "",
            f"**{au['verdict']}**",
        ]
    lines += ["", "## Pictures", ""] + [f"![{k}]({v})" for k, v in r["plots"].items()]
    return "\n".join(lines) + "\n"


def _robustness_lines(clean_metrics, rows) -> list:
    lines = [
        "",
        "## Robustness",
        "",
        "The same test images, each perturbed before the model's input policy, both classes alike; threshold unchanged.",
        "",
        "| perturbation | accuracy | balanced acc. | REAL recall | FAKE recall | AUC | AP | TPR@5%FPR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [{"label": "none (clean)", **_headline(clean_metrics)}] + rows:
        lines.append(
            f"| {row['label']} | {_f(row['accuracy'])} | {_f(row['balanced_accuracy'])} | {_f(row['real_recall'])} | {_f(row['fake_recall'])} | "
            f"{_f(row['roc_auc'])} | {_f(row['average_precision'])} | {_f(row['tpr_at_5pct_fpr'])} |"
        )
    return lines
