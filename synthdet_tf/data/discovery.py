"""Folders of `real/` and `fake/` images -> a checked table of records.

Layout: `<data_dir>/real/**` and `<data_dir>/fake/**` (any depth, any case of
the two folder names), optionally `<data_dir>/MANIFEST.csv` with at least
`relpath,label` and a source column (and, as `synthdet-data assemble` writes,
`family` and `content`). Several folders (a list, or comma-separated) read as
one: each file keeps the split it has in its own folder, and its relpath is
prefixed with its folder's name.

Each file gets:
- a label from its class folder: REAL = 0, FAKE = 1 (the project's order);
- a generator family and content tag from MANIFEST.csv when it has them
  (a `family` column, else `families.toml` applied to its generator text;
  REAL files are family "real"; a fake file without one is its source's);
- a source: MANIFEST.csv (`source`, else `source_repo` column), else the
  `<source>__` file-name prefix, else the first subfolder below the class
  folder, else "unknown" (`source_from` picks one way explicitly);
- a split from a hash of its relative path, so adding files never moves old
  ones between splits; a fake the manifest marks `aligned_with` a real file
  (`synthdet-data reconstruct`) takes that file's split, so a pair never
  straddles two splits;
- format, size and mode from a Pillow probe; files that fail it are skipped,
  logged with the reason and returned in `Discovery.skipped`.
"""

import concurrent.futures
import csv
import dataclasses
import hashlib
import logging
import os

from tqdm.auto import tqdm

from synthdet_tf.data.families import family_of
from synthdet_tf.data.pillow_io import DEFAULT_MAX_PIXELS, BadImageError, probe
from synthdet_tf.data.records import FAKE, LABEL_NAMES, REAL, SPLITS, Discovery, ManifestCheck, Record, Skipped  # noqa: F401  (re-exported)

SOURCE_FROM = ("auto", "manifest", "prefix", "folder")
MANIFEST_NAME = "MANIFEST.csv"


