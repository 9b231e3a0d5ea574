"""synthdet-export --fuse_with: a local model and a shipped whole-image SavedModel -> one fused detector.

    synthdet-export --workdir=runs/v3/local_npr_s0 --fuse_with=exported/synthdet/2 \\
        --fusion=runs/v3/fuse_npr_s0/fusion.json --fusion_rule=standardized_mean \\
        --export_dir=exported --name=synthdet --version=3 --formats=saved_model,tflite_int8 --whole_tflite=exported/tflite/synthdet_v2_int8.tflite

Writes (per `--formats`)
- `saved_model_pair`: `<export_dir>/<name>_local/<version>/` (the local model's
  SavedModel) and `<export_dir>/<name>_v<version>.json`, which pairs it
  with the whole-image SavedModel: `synthdet-detect --model=<that json>`;
- `saved_model`: `<export_dir>/<name>/<version>/`, one SavedModel, both streams and the fusion
  in the graph (synthdet_tf/export/fused_saved_model.py), for TF Serving;
- a TFLite variant: `<export_dir>/tflite/<name>_local_v<version>_<variant>.tflite` (+ sidecar with
  the crop tiling) and `<name>_v<version>_<variant>.json`, which names
  that file, the whole-image TFLite file and the fusion, for phones: the app
  runs both files and combines their logits as the JSON says.
The coefficients and the threshold are the ones `synthdet-fuse` fitted on
validation for `--fusion_rule`.
"""

import json
import os

from synthdet_tf.export import exporter, fused_saved_model
from synthdet_tf.detect import layout
from synthdet_tf.export.float_model import float32_model
from synthdet_tf.detect import fused


def read_fusion(path: str, rule: str) -> tuple[dict, dict]:
    """(params, calibration) of `rule` from a synthdet-fuse fusion.json."""
    with open(path) as f:
        rows = json.load(f)["rows"]
    key = f"fused_{rule}"
    if key not in rows:
        raise ValueError(f"{path} has no rule {rule!r}; it has {sorted(k[6:] for k in rows if k.startswith('fused_'))}")
    return rows[key]["params"], rows[key]["calibration"]


def export_fused(local_workdir, whole_saved_model, fusion_path, rule, export_dir, *, name="synthdet", version=3,
                 formats=("saved_model",), whole_tflite=None, overwrite=False, data_dir=None) -> dict:
    params, calibration = read_fusion(fusion_path, rule)
    written = {}
    if "saved_model_pair" in formats:
        written["saved_model_pair"] = _pair(local_workdir, whole_saved_model, params, calibration, export_dir, name, version, overwrite)
    if "saved_model" in formats:
        target = layout.version_dir(export_dir, name, version)
        layout.check_free(target, overwrite)
        model, config = float32_model(local_workdir)
        written["saved_model"] = fused_saved_model.save(whole_saved_model, model, exporter.spec_of(config), config, params,
                                                        calibration, target, overwrite=overwrite)
    variants = [f for f in formats if f not in ("saved_model", "saved_model_pair")]
    if variants:
        if not whole_tflite:
            raise ValueError("A fused TFLite pair needs --whole_tflite (the whole-image model's .tflite file)")
        local = exporter.export(local_workdir, export_dir, name=f"{name}_local", version=version, formats=variants,
                                overwrite=overwrite, data_dir=data_dir)
        for variant, info in local.items():
            path = os.path.join(export_dir, "tflite", f"{name}_v{int(version)}_{variant.replace('tflite_', '')}.json")
            layout.check_free(path, overwrite)
            fused.write(path, whole_tflite, info["path"], params, calibration)
            written[variant] = {"path": path, "local": info["path"], "whole": whole_tflite,
                                "bytes": info["bytes"] + os.path.getsize(whole_tflite)}
    return written


def _pair(local_workdir, whole_saved_model, params, calibration, export_dir, name, version, overwrite) -> dict:
    """The local model's own SavedModel plus `<name>_v<version>.json` pairing it with the whole-image
    SavedModel already in `export_dir`: the fused detector without a second copy of the whole-image weights."""
    path = os.path.join(export_dir, f"{name}_v{int(version)}.json")
    layout.check_free(path, overwrite)
    local = exporter.export(local_workdir, export_dir, name=f"{name}_local", version=version, formats=["saved_model"],
                            overwrite=overwrite)["saved_model"]
    fused.write(path, whole_saved_model, local["path"], params, calibration)
    return {"path": path, "local": local["path"], "whole": whole_saved_model, "bytes": local["bytes"]}
