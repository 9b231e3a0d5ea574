"""Build a real/ fake/ corpus from pinned commits of public repositories.

    synthdet-data assemble --sources=synthdet_tf/corpus/sources.toml --repos_dir=/work/.mirror \\
        --out=runs/wide --dedupe_against=../shared/data/dev

Every file is taken byte for byte from the git object store at the source's
pinned commit (no checkout, never re-encoded or resized) and written as
`<label>/<source id>__<name>`, with MANIFEST.csv (where each file came from)
and IMAGE_STATS.csv (what it is). Exact and near duplicates are dropped, across
sources and against reference folders such as the dev set. Every file not
taken gets a reason in ASSEMBLY.json. The corpus is built in a temporary
folder beside `--out` and renamed into place, so `--out` is never half-written;
re-running on the same inputs gives the same folder.
"""

import collections
import csv
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile

from PIL import Image
from tqdm.auto import tqdm
from wcmatch import glob as wcglob

from synthdet_tf.corpus import dedupe, gitstore
from synthdet_tf.data.block_grid import block_grid_ratio
from synthdet_tf.data.pillow_io import BadImageError, decode_rgb, probe

MANIFEST_FIELDS = ("relpath", "label", "source", "repository", "commit", "path", "blob", "sha256",
                   "generator", "family", "content", "camera", "licence", "aligned_with")
STATS_FIELDS = ("relpath", "label", "format", "mode", "width", "height", "bytes", "jpeg_quality", "block_grid", "sha256")
REPORT_NAME = "ASSEMBLY.json"
_GLOB_FLAGS = wcglob.GLOBSTAR | wcglob.BRACE
_EXIF_MAKE, _EXIF_MODEL = 0x010F, 0x0110


class NothingUsableError(RuntimeError):
    """No source gave a single usable file."""


@dataclasses.dataclass
class SourceReport:
    id: str
    repository: str
    commit: str
    matched: int = 0
    kept: int = 0
    capped: int = 0
    error: str = ""
    skipped: collections.Counter = dataclasses.field(default_factory=collections.Counter)


def select(source, entries) -> list:
    """Entries matching the source's globs, in a fixed pseudo-random order (so a cap samples fairly)."""
    chosen = [e for e in entries if wcglob.globmatch(e.path, source.include, exclude=source.exclude or None, flags=_GLOB_FLAGS)]
    return sorted(chosen, key=lambda e: hashlib.sha256(f"{source.id}/{e.path}".encode()).hexdigest())


def _fixed_folders(pattern: str) -> list:
    fixed = []
    for part in pattern.split("/")[:-1]:
        if any(c in part for c in "*?[{"):
            break
        fixed.append(part)
    return fixed


def output_name(source, path: str) -> str:
    """`<id>__<path below the folders every include glob fixes, '/' -> '_'>`.

    Only the folders common to all globs are dropped, so files of the same name
    in two globbed folders (e.g. `fal/x.png`, `replicate/x.png`) stay apart.
    """
    common = os.path.commonprefix([_fixed_folders(p) for p in source.include])
    return f"{source.id}__{'_'.join(path.split('/')[len(common):])}"


def _camera(path: str) -> str:
    try:
        with Image.open(path) as image:
            exif = image.getexif()
    except Exception:  # noqa: BLE001 - a file that passed probe but has unreadable EXIF just has no camera
        return ""
    make = str(exif.get(_EXIF_MAKE, "")).strip("\0 ")
    model = str(exif.get(_EXIF_MODEL, "")).strip("\0 ")
    return model if make and model.lower().startswith(make.lower().split()[0]) else f"{make} {model}".strip()


def _filter_reason(source, info) -> str:
    short, long = min(info.width, info.height), max(info.width, info.height)
    if source.min_side and short < source.min_side:
        return f"smaller than min_side {source.min_side} ({info.width}x{info.height})"
    if source.max_side and long > source.max_side:
        return f"larger than max_side {source.max_side} ({info.width}x{info.height})"
    return ""


