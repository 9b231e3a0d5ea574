"""The generalization benchmark: folds by generator family, held-out sources, the checks of the `_all` model."""

import json

import numpy as np
import pytest
from PIL import Image

from synthdet_tf.data.discovery import discover
from synthdet_tf.lab import generalization, loso
from tests.test_scripts import run_script

FAMILIES = {"genA": "SD 1.x", "genB": "SD 1.x", "genC": "FLUX", "genD": "GPT-4o"}


def build_corpus(root, n=24):
    """Noisy REAL photos (cam, album) and smooth FAKES from four sources of three families, with a manifest."""
    rng = np.random.default_rng(0)
    rows = ["relpath,label,source,family,content"]
    for i in range(n):
        for cls, source, family, content in (("real", "cam", "real", "scene"), ("real", "album", "real", "face")) + tuple(
                ("fake", s, f, "face" if s == "genD" else "art") for s, f in FAMILIES.items()):
            rel = f"{cls}/{source}__{i}.png"
            (root / cls).mkdir(parents=True, exist_ok=True)
            pixels = rng.integers(0, 256, (24, 24, 3)) if cls == "real" else np.full((24, 24, 3), 40 + 5 * (i % 20))
            Image.fromarray(pixels.astype(np.uint8)).save(root / rel)
            rows.append(f"{rel},{cls},{source},{family},{content}")
    (root / "MANIFEST.csv").write_text("\n".join(rows) + "\n")
    return root


def test_a_left_out_family_never_reaches_training_and_held_out_sources_reach_nothing(tmp_path):
    found = discover(str(build_corpus(tmp_path / "corpus")))
    pool, held = generalization.split_held_out(found.records, ["album", "genD"])
    assert {r.source for r in held} == {"album", "genD"} and not {r.source for r in pool} & {"album", "genD"}
    assert loso.fake_sources(pool, 30, key=generalization.by_family) == ["SD 1.x"]  # 48 fakes; FLUX has 24
    f = loso.fold(pool, "SD 1.x", key=generalization.by_family)
    assert not [r for r in f["train"] + f["val"] if r.label == 1 and r.family == "SD 1.x"]
    assert {r.source for r in f["held_out"]} == {"genA", "genB"} and len(f["held_out"]) == 48
    assert {r.source for r in f["train"] if r.label == 1} == {"genC"}
    with pytest.raises(ValueError, match="not found in the data: \\['nope'\\]"):
        generalization.split_held_out(found.records, ["nope"])


