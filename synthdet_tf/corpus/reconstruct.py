"""Content-aligned fakes: real photos passed through a generator's autoencoder.

`synthdet-data reconstruct` crops each real photo of a folder at native
resolution, encodes and decodes the crop with a pinned tiny autoencoder
(TAESD family; TAEF2 is FLUX.2's) and writes the reconstruction as a PNG FAKE
beside the real crop itself (a lossless PNG REAL), both manifest rows naming
the photo they came from (`aligned_with`), so discovery puts the pair in one
split. The pair differs only by the decoder's upsampling trace, which is what
a local-evidence detector should learn; and as both crops pass the same PSNR
filter, the two classes keep the same content.

Reconstructions that are not faithful teach "blurry = fake" instead: each
one's PSNR against its real crop is recorded, and those under `min_psnr` are
skipped and counted. The run resumes: files already in the output manifest (or
in its skip list) are not redone, and nothing is overwritten.
"""

import csv
import dataclasses
import functools
import hashlib
import logging
import os

import numpy as np
from PIL import Image

from synthdet_tf.data.discovery import REAL, data_dirs, discover
from synthdet_tf.data.pillow_io import decode_rgb

# Pinned weights: (repository, commit, encoder file, decoder file, sha256 of each).
AUTOENCODERS = {
    "taef2": dict(
        repository="madebyollin/taesd", commit="5cccb12dc72074a4be35680c3b108548a7c69978",
        encoder="taef2_encoder.pth", decoder="taef2_decoder.pth", licence="MIT",
        generator="FLUX.2 VAE, distilled (TAEF2, madebyollin/taesd)",
        sha256={"taef2_encoder.pth": "10a4e1021e89d7551eaf161352da8dbd0b1aa83872ae28b150c1df1ce2f147b6",
                "taef2_decoder.pth": "0a44a31e1ae59eb9dbf9359d24942fd3ef5928162c1800d97a28c61d51be0ab5"}),
}
FIELDS = ("relpath", "label", "source", "generator", "family", "content", "aligned_with", "aligned_folder", "box", "psnr", "decoder")
SKIP_FIELDS = ("key", "reason")


