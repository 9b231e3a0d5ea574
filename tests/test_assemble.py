"""`synthdet-data assemble` end to end on git repositories built here."""

import csv
import hashlib
import json
import os
import pathlib
import shutil
import subprocess

import pytest

from synthdet_tf.corpus import assemble, gitstore
from synthdet_tf.data.discovery import discover
from synthdet_tf.corpus.sources import load_sources, parse_sources
from tests.conftest import encode, random_rgb, smooth_rgb, write_folder

LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 123456\n"


def git(repo, *args) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00", "GIT_COMMITTER_DATE": "2024-01-01T00:00:00"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env).stdout.decode().strip()


def commit_all(repo, message) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    """owner/pics upstream, and a snapshot of it lacking one blob (as search-tool snapshots lack large files).

    Commit 1 has every case; commit 2 drops one file and adds another.
    """
    root = tmp_path_factory.mktemp("repos")
    repo = root / "upstream" / "pics"
    repo.mkdir(parents=True)
    git(repo, "init", "-q")
    smooth = smooth_rgb(96, 128, seed=1)
    write_folder(repo, {
        "imgs/a.png": encode(smooth, "PNG"),
        "imgs/near.jpg": encode(smooth, "JPEG", quality=95),  # the same picture re-encoded
        "imgs/dup.png": encode(smooth, "PNG"),  # the same bytes as a.png
        "imgs/sub/b.jpg": encode(random_rgb(80, 100, seed=2), "JPEG", quality=90),
        "imgs/old_only.png": encode(random_rgb(90, 90, seed=3), "PNG"),
        "imgs/lfs.png": LFS_POINTER,
        "imgs/notes.png": b"not an image at all\n",
        "imgs/tiny.png": encode(random_rgb(20, 20, seed=4), "PNG"),
        "imgs/skip_me.png": encode(random_rgb(70, 70, seed=5), "PNG"),
        "imgs/gone.png": encode(random_rgb(75, 75, seed=6), "PNG"),
        "imgs/x_y.png": encode(random_rgb(72, 72, seed=7), "PNG"),
        "imgs/x/y.png": encode(random_rgb(72, 72, seed=8), "PNG"),
        "README.md": b"# pictures\n",
    })
    first = commit_all(repo, "first")
    os.remove(repo / "imgs" / "old_only.png")
    write_folder(repo, {"imgs/new.png": encode(random_rgb(64, 96, seed=9), "PNG")})
    second = commit_all(repo, "second")
    snapshot = root / "snapshots" / "owner+pics"
    shutil.copytree(repo, snapshot)
    gone = git(snapshot, "rev-parse", f"{first}:imgs/gone.png")
    os.remove(snapshot / ".git" / "objects" / gone[:2] / gone[2:])
    return root / "snapshots", first, second


def sources_text(first, second, extra="") -> str:
    return f"""
[defaults]
min_side = 32

[[source]]
id = "old"
repository = "owner/pics"
commit = "{first}"
include = ["imgs/**/*.png", "imgs/**/*.jpg"]
exclude = ["**/skip_*"]
label = "fake"
generator = "Test GAN v1"
family = "StyleGAN"
content = "scene"
licence = "CC0"

[[source]]
id = "new"
repository = "owner/pics"
commit = "{second}"
include = ["imgs/new.png", "imgs/a.png"]
label = "real"
generator = "camera photos"
family = "real"
content = "people"
licence = "CC0"
{extra}"""


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def tree_digest(folder) -> dict:
    folder = pathlib.Path(folder)
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_assemble_takes_pinned_blobs_byte_for_byte_and_explains_every_skip(repos, tmp_path):
    root, first, second = repos
    out = tmp_path / "wide"
    report = assemble.assemble(parse_sources(sources_text(first, second)), str(root), str(out))

    manifest = {r["relpath"]: r for r in read_csv(out / "MANIFEST.csv")}
    assert sorted(manifest) == ["fake/old__a.png", "fake/old__old_only.png", "fake/old__sub_b.jpg", "fake/old__x_y.png", "real/new__new.png"]
    row = manifest["fake/old__old_only.png"]  # a blob only in the older commit
    assert (row["commit"], row["path"], row["family"], row["content"]) == (first, "imgs/old_only.png", "StyleGAN", "scene")
    assert row["blob"] == git(root / "owner+pics", "rev-parse", f"{first}:imgs/old_only.png")
    for rel, r in manifest.items():
        data = (out / rel).read_bytes()
        assert data == subprocess.run(["git", "-C", str(root / "owner+pics"), "cat-file", "blob", r["blob"]], capture_output=True, check=True).stdout
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
    stats = {r["relpath"]: r for r in read_csv(out / "IMAGE_STATS.csv")}
    assert set(stats) == set(manifest) and stats["fake/old__sub_b.jpg"]["jpeg_quality"] == "90"

    reasons = {d["path"]: d["reason"] for d in report["dropped"]}
    assert reasons["imgs/dup.png"].startswith("duplicate: same bytes as fake/old__a.png")
    assert reasons["imgs/near.jpg"].startswith("near duplicate: of fake/old__a.png")
    assert reasons["imgs/lfs.png"].startswith("Git LFS pointer")
    assert reasons["imgs/gone.png"].startswith("missing blob")
    assert reasons["imgs/notes.png"].startswith("not a usable image")
    assert reasons["imgs/tiny.png"].startswith("smaller than min_side 32")
    collided = {"imgs/x_y.png", "imgs/x/y.png"} - {manifest["fake/old__x_y.png"]["path"]}
    assert reasons[collided.pop()].startswith("name collision: fake/old__x_y.png is already old:imgs/")
    assert "imgs/skip_me.png" not in reasons and not any("skip_me" in r for r in manifest)
    # the same picture under the other label is refused too, naming where it already is
    assert {d["path"]: d["reason"] for d in report["dropped"] if d["source"] == "new"}["imgs/a.png"].startswith("duplicate")
    assert json.loads((out / assemble.REPORT_NAME).read_text())["kept"] == 5