def test_benchmark_script_end_to_end_on_a_tiny_model(tmp_path):
    data = build_corpus(tmp_path / "corpus", n=40)
    out = tmp_path / "bench"
    result = run_script(
        "synthdet_scripts.lab.generalize", "--config=configs/tiny.py", f"--data_dir={data}", f"--workdir={out}",
        "--min_images=40", "--config.data.held_out_sources=('album','genD')", "--config.train.verbose=0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    res = json.loads((out / "generalization.json").read_text())
    assert [r["family"] for r in res["families"]] == ["FLUX", "SD 1.x"]
    assert res["families"][1]["n_fake"] == 80 and 0.0 <= res["mean_auc"] <= 1.0
    checks = res["all"]
    assert checks["held_out_sources"]["n"] == 80  # 40 album photos + 40 genD fakes, scored only by the _all model
    assert checks["real_faces"]["n"] == 0 and checks["fake_faces"]["n"] == 0  # the face sources are held out
    assert checks["audit"]["quality"] == generalization.AUDIT_QUALITY and (out / "_all" / "DONE").exists()
    assert checks["audit_native"]["n"] == checks["test"]["n"]
    assert "held-out sources: album, genD" in (out / "generalization.md").read_text()
    compared = run_script("synthdet_scripts.lab.generalize", f"--compare=a={out},b={out}")
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert "| SD 1.x | 80 |" in compared.stdout and "| held-out sources, balanced acc. |" in compared.stdout
    assert checks["jpeg_75"]["n"] == checks["test"]["n"] and 0.0 <= checks["downscale_0.5"]["roc_auc"] <= 1.0

    # A finished model scored on its own gives the same threshold-free numbers as the run did.
    scored = run_script(
        "synthdet_scripts.lab.generalize", "--config=configs/tiny.py", f"--data_dir={data}", f"--workdir={tmp_path / 'score'}",
        f"--model={out / '_all'}", "--config.data.held_out_sources=('album','genD')",
    )
    assert scored.returncode == 0, scored.stderr[-3000:]
    alone = json.loads((tmp_path / "score" / "generalization.json").read_text())
    assert alone["families"] == [] and alone["all"]["held_out_sources"]["n"] == 80
    for key in ("test", "held_out_sources", "audit", "jpeg_75"):
        assert alone["all"][key]["roc_auc"] == pytest.approx(checks[key]["roc_auc"], abs=1e-6)
    both = run_script("synthdet_scripts.lab.generalize", f"--compare=run={out},alone={tmp_path / 'score'}")
    assert both.returncode == 0 and "| downscaled x0.5, AUC |" in both.stdout
    assert "| test split, fakes caught per family |" in both.stdout and "| album | 40 |" in both.stdout

    # A benchmark fused with itself ranks every fold as it did alone.
    fused = run_script("synthdet_scripts.lab.generalize", "--config=configs/tiny.py", f"--data_dir={data}", f"--fuse={out},{out}",
                       f"--workdir={tmp_path / 'fused'}", "--min_images=40", "--config.data.held_out_sources=('album','genD')")
    assert fused.returncode == 0, fused.stderr[-3000:]
    table = json.loads((tmp_path / "fused" / "fused_lofo.json").read_text())
    assert [r["family"] for r in table["families"]] == ["FLUX", "SD 1.x"]
    for row, alone_row in zip(table["families"], res["families"]):
        assert row["auc_whole"] == pytest.approx(alone_row["auc"], abs=1e-6) == pytest.approx(row["auc_fused"], abs=1e-6)
    assert len(list(out.glob("*/fold_logits.npz"))) == 2  # kept beside each fold model

    # Folds only: one fold, no model on everything.
    only = tmp_path / "folds_only"
    folds = run_script("synthdet_scripts.lab.generalize", "--config=configs/tiny.py", f"--data_dir={data}", f"--workdir={only}",
                       "--min_images=40", "--families=FLUX", "--folds_only", "--config.data.held_out_sources=('album','genD')",
                       "--config.train.verbose=0")
    assert folds.returncode == 0, folds.stderr[-3000:]
    res_only = json.loads((only / "generalization.json").read_text())
    assert [r["family"] for r in res_only["families"]] == ["FLUX"] and res_only["all"] == {} and not (only / "_all").exists()


def test_fused_fold_row_standardises_each_stream():
    from synthdet_tf.lab import fused_lofo

    rng = np.random.default_rng(0)
    labels = np.r_[np.zeros(300), np.ones(300)]
    signal = labels * 1.0
    whole, local = signal + rng.normal(0, 1, 600), signal + rng.normal(0, 1, 600)
    split = lambda z: (z[:300], z[300:])  # noqa: E731
    val_w, val_l = signal + rng.normal(0, 1, 600), signal + rng.normal(0, 1, 600)
    row = fused_lofo.fold_row("X", labels, {"whole": val_w, "local": val_l},
                              {"whole": split(whole)[0], "local": split(local)[0]}, {"whole": split(whole)[1], "local": split(local)[1]})
    # Two independent readings of the same evidence: their standardised mean ranks better than either.
    assert row["auc_fused"] > max(row["auc_whole"], row["auc_local"]) + 0.02
    # A stream's scale does not change the fusion: it is standardised on validation first.
    scaled = fused_lofo.fold_row("X", labels, {"whole": val_w, "local": 100 * val_l},
                                 {"whole": split(whole)[0], "local": 100 * split(local)[0]},
                                 {"whole": split(whole)[1], "local": 100 * split(local)[1]})
    assert scaled["auc_fused"] == pytest.approx(row["auc_fused"], abs=1e-9) and scaled["n_fake"] == 300
