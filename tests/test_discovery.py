import logging

import pytest

from synthdet_tf.data.discovery import FAKE, REAL, discover, split_of
from synthdet_tf.data.families import family_of
from tests.conftest import bad_cases, encode, good_cases, random_rgb, smooth_rgb, write_folder


def test_labels_sources_and_formats(tiny_folder):
    d = discover(str(tiny_folder))
    assert len(d.records) == 24 and not d.skipped
    assert {r.label for r in d.records if r.relpath.startswith("real/")} == {REAL}
    assert {r.label for r in d.records if r.relpath.startswith("fake/")} == {FAKE}
    assert {r.source for r in d.records} == {"cam0", "cam1", "gen0", "gen1"}
    assert {r.info.format for r in d.records if r.label == FAKE} == {"PNG"}


def test_every_bad_case_is_skipped_logged_and_counted(tmp_path, caplog):
    files = {f"real/{k}": v for k, v in good_cases().items()}
    files.update({f"fake/{k}": v for k, (v, _) in bad_cases().items()})
    files["fake/ok.png"] = encode(random_rgb(), "PNG")
    write_folder(tmp_path, files)
    with caplog.at_level(logging.WARNING):
        d = discover(str(tmp_path))
    assert len(d.records) == len(good_cases()) + 1
    assert {s.relpath for s in d.skipped} == {f"fake/{k}" for k in bad_cases()}
    for name, (_, reason) in bad_cases().items():
        assert any(f"fake/{name}" in m and reason in m for m in caplog.messages), name
    assert sum(d.skip_reasons().values()) == len(bad_cases())


def test_source_prefers_manifest_then_prefix_then_folder(tmp_path):
    img = encode(random_rgb(), "PNG")
    write_folder(
        tmp_path,
        {
            "real/camA__1.png": img,
            "real/phone/2.png": img,
            "real/3.png": img,
            "fake/genB__4.png": img,
            "MANIFEST.csv": b"relpath,label,source_repo\nreal/3.png,REAL,owner/repo\nfake/genB__4.png,FAKE,owner/gen\n",
        },
    )
    d = discover(str(tmp_path))
    by_rel = {r.relpath: r.source for r in d.records}
    assert by_rel == {"real/camA__1.png": "camA", "real/phone/2.png": "phone", "real/3.png": "owner/repo", "fake/genB__4.png": "owner/gen"}
    assert d.manifest.rows == 2 and d.manifest.matched == 2 and d.manifest.not_in_manifest == 2
    assert {r.relpath: r.source for r in discover(str(tmp_path), source_from="prefix").records}["fake/genB__4.png"] == "genB"


def test_manifest_label_disagreeing_with_folder_is_skipped(tmp_path):
    img = encode(random_rgb(), "PNG")
    write_folder(tmp_path, {"real/a.png": img, "fake/b.png": img, "MANIFEST.csv": b"relpath,label\nreal/a.png,FAKE\n"})
    d = discover(str(tmp_path))
    assert [s.relpath for s in d.skipped] == ["real/a.png"] and "MANIFEST.csv says FAKE" in d.skipped[0].reason


def test_split_is_stable_when_files_are_added(tmp_path):
    img = encode(random_rgb(8, 8), "PNG")
    write_folder(tmp_path, {f"real/{i}.png": img for i in range(200)} | {f"fake/{i}.png": img for i in range(200)})
    before = {r.relpath: r.split for r in discover(str(tmp_path), verify=False).records}
    write_folder(tmp_path, {f"fake/new{i}.png": img for i in range(100)})
    after = {r.relpath: r.split for r in discover(str(tmp_path), verify=False).records}
    assert all(after[k] == v for k, v in before.items())
    counts = {s: list(before.values()).count(s) for s in ("train", "val", "test")}
    assert 280 <= counts["train"] <= 360 and counts["val"] > 15 and counts["test"] > 15


def test_split_fractions_and_salt():
    rels = [f"real/{i}.jpg" for i in range(2000)]
    assert {split_of(r, (1.0, 0.0, 0.0)) for r in rels} == {"train"}
    moved = sum(split_of(r) != split_of(r, salt="other") for r in rels)
    assert moved > 300
    with pytest.raises(ValueError, match="sum"):
        split_of("x", (0.5, 0.2, 0.2))


def test_hidden_files_ignored_and_missing_class_folder_explained(tmp_path):
    write_folder(tmp_path, {"real/.DS_Store": b"junk", "real/a.png": encode(random_rgb(), "PNG")})
    with pytest.raises(ValueError, match="missing: fake"):
        discover(str(tmp_path))
    write_folder(tmp_path, {"FAKE/b.png": encode(random_rgb(), "PNG")})
    assert sorted(r.relpath for r in discover(str(tmp_path)).records) == ["FAKE/b.png", "real/a.png"]


def test_several_folders_read_as_one_with_the_splits_they_have_alone(tiny_folder, tmp_path):
    other = write_folder(tmp_path / "wide", {f"fake/gen9__w{i}.png": encode(smooth_rgb(30, 30, seed=200 + i), "PNG") for i in range(20)})
    (other / "real").mkdir()
    (other / "MANIFEST.csv").write_text(
        "relpath,label,source,family,content\n" + "".join(f"fake/gen9__w{i}.png,fake,wide_gen,FLUX,face\n" for i in range(20)))
    alone = {r.relpath: r for r in discover(str(tiny_folder)).records + discover(str(other)).records}
    both = discover(f"{tiny_folder},{other}")
    assert both.root == f"{tiny_folder},{other}" and both.manifest.rows == 20
    assert len(both.records) == len(alone) == 44
    for r in both.records:
        folder, rel = r.relpath.split("/", 1)
        assert folder in ("tiny", "wide")
        assert (r.split, r.source, r.label) == (alone[rel].split, alone[rel].source, alone[rel].label)
    wide = [r for r in both.records if r.relpath.startswith("wide/")]
    assert {(r.source, r.family, r.content) for r in wide} == {("wide_gen", "FLUX", "face")}
    tiny = [r for r in both.records if r.relpath.startswith("tiny/")]
    assert {r.family for r in tiny if r.label == 0} == {"real"} and {r.family for r in tiny if r.label == 1} == {"gen0", "gen1"}
    assert discover([str(tiny_folder), str(other)]).records == both.records
    with pytest.raises(ValueError, match="distinct names"):
        discover(f"{tiny_folder},{tmp_path}/x/tiny")


@pytest.mark.parametrize("generator, family", [
    ("Stable Diffusion v1.4 (CIFAKE, 32x32)", "SD 1.x"),
    ("SDv15R-dpmsolver-25-15K (Sentry Fake2M/MPBench folder name)", "SD 1.x"),
    ("SDv2-dpmsolver-25-10K", "SD 2.x"),
    ("IF-ddim-50-15K", "DeepFloyd IF"),
    ("stylegan3-r-afhqv2-512x512", "StyleGAN"),
    ("GAN (unspecified)", "unnamed GAN"),
    ("a camera", None),
])
def test_generator_text_maps_to_a_family(generator, family):
    assert family_of(generator) == family


def test_manifest_generator_column_gives_the_family(tiny_folder):
    rows = [f"fake/gen{i % 2}__f{i}.png,fake,Stable Diffusion v1.5 run {i}" for i in range(12)]
    (tiny_folder / "MANIFEST.csv").write_text("relpath,label,generator_or_camera\n" + "\n".join(rows) + "\n")
    fakes = [r for r in discover(str(tiny_folder)).records if r.label == FAKE]
    assert {r.family for r in fakes} == {"SD 1.x"} and {r.source for r in fakes} == {"gen0", "gen1"}