class _Builder:
    """Writes kept files into a staging folder and remembers rows and reasons."""

    def __init__(self, staging: str, index: dedupe.DuplicateIndex):
        self.staging, self.index = staging, index
        self.manifest, self.stats, self.dropped = [], [], []
        self.names = {}

    def skip(self, report, source, entry, reason: str):
        kind = reason.split(":")[0].split(" (")[0]
        report.skipped[kind] += 1
        self.dropped.append({"source": source.id, "path": entry.path, "reason": reason})
        logging.warning("%s: skipping %s: %s", source.id, entry.path, reason)

    def take(self, source, commit, entry, reader) -> str:
        """Writes one entry; returns "" when kept, else the reason it was not."""
        if entry.size is None:
            return "missing blob: not in this clone (search-tool snapshots lack files of 4 MiB and more)"
        if source.max_bytes and entry.size > source.max_bytes:
            return f"over max_bytes {source.max_bytes} ({entry.size} bytes)"
        data = reader.read(entry.blob)
        if data is None:
            return "missing blob: not in this clone"
        if gitstore.is_lfs_pointer(data):
            return "Git LFS pointer, not the image (the store has only the pointer)"
        sha = dedupe.sha256(data)
        if (same := self.index.exact(sha)) is not None:
            return f"duplicate: same bytes as {same} (sha256)"
        relpath = f"{source.label}/{output_name(source, entry.path)}"
        if relpath in self.names:
            return f"name collision: {relpath} is already {self.names[relpath]}"
        path = os.path.join(self.staging, relpath)
        with open(path, "wb") as f:
            f.write(data)
        reason = self._check(source, path, data, relpath, sha)
        if reason:
            os.remove(path)
            return reason
        self.names[relpath] = f"{source.id}:{entry.path}"
        self.manifest.append({
            "relpath": relpath, "label": source.label, "source": source.id, "repository": source.repository,
            "commit": commit, "path": entry.path, "blob": entry.blob, "sha256": sha, "generator": source.generator,
            "family": source.family, "content": source.content, "camera": _camera(path), "licence": source.licence,
            "aligned_with": "",
        })
        return ""

    def _check(self, source, path, data, relpath, sha) -> str:
        try:
            info = probe(path)
        except BadImageError as e:
            return f"not a usable image: {e}"
        if reason := _filter_reason(source, info):
            return reason
        phash = dedupe.dhash_bytes(data)
        near = self.index.near(phash)
        # a paired fake is meant to look like a real of its own corpus; reference folders (dev, external) still count
        if near is not None and not (source.aligned_from and near[0].startswith("real/")):
            return f"near duplicate: of {near[0]} (dHash distance {near[1]})"
        self.index.add(relpath, sha, phash)
        self.stats.append({
            "relpath": relpath, "label": source.label, "format": info.format, "mode": info.mode, "width": info.width,
            "height": info.height, "bytes": info.num_bytes, "jpeg_quality": info.jpeg_quality or "",
            "block_grid": f"{block_grid_ratio(decode_rgb(path)):.3f}", "sha256": sha,
        })
        return ""


def _open_source(source, repos_dir, clone_url):
    git_dir = (gitstore.clone(repos_dir, source.repository, source.commit, clone_url) if clone_url
               else gitstore.find_repo(repos_dir, source.repository))
    commit = gitstore.resolve_commit(git_dir, source.commit)
    return git_dir, commit, gitstore.list_tree(git_dir, commit)


def _assemble_source(builder, source, repos_dir, clone_url) -> SourceReport:
    report = SourceReport(source.id, source.repository, source.commit)
    try:
        git_dir, commit, entries = _open_source(source, repos_dir, clone_url)
    except gitstore.GitStoreError as e:
        report.error = str(e)
        logging.warning("%s: %s", source.id, e)
        return report
    chosen = select(source, entries)
    report.matched = len(chosen)
    if not chosen:
        report.error = f"the globs {list(source.include)} match no file at {commit[:12]}"
        logging.warning("%s: %s", source.id, report.error)
        return report
    with gitstore.BlobReader(git_dir) as reader:
        for entry in chosen:
            if source.max_files and report.kept >= source.max_files:
                report.capped += 1
                continue
            reason = builder.take(source, commit, entry, reader)
            if reason:
                builder.skip(report, source, entry, reason)
            else:
                report.kept += 1
    return report


def _write_csv(path, fields, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["relpath"]))


def _refuse_foreign(out: str, overwrite: bool):
    """An existing --out is replaced only if assemble made it, it is empty, or the user said --overwrite."""
    if not os.path.exists(out) or overwrite or os.path.exists(os.path.join(out, REPORT_NAME)):
        return
    if not os.path.isdir(out) or os.listdir(out):
        raise FileExistsError(f"{out} exists and was not made by assemble; choose another --out or pass --overwrite")


def _replace(staging: str, out: str, overwrite: bool):
    """Moves the finished corpus into place (the old folder goes only once the new one is there)."""
    _refuse_foreign(out, overwrite)  # again: something may have appeared there during the run
    if os.path.exists(out):
        old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(out))
        os.rename(out, os.path.join(old, "x"))
        os.rename(staging, out)
        shutil.rmtree(old)
    else:
        os.rename(staging, out)


def check_out(out: str, reference_dirs=(), overwrite: bool = False):
    """Refuses an --out that would overwrite a user's folder or a reference set, before any work."""
    out = os.path.abspath(out)
    for ref in reference_dirs:
        if os.path.abspath(ref) == out:
            raise ValueError(f"--out {out} is the reference folder itself")
    _refuse_foreign(out, overwrite)