def split_of(relpath: str, fractions=(0.8, 0.1, 0.1), salt: str = "") -> str:
    """Deterministic split of one file from a hash of its relative path."""
    if len(fractions) != 3 or min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"Split fractions must be three non-negative numbers summing to 1, got {fractions}")
    digest = hashlib.sha256((salt + relpath).encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0**64
    if u < fractions[0]:
        return "train"
    if u < fractions[0] + fractions[1]:
        return "val"
    return "test"


def _class_dirs(root: str) -> dict:
    if not os.path.isdir(root):
        raise ValueError(f"data_dir {root!r} is not a directory")
    found = {}
    for name in os.listdir(root):
        if os.path.isdir(os.path.join(root, name)) and name.lower() in ("real", "fake"):
            label = REAL if name.lower() == "real" else FAKE
            if label in found:
                raise ValueError(f"{root!r} has two folders for {LABEL_NAMES[label]}: {found[label]!r} and {name!r}")
            found[label] = name
    missing = [LABEL_NAMES[label].lower() for label in (REAL, FAKE) if label not in found]
    if missing:
        raise ValueError(f"{root!r} must contain real/ and fake/ folders; missing: {', '.join(missing)}")
    return found


def _walk_files(root: str, class_dir: str):
    """Relative posix paths of non-hidden files below root/class_dir, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, class_dir), followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith("."):
                out.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    return sorted(out)


def _parse_label(value: str) -> int | None:
    v = value.strip().lower()
    return {"real": REAL, "0": REAL, "fake": FAKE, "1": FAKE}.get(v)


@dataclasses.dataclass(frozen=True)
class ManifestRow:
    label: int | None
    source: str | None
    family: str | None  # the `family` column, else the family rules applied to the generator text
    content: str | None
    aligned_with: str | None = None  # the real file (relpath in its own folder) this fake was made from


def _cell(row: dict, column: str | None) -> str | None:
    return ((row.get(column) or "").strip() or None) if column else None


def read_manifest(root: str) -> dict | None:
    """relpath -> ManifestRow from MANIFEST.csv, if present."""
    path = os.path.join(root, MANIFEST_NAME)
    if not os.path.exists(path):
        return None
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        if "relpath" not in fields:
            raise ValueError(f"{path} has no 'relpath' column (columns: {fields})")
        source_col = next((c for c in ("source", "source_repo") if c in fields), None)
        manifest = {}
        for row in reader:
            generator = _cell(row, "generator") or _cell(row, "generator_or_camera")
            manifest[row["relpath"].strip()] = ManifestRow(
                _parse_label(row.get("label") or ""), _cell(row, source_col),
                _cell(row, "family") or family_of(generator), _cell(row, "content"), _cell(row, "aligned_with"))
        return manifest


def source_from_name(relpath: str) -> tuple[str | None, str | None]:
    """(prefix source, folder source) of a relpath like 'fake/sub/tag__x.png'."""
    parts = relpath.split("/")
    name = parts[-1]
    prefix = name.split("__", 1)[0] if "__" in name and not name.startswith("__") else None
    folder = parts[1] if len(parts) > 2 else None
    return prefix, folder


def _resolve_source(relpath, manifest_row, source_from):
    prefix, folder = source_from_name(relpath)
    manifest_source = manifest_row.source if manifest_row else None
    if source_from == "manifest":
        return manifest_source or "unknown"
    if source_from == "prefix":
        return prefix or "unknown"
    if source_from == "folder":
        return folder or "unknown"
    return manifest_source or prefix or folder or "unknown"


def data_dirs(data_dir) -> list:
    """The folders of a data_dir setting: a path, a comma-separated string of paths, or a list."""
    dirs = data_dir.split(",") if isinstance(data_dir, str) else list(data_dir)
    dirs = [d.strip() for d in dirs if d and d.strip()]
    if not dirs:
        raise ValueError("No data folder given")
    names = [os.path.basename(os.path.normpath(d)) for d in dirs]
    if len(set(names)) != len(names):
        raise ValueError(f"Data folders must have distinct names (their files are prefixed with them): {dirs}")
    return dirs


def _is_shard_folder(path: str) -> bool:
    if "://" in path:  # gs://, s3://: only shard folders are read remotely
        return True
    return os.path.exists(os.path.join(path, "SHARDS.json"))


def discover(data_dir, **kwargs) -> Discovery:
    """Finds, labels, checks and splits every image below each data_dir/{real,fake}.

    With several folders, a file's relpath becomes `<folder name>/<relpath>` while
    its split stays the one it has alone, so combining folders never moves a file.
    A folder `synthdet-data shard` wrote (SHARDS.json) gives back the records it
    was written from, their bytes read from its TFRecord shards.
    """
    dirs = data_dirs(data_dir)
    if any(_is_shard_folder(d) for d in dirs):
        if len(dirs) > 1:
            raise ValueError(f"A shard folder is read alone; shard the folders together instead: {dirs}")
        from synthdet_tf.data import shards

        return shards.load(dirs[0], **kwargs)
    if len(dirs) == 1:
        return _discover_root(dirs[0], **kwargs)
    parts = [(os.path.basename(os.path.normpath(d)), _discover_root(d, **kwargs)) for d in dirs]
    records = [dataclasses.replace(r, relpath=f"{name}/{r.relpath}") for name, found in parts for r in found.records]
    skipped = [dataclasses.replace(s, relpath=f"{name}/{s.relpath}") for name, found in parts for s in found.skipped]
    checks = [found.manifest for _, found in parts if found.manifest is not None]
    manifest = None if not checks else ManifestCheck(
        rows=sum(c.rows for c in checks), matched=sum(c.matched for c in checks),
        missing_on_disk=tuple(m for c in checks for m in c.missing_on_disk),
        not_in_manifest=sum(c.not_in_manifest for c in checks))
    return Discovery(root=",".join(found.root for _, found in parts), records=records, skipped=skipped, manifest=manifest)


def _discover_root(
    data_dir: str,
    *,
    fractions=(0.8, 0.1, 0.1),
    salt: str = "",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    verify: bool = True,
    source_from: str = "auto",
    workers: int | None = None,
    progress: bool = False,
) -> Discovery:
    """Finds, labels, checks and splits every image below data_dir/{real,fake}."""
    if source_from not in SOURCE_FROM:
        raise ValueError(f"Unknown source_from {source_from!r}; choose one of {SOURCE_FROM}")
    split_of("", fractions)  # validates fractions before any file work
    root = os.path.abspath(data_dir)
    manifest = read_manifest(root)
    candidates = [(rel, label) for label, d in sorted(_class_dirs(root).items()) for rel in _walk_files(root, d)]
    todo, skipped = _check_labels(candidates, manifest)
    results = _probe_all(root, [rel for rel, _, _ in todo], max_pixels=max_pixels, verify=verify, workers=workers, progress=progress)

    records = []
    for (rel, label, row), result in zip(todo, results):
        if isinstance(result, Skipped):
            skipped.append(result)
            continue
        source = _resolve_source(rel, row, source_from)
        records.append(Record(
            relpath=rel, path=os.path.join(root, rel), label=label, source=source,
            split=split_of((row and row.aligned_with) or rel, fractions, salt), info=result,
            family="real" if label == REAL else (row and row.family) or source,
            content=(row and row.content) or ""))
    for s in skipped:
        logging.warning("Skipping %s: %s", s.relpath, s.reason)
    manifest_check = _check_manifest(manifest, candidates)
    logging.info("Discovered %d usable images in %s; skipped %d", len(records), root, len(skipped))
    return Discovery(root=root, records=records, skipped=skipped, manifest=manifest_check)


def _check_labels(candidates, manifest) -> tuple[list, list]:
    """([(relpath, label, manifest row)] to probe, [Skipped]): files whose manifest label contradicts their folder are skipped."""
    todo, skipped = [], []
    for rel, label in candidates:
        row = manifest.get(rel) if manifest else None
        if row and row.label is not None and row.label != label:
            skipped.append(Skipped(rel, f"label mismatch: MANIFEST.csv says {LABEL_NAMES[row.label]}, folder says {LABEL_NAMES[label]}"))
        else:
            todo.append((rel, label, row))
    return todo, skipped


def _probe_all(root: str, relpaths: list, *, max_pixels, verify, workers, progress) -> list:
    """An ImageInfo or a Skipped for each relpath, in order."""
    def check(rel):
        try:
            return probe(os.path.join(root, rel), max_pixels=max_pixels, verify=verify)
        except BadImageError as e:
            return Skipped(rel, str(e))
        except OSError as e:
            return Skipped(rel, f"unreadable ({e.strerror or e})")

    # Pillow releases the GIL while decoding, so threads use every core.
    with concurrent.futures.ThreadPoolExecutor(workers or 2 * (os.cpu_count() or 1)) as pool:
        return list(tqdm(pool.map(check, relpaths), total=len(relpaths), desc="checking images", disable=not progress, unit="img"))


def _check_manifest(manifest, candidates) -> ManifestCheck | None:
    """How MANIFEST.csv and the files on disk agree (None without a manifest)."""
    if manifest is None:
        return None
    on_disk = {rel for rel, _ in candidates}
    missing = tuple(sorted(set(manifest) - on_disk))
    if missing:
        logging.warning("%d files listed in MANIFEST.csv are not on disk (first: %s)", len(missing), missing[0])
    return ManifestCheck(rows=len(manifest), matched=len(on_disk & set(manifest)), missing_on_disk=missing,
                         not_in_manifest=len(on_disk - set(manifest)))


def subsample(records: list, n: int, salt: str = "subsample") -> list:
    """A deterministic pseudo-random subset of n records (all when n <= 0 or n >= len).

    Ordered by a hash of each path, so both classes and every source appear in
    proportion, and the same files are picked on every run.
    """
    if n <= 0 or n >= len(records):
        return list(records)
    key = lambda r: hashlib.sha256((salt + r.relpath).encode("utf-8")).digest()  # noqa: E731
    return sorted(records, key=key)[:n]


def discover_from_config(data_cfg, progress: bool = False) -> Discovery:
    """`discover` with the settings of a run config's `data` section."""
    if not data_cfg.data_dir:
        raise ValueError("No data folder: set --data_dir (or --config.data.data_dir)")
    found = discover(
        data_cfg.data_dir,
        fractions=tuple(data_cfg.fractions),
        salt=data_cfg.split_salt,
        max_pixels=int(data_cfg.max_pixels),
        verify=data_cfg.verify,
        source_from=data_cfg.source_from,
        progress=progress,
    )
    return drop_small(found, int(data_cfg.get("min_side", 0)))


def drop_small(found: Discovery, min_side: int) -> Discovery:
    """Moves images with a side below `min_side` to the counted skips (a crop model's
    training, validation and threshold never see a 32 px image padded up to its crop)."""
    if min_side <= 0:
        return found
    small = [r for r in found.records if min(r.info.width, r.info.height) < min_side]
    if small:
        logging.info("Leaving out %d images with a side below min_side=%d px", len(small), min_side)
    keep = [r for r in found.records if min(r.info.width, r.info.height) >= min_side]
    skipped = found.skipped + [Skipped(r.relpath, f"smaller than min_side ({r.info.width}x{r.info.height} < {min_side})") for r in small]
    return Discovery(root=found.root, records=keep, skipped=skipped, manifest=found.manifest)