@dataclasses.dataclass(frozen=True)
class Job:
    key: str  # "<folder>/<real relpath>#<k>": unique per crop
    path: str
    aligned_with: str
    folder: str
    content: str
    box: tuple  # (top, left, size)
    out_relpath: str


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 images (inf when equal)."""
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def crop_boxes(relpath: str, height: int, width: int, size: int, count: int) -> list:
    """The centre crop first, then `count - 1` more at offsets drawn from a hash of the path."""
    if min(height, width) < size:
        return []
    boxes = [((height - size) // 2, (width - size) // 2, size)]
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(relpath.encode()).digest()[:8], "big"))
    for _ in range(count - 1):
        boxes.append((int(rng.integers(0, height - size + 1)), int(rng.integers(0, width - size + 1)), size))
    return boxes


def plan(data_dir: str, *, name: str, size: int, per_image: int) -> tuple:
    """([Job] for every real photo at least `size` px on its short side, [(key, reason)] left out)."""
    folders = data_dirs(data_dir)
    found = discover(folders)
    prefixed = len(folders) > 1
    jobs, skipped = [], []
    for r in (r for r in found.records if r.label == REAL):
        folder, rel = r.relpath.split("/", 1) if prefixed else (os.path.basename(os.path.normpath(folders[0])), r.relpath)
        boxes = crop_boxes(rel, r.info.height, r.info.width, size, per_image)
        if not boxes:
            skipped.append((f"{folder}/{rel}", f"smaller than {size} px"))
        stem = os.path.splitext(rel.split("/", 1)[-1])[0].replace("/", "_")
        for k, box in enumerate(boxes):
            out = f"fake/{name}__{folder}__{stem}__{k}.png"
            jobs.append(Job(f"{folder}/{rel}#{k}", r.path, rel, folder, r.content, box, out))
    return jobs, skipped


def _read_done(out: str) -> set:
    done = set()
    for name, column in (("MANIFEST.csv", "relpath"), ("SKIPPED.csv", "key")):
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, newline="", encoding="utf-8") as f:
                done.update(row[column] for row in csv.DictReader(f))
    return done


def _appender(path: str, fields: tuple):
    new = not os.path.exists(path)
    f = open(path, "a", newline="", encoding="utf-8")
    writer = csv.DictWriter(f, fieldnames=fields)
    if new:
        writer.writeheader()
    return f, writer


def weight_files(name: str, *, weights_dir: str | None = None, repos_dir: str | None = None, cache_dir: str) -> tuple:
    """(encoder path, decoder path) of a pinned autoencoder, checked by sha256.

    From `weights_dir` (the two .pth files, e.g. downloaded where there is a
    network) or read from the pinned commit of a clone / snapshot under `repos_dir`.
    """
    spec = AUTOENCODERS.get(name)
    if spec is None:
        raise ValueError(f"unknown autoencoder {name!r}; choose one of {sorted(AUTOENCODERS)}")
    paths = []
    for file in (spec["encoder"], spec["decoder"]):
        if weights_dir:
            path = os.path.join(weights_dir, file)
        elif repos_dir:
            path = os.path.join(cache_dir, file)
            if not os.path.exists(path):
                _copy_from_repo(repos_dir, spec, file, path)
        else:
            raise ValueError(f"{name}: give --weights_dir (holding {file}) or --repos_dir (a clone of {spec['repository']})")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found: get {file} from https://github.com/{spec['repository']} @ {spec['commit'][:8]}")
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != spec["sha256"][file]:
            raise ValueError(f"{path}: sha256 {digest} is not the pinned {spec['sha256'][file]}")
        paths.append(path)
    return tuple(paths)


def _copy_from_repo(repos_dir: str, spec: dict, file: str, path: str):
    from synthdet_tf.corpus import gitstore

    git_dir = gitstore.find_repo(repos_dir, spec["repository"])
    commit = gitstore.resolve_commit(git_dir, spec["commit"])
    entry = next((e for e in gitstore.list_tree(git_dir, commit) if e.path == file), None)
    with gitstore.BlobReader(git_dir) as reader:
        data = reader.read(entry.blob) if entry else None
    if not data:
        raise FileNotFoundError(f"{file} is not readable at {spec['repository']} @ {spec['commit'][:8]} in {git_dir}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".part", "wb") as f:
        f.write(data)
    os.replace(path + ".part", path)


def taesd_round_trip(encoder_path: str, decoder_path: str):
    """uint8 [N, S, S, 3] -> uint8 reconstructions through a TAESD-family autoencoder (XLA-compiled)."""
    import tensorflow as tf

    from synthdet_tf.models.taesd import load_taesd

    encoder, decoder = load_taesd(encoder_path, decoder_path)

    @tf.function(jit_compile=True, reduce_retracing=True)
    def run(batch):
        return decoder(encoder(tf.cast(batch, tf.float32) / 255.0))

    return lambda batch: np.clip(np.round(run(batch).numpy() * 255.0), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=2)  # a photo's crops are planned one after another: decode it once
def _decoded(path: str) -> np.ndarray:
    return decode_rgb(path)


def _crop(job: Job) -> np.ndarray:
    top, left, size = job.box
    return _decoded(job.path)[top : top + size, left : left + size]


def _row(job: Job, name: str, value: float, label: str) -> dict:
    real = label == "real"
    return dict(relpath=job.out_relpath.replace("fake/", "real/", 1) if real else job.out_relpath, label=label,
                source=f"{name}_pair_real" if real else f"{name}_recon",
                generator="" if real else AUTOENCODERS.get(name, {}).get("generator", name), family="real" if real else "AE reconstruction",
                content=job.content, aligned_with=job.aligned_with, aligned_folder=job.folder,
                box="{} {} {}".format(*job.box), psnr=f"{value:.2f}", decoder=name)


def _save_pair(out: str, pair: list, manifest) -> None:
    """Writes a real crop and its reconstruction, or neither when a file is already at either path."""
    for row, _ in pair:
        if os.path.exists(os.path.join(out, row["relpath"])):
            raise FileExistsError(f"{os.path.join(out, row['relpath'])} exists but is not in {out}/MANIFEST.csv; not overwriting it")
    for row, pixels in pair:
        Image.fromarray(pixels).save(os.path.join(out, row["relpath"]), format="PNG")
        manifest.writerow(row)


def reconstruct(data_dir, out: str, *, autoencoder, name: str = "taef2", size: int = 256, per_image: int = 1,
                batch_size: int = 8, min_psnr: float = 30.0, limit: int | None = None) -> dict:
    """Writes each real crop of `data_dir` and its reconstruction to `out` (real/, fake/, MANIFEST.csv).

    `autoencoder` maps a uint8 batch [N, size, size, 3] to its reconstructions
    (`taesd_round_trip`); `name` keys AUTOENCODERS for the manifest. Returns `summarize(out)`.
    """
    if size % 8:
        raise ValueError(f"crop size must be a multiple of 8 (the autoencoder's stride), got {size}")
    jobs, too_small = plan(data_dir, name=name, size=size, per_image=per_image)
    os.makedirs(os.path.join(out, "fake"), exist_ok=True)
    os.makedirs(os.path.join(out, "real"), exist_ok=True)
    done = _read_done(out)
    todo = [j for j in jobs if j.out_relpath not in done and j.key not in done][:limit]
    logging.info("%d crops planned, %d already done, %d to make", len(jobs), len(jobs) - len(todo), len(todo))
    (mf, manifest), (sf, skips) = _appender(os.path.join(out, "MANIFEST.csv"), FIELDS), _appender(os.path.join(out, "SKIPPED.csv"), SKIP_FIELDS)
    try:
        for start in range(0, len(todo), batch_size):
            group = todo[start : start + batch_size]
            originals = np.stack([_crop(j) for j in group])
            for job, real, fake in zip(group, originals, autoencoder(originals)):
                value = psnr(real, fake)
                if value < min_psnr:
                    skips.writerow(dict(key=job.key, reason=f"psnr {value:.2f} < {min_psnr}"))
                    continue
                _save_pair(out, [(_row(job, name, value, "real"), real), (_row(job, name, value, "fake"), fake)], manifest)
            mf.flush(), sf.flush()
            logging.info("reconstructed %d / %d", min(start + batch_size, len(todo)), len(todo))
    finally:
        mf.close(), sf.close()
    return summarize(out, too_small=len(too_small))


def summarize(out: str, too_small: int = 0) -> dict:
    """Counts and PSNR percentiles of a reconstruction folder, from its manifest and skip list."""
    with open(os.path.join(out, "MANIFEST.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "SKIPPED.csv"), newline="", encoding="utf-8") as f:
        skipped = list(csv.DictReader(f))
    rows = [r for r in rows if r["label"] == "fake"]
    values = np.array([float(r["psnr"]) for r in rows]) if rows else np.zeros(0)
    low = [float(s["reason"].split()[1]) for s in skipped if s["reason"].startswith("psnr")]
    every = np.concatenate([values, np.array(low)]) if low else values
    pct = lambda v, q: round(float(np.percentile(v, q)), 2) if len(v) else None  # noqa: E731
    return dict(written=len(rows), pairs=len({r["aligned_folder"] + "/" + r["aligned_with"] for r in rows}),
                below_min_psnr=len(low), reals_too_small=too_small,
                psnr_kept=dict(p10=pct(values, 10), median=pct(values, 50), p90=pct(values, 90)),
                psnr_all=dict(p10=pct(every, 10), median=pct(every, 50), p90=pct(every, 90)))