def assemble(sources, repos_dir: str, out: str, *, dedupe_against=(), clone_url: str | None = None,
             max_distance: int = dedupe.DEFAULT_MAX_DISTANCE, overwrite: bool = False, progress: bool = False) -> dict:
    """Builds the corpus; returns the report written to ASSEMBLY.json. Raises NothingUsableError."""
    out = os.path.abspath(out)
    check_out(out, dedupe_against, overwrite)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    index = dedupe.DuplicateIndex(max_distance=max_distance)
    references = {d: dedupe.index_folder(d, index, label_prefix=os.path.basename(os.path.normpath(d)))
                  for d in dedupe_against}
    staging = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp's 0700 would make the corpus private once renamed
    try:
        for label in ("real", "fake"):
            os.makedirs(os.path.join(staging, label))
        builder = _Builder(staging, index)
        reports = [_assemble_source(builder, s, repos_dir, clone_url)
                   for s in tqdm(sources, desc="sources", unit="source", disable=not progress)]
        if not builder.manifest:
            raise NothingUsableError("no usable file came out of any source: " + "; ".join(
                f"{r.id}: {r.error or dict(r.skipped)}" for r in reports))
        link_pairs(sources, builder.manifest, builder.dropped)
        report = _report(sources, reports, builder, references, max_distance)
        _write_csv(os.path.join(staging, "MANIFEST.csv"), MANIFEST_FIELDS, builder.manifest)
        _write_csv(os.path.join(staging, "IMAGE_STATS.csv"), STATS_FIELDS, builder.stats)
        with open(os.path.join(staging, REPORT_NAME), "w", encoding="utf-8") as f:
            json.dump(report, f, indent=1, sort_keys=True)
        _replace(staging, out, overwrite)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    return report


_KEPT_TWIN = re.compile(r"(?:same bytes as|near duplicate: of) (real/\S+)")


def link_pairs(sources, manifest: list, dropped=()) -> None:
    """Fills `aligned_with` of every fake of a paired source with the corpus relpath of its real.

    A real dropped as a duplicate of a real the corpus kept is paired through
    that one (the same picture, so the pair keeps one split). A real the corpus
    did not keep otherwise (a reference image's twin, too small) still names
    the pair, as `<repository>:<path>`, so both would fall in one split if it came back.
    """
    by_id = {s.id: s for s in sources}
    kept = {(row["repository"], row["path"]): row["relpath"] for row in manifest if row["label"] == "real"}
    for d in dropped:
        twin = _KEPT_TWIN.search(d["reason"])
        if twin and d["source"] in by_id and by_id[d["source"]].label == "real":
            kept.setdefault((by_id[d["source"]].repository, d["path"]), twin.group(1))
    for row in manifest:
        source = by_id[row["source"]]
        if not source.aligned_from:
            continue
        real_path, n = re.subn(source.aligned_from, source.aligned_to, row["path"])
        if n == 0:
            logging.warning("%s: %s does not match aligned_from; left unpaired", source.id, row["path"])
            continue
        row["aligned_with"] = kept.get((row["repository"], real_path), f"{row['repository']}:{real_path}")


def _report(sources, reports, builder, references, max_distance) -> dict:
    by_id = {s.id: s for s in sources}
    kept = collections.Counter((r["label"], r["family"], r["content"]) for r in builder.manifest)
    return {
        "kept": len(builder.manifest),
        "per_class": dict(collections.Counter(r["label"] for r in builder.manifest)),
        "per_label_family_content": [[*k, n] for k, n in sorted(kept.items())],
        "dedupe": {"references": references, "dhash_max_distance": max_distance},
        "sources": [{**dataclasses.asdict(r), "skipped": dict(sorted(r.skipped.items())), "label": by_id[r.id].label,
                     "family": by_id[r.id].family} for r in reports],
        "dropped": builder.dropped,
    }


def format_report(report: dict) -> str:
    """The assembly report as a plain-text table a person reads."""
    lines = [f"{'source':24} {'label':5} {'family':14} {'matched':>7} {'kept':>5} {'capped':>6}  skipped / error"]
    for r in report["sources"]:
        detail = r["error"] or ", ".join(f"{k} {n}" for k, n in r["skipped"].items())
        lines.append(f"{r['id']:24} {r['label']:5} {r['family'][:14]:14} {r['matched']:7} {r['kept']:5} {r['capped']:6}  {detail}")
    per_class = report["per_class"]
    lines.append(f"\nKept {report['kept']} files: {per_class.get('real', 0)} real, {per_class.get('fake', 0)} fake; "
                 f"reference folders {report['dedupe']['references'] or 'none'}")
    return "\n".join(lines)