def test_rerun_gives_the_same_folder_and_nothing_is_left_behind(repos, tmp_path):
    root, first, second = repos
    out = tmp_path / "wide"
    sources = parse_sources(sources_text(first, second))
    assemble.assemble(sources, str(root), str(out))
    before = tree_digest(out)
    assemble.assemble(sources, str(root), str(out))
    assert tree_digest(out) == before
    assert sorted(os.listdir(tmp_path)) == ["wide"]  # no staging or backup folders


def test_a_users_folder_is_never_replaced_without_overwrite(repos, tmp_path):
    root, first, second = repos
    mine = write_folder(tmp_path / "mine", {"notes.txt": b"keep me"})
    with pytest.raises(FileExistsError, match="not made by assemble"):
        assemble.assemble(parse_sources(sources_text(first, second)), str(root), str(mine))
    assert (mine / "notes.txt").read_bytes() == b"keep me"


def test_source_problems_are_named_and_only_nothing_usable_fails(repos, tmp_path):
    root, first, second = repos
    missing = sources_text(first, second).replace(second, "f" * 40).replace('include = ["imgs/**/*.png", "imgs/**/*.jpg"]', 'include = ["nothing/*.png"]')
    with pytest.raises(assemble.NothingUsableError, match="old: the globs .* match no file.*new: commit f{40} is not in"):
        assemble.assemble(parse_sources(missing), str(root), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists() and os.listdir(tmp_path) == []
    partly = sources_text(first, second).replace(second, "f" * 40)
    report = assemble.assemble(parse_sources(partly), str(root), str(tmp_path / "out"))
    assert report["kept"] == 4 and [s["error"] for s in report["sources"]][1].startswith("commit ffff")


def test_dedupe_against_a_reference_folder(repos, tmp_path):
    root, first, second = repos
    dev = write_folder(tmp_path / "dev", {"real/x.png": encode(random_rgb(64, 96, seed=9), "PNG"),
                                          "fake/y.jpg": encode(smooth_rgb(96, 128, seed=1), "JPEG", quality=90)})
    report = assemble.assemble(parse_sources(sources_text(first, second)), str(root), str(tmp_path / "out"), dedupe_against=[str(dev)])
    reasons = {d["path"]: d["reason"] for d in report["dropped"]}
    assert reasons["imgs/new.png"] == "duplicate: same bytes as dev:real/x.png (sha256)"
    assert reasons["imgs/a.png"].startswith("near duplicate: of dev:fake/y.jpg")
    with pytest.raises(ValueError, match="reference folder itself"):
        assemble.assemble(parse_sources(sources_text(first, second)), str(root), str(dev), dedupe_against=[str(dev)])


def test_max_files_caps_deterministically(repos, tmp_path):
    root, first, second = repos
    text = sources_text(first, second).replace('content = "scene"', 'content = "scene"\nmax_files = 2')
    a = assemble.assemble(parse_sources(text), str(root), str(tmp_path / "a"))
    assemble.assemble(parse_sources(text), str(root), str(tmp_path / "b"))
    old = next(s for s in a["sources"] if s["id"] == "old")
    assert old["kept"] == 2 and old["capped"] > 0
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_clone_mode_fetches_the_pinned_commit_from_a_git_url(repos, tmp_path):
    root, first, second = repos
    url = str(root.parent / "upstream" / "{name}")
    git_dir = gitstore.clone(str(tmp_path / "clones"), "owner/pics", first, url_template=url)
    assert git_dir == str(tmp_path / "clones" / "owner" / "pics.git")
    assert gitstore.find_repo(str(tmp_path / "clones"), "owner/pics") == git_dir
    report = assemble.assemble(parse_sources(sources_text(first, second)), str(tmp_path / "clones2"), str(tmp_path / "out"), clone_url=url)
    assert report["kept"] == 6  # a full clone lacks no blob: gone.png is taken too
    assert "imgs/gone.png" not in {d["path"] for d in report["dropped"]}


def test_assembled_folder_reads_with_families_and_content(repos, tmp_path):
    root, first, second = repos
    out = tmp_path / "wide"
    assemble.assemble(parse_sources(sources_text(first, second)), str(root), str(out))
    found = discover(str(out))
    by_rel = {r.relpath: r for r in found.records}
    assert (by_rel["fake/old__a.png"].source, by_rel["fake/old__a.png"].family, by_rel["fake/old__a.png"].content) == ("old", "StyleGAN", "scene")
    assert (by_rel["real/new__new.png"].family, by_rel["real/new__new.png"].content) == ("real", "people")


@pytest.mark.parametrize("change, message", [
    (('id = "old"', 'id = "Old!"'), "id must match"),
    (('label = "fake"', 'label = "synthetic"'), "label must be one of"),
    (('family = "StyleGAN"', 'family = "real"'), "family 'real' is for real rows"),
    (('content = "scene"', 'content = "landscape"'), "content must be one of"),
    (('id = "new"', 'id = "old"'), "appears twice"),
    (('licence = "CC0"', 'licence = "CC0"\ncolour = "blue"'), "unknown keys \\['colour'\\]"),
])
def test_bad_sources_rows_are_named(change, message):
    text = sources_text("a" * 40, "b" * 40).replace(*change, 1)
    with pytest.raises(ValueError, match=message):
        parse_sources(text)


def test_unknown_source_id_and_the_shipped_sources_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(sources_text("a" * 40, "b" * 40))
    with pytest.raises(ValueError, match=r"Unknown source id\(s\) \['nope'\]"):
        load_sources(str(path), only=["nope"])
    shipped = load_sources(os.path.join(os.path.dirname(assemble.__file__), "sources.toml"))
    assert {s.label for s in shipped} == {"real", "fake"} and len({s.family for s in shipped if s.label == "fake"}) >= 12


def test_output_names_keep_files_of_different_globbed_folders_apart():
    source = parse_sources(sources_text("a" * 40, "b" * 40))[0]
    import dataclasses
    two = dataclasses.replace(source, include=("r/fal/flux/*.png", "r/replicate/flux/*.png"))
    assert assemble.output_name(two, "r/fal/flux/1.png") == "old__fal_flux_1.png"
    assert assemble.output_name(two, "r/replicate/flux/1.png") == "old__replicate_flux_1.png"
    one = dataclasses.replace(source, include=("cases/*/*.png",))
    assert assemble.output_name(one, "cases/12/out.png") == "old__12_out.png"


def test_the_command_prints_the_table_and_fails_only_when_nothing_is_usable(repos, tmp_path):
    from tests.test_scripts import run_script

    root, first, second = repos
    sources = tmp_path / "sources.toml"
    sources.write_text(sources_text(first, second))
    out = tmp_path / "wide"
    ok = run_script("synthdet_scripts.data", "assemble", f"--sources={sources}", f"--repos_dir={root}", f"--out={out}", "--only=old")
    assert ok.returncode == 0, ok.stderr
    assert "old" in ok.stdout and "Kept 4 files: 0 real, 4 fake" in ok.stdout and (out / "MANIFEST.csv").exists()
    assert "old: skipping imgs/lfs.png: Git LFS pointer" in ok.stderr  # one line per file not taken
    unknown = run_script("synthdet_scripts.data", "assemble", f"--sources={sources}", f"--repos_dir={root}", f"--out={out}", "--only=nope")
    assert unknown.returncode != 0 and "Unknown source id(s) ['nope']" in unknown.stderr
    empty = run_script("synthdet_scripts.data", "assemble", f"--sources={sources}", f"--repos_dir={tmp_path / 'none'}", f"--out={tmp_path / 'x'}")
    assert empty.returncode != 0 and "no usable file came out" in empty.stderr and not (tmp_path / "x").exists()


PAIRED = """
[[source]]
id = "edits"
repository = "owner/pics"
commit = "{second}"
include = {include}
label = "fake"
generator = "Test editor"
family = "SDXL"
content = "scene"
licence = "CC0"
aligned_from = '{pattern}'
aligned_to = '{target}'
"""

TWO_EDITS = dict(include='["imgs/x/y.png", "imgs/sub/b.jpg"]', pattern=r"^imgs/(x/y\.png|sub/b\.jpg)$")


def test_a_paired_fake_names_its_real_and_shares_its_split(repos, tmp_path):
    root, first, second = repos
    text = sources_text(first, second, PAIRED.format(second=second, target="imgs/new.png", **TWO_EDITS))
    sources = [s for s in parse_sources(text) if s.id in ("new", "edits")]
    assemble.assemble(sources, str(root), str(tmp_path / "wide"))
    rows = {r["relpath"]: r for r in read_csv(tmp_path / "wide" / "MANIFEST.csv")}
    edits = [r for r in rows.values() if r["source"] == "edits"]
    assert len(edits) == 2 and {r["aligned_with"] for r in edits} == {"real/new__new.png"}
    assert all(r["aligned_with"] == "" for r in rows.values() if r["source"] == "new")
    split = {r.relpath: r.split for r in discover(str(tmp_path / "wide")).records}
    assert {split[r["relpath"]] for r in edits} == {split["real/new__new.png"]}


def test_a_pair_whose_real_was_not_kept_still_names_it(repos, tmp_path):
    root, first, second = repos
    text = sources_text(first, second, PAIRED.format(second=second, target="imgs/never_there.png", **TWO_EDITS))
    sources = [s for s in parse_sources(text) if s.id in ("new", "edits")]
    assemble.assemble(sources, str(root), str(tmp_path / "wide"))
    edits = [r for r in read_csv(tmp_path / "wide" / "MANIFEST.csv") if r["source"] == "edits"]
    assert {r["aligned_with"] for r in edits} == {"owner/pics:imgs/never_there.png"}


@pytest.mark.parametrize("extra, message", [
    ("aligned_from = 'a'", "go together"),
    ("aligned_from = '('\naligned_to = 'b'", "not a regular expression"),
])
def test_bad_pair_keys_are_named(extra, message):
    text = sources_text("a" * 40, "b" * 40).replace('licence = "CC0"', f'licence = "CC0"\n{extra}', 1)
    with pytest.raises(ValueError, match=message):
        parse_sources(text)
    real_row = sources_text("a" * 40, "b" * 40).replace('content = "people"', "content = \"people\"\naligned_from = 'a'\naligned_to = 'b'")
    with pytest.raises(ValueError, match="on a fake row"):
        parse_sources(real_row)


def test_a_paired_fake_may_look_like_its_real_but_not_like_a_reference_image(repos, tmp_path):
    root, first, second = repos
    paired = PAIRED.format(second=first, target="imgs/a.png", include='["imgs/near.jpg"]', pattern=r"^imgs/near\.jpg$")
    text = sources_text(first, second, paired)
    sources = [s for s in parse_sources(text) if s.id in ("new", "edits")]
    assemble.assemble(sources, str(root), str(tmp_path / "wide"))
    edits = [r for r in read_csv(tmp_path / "wide" / "MANIFEST.csv") if r["source"] == "edits"]
    assert [r["aligned_with"] for r in edits] == ["real/new__a.png"]  # the re-encoded a.png, kept as a.png's pair
    reference = write_folder(tmp_path / "ref", {"real/a.png": encode(smooth_rgb(96, 128, seed=1), "PNG"), "fake/z.png": encode(random_rgb(40, 40), "PNG")})
    report = assemble.assemble(sources, str(root), str(tmp_path / "wide2"), dedupe_against=[str(reference)])
    assert {"source": "edits", "path": "imgs/near.jpg", "reason": "near duplicate: of ref:real/a.png (dHash distance 0)"} in report["dropped"]


def test_the_licence_table_in_docs_lists_every_shipped_source():
    from synthdet_tf.corpus.sources import licence_table

    shipped = load_sources(os.path.join(os.path.dirname(assemble.__file__), "sources.toml"))
    docs = pathlib.Path(__file__).parent.parent / "docs" / "source_licences.md"
    assert docs.read_text(encoding="utf-8").endswith(licence_table(shipped))
    assert len(licence_table(shipped).splitlines()) == len(shipped) + 2


def test_a_pair_whose_real_is_a_duplicate_of_a_kept_real_is_paired_through_it(repos, tmp_path):
    root, first, second = repos
    text = sources_text(first, second, PAIRED.format(second=second, target="imgs/dup.png", **TWO_EDITS))
    text = text.replace('include = ["imgs/new.png", "imgs/a.png"]', 'include = ["imgs/new.png", "imgs/a.png", "imgs/dup.png"]')
    sources = [s for s in parse_sources(text) if s.id in ("new", "edits")]
    report = assemble.assemble(sources, str(root), str(tmp_path / "wide"))
    assert any(d["path"] == "imgs/dup.png" and d["reason"].startswith("duplicate: same bytes as real/new__a.png") for d in report["dropped"])
    edits = [r for r in read_csv(tmp_path / "wide" / "MANIFEST.csv") if r["source"] == "edits"]
    assert len(edits) == 2 and {r["aligned_with"] for r in edits} == {"real/new__a.png"}
