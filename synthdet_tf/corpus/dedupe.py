"""Exact (sha256) and near (64-bit dHash) duplicate detection across image sets.

A near duplicate is the same picture re-encoded, resized or lightly edited; the
dHash of such copies differs by a bit or two. Training on one copy and testing
on another would overstate accuracy, and the same picture under two labels
would teach noise, so a corpus keeps one copy.
"""

import concurrent.futures
import dataclasses
import hashlib
import io
import os

import imagehash
import numpy as np
from PIL import Image

MIN_SIDE_FOR_DHASH = 64  # below this, a 9x8 dHash of unrelated images collides too easily
DEFAULT_MAX_DISTANCE = 1


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dhash(image: Image.Image) -> int | None:
    """64-bit difference hash of an image, or None when it is too small to trust."""
    if min(image.size) < MIN_SIDE_FOR_DHASH:
        return None
    image.draft("L", (max(MIN_SIDE_FOR_DHASH, image.width // 8), max(MIN_SIDE_FOR_DHASH, image.height // 8)))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # Pillow warns on converting such a palette straight to L
    return int(str(imagehash.dhash(image.convert("L"), hash_size=8)), 16)


def dhash_bytes(data: bytes) -> int | None:
    with Image.open(io.BytesIO(data)) as image:
        image.seek(0)
        return dhash(image)


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)


@dataclasses.dataclass
class DuplicateIndex:
    """sha256 and dHash of kept images, each mapped to a name for the report."""

    max_distance: int = DEFAULT_MAX_DISTANCE
    by_sha: dict = dataclasses.field(default_factory=dict)
    _hashes: list = dataclasses.field(default_factory=list)
    _names: list = dataclasses.field(default_factory=list)
    _array: np.ndarray | None = None

    def add(self, name: str, sha: str, phash: int | None):
        self.by_sha.setdefault(sha, name)
        if phash is not None:
            self._hashes.append(phash)
            self._names.append(name)
            self._array = None

    def exact(self, sha: str) -> str | None:
        return self.by_sha.get(sha)

    def near(self, phash: int | None) -> tuple[str, int] | None:
        """(name, distance) of the closest kept image within max_distance, else None."""
        if phash is None or not self._hashes:
            return None
        if self._array is None:
            self._array = np.array(self._hashes, dtype=np.uint64)
        distances = _popcount(self._array ^ np.uint64(phash))
        best = int(np.argmin(distances))
        return (self._names[best], int(distances[best])) if distances[best] <= self.max_distance else None


def _hash_file(path: str):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return sha256(data), dhash_bytes(data)
    except Exception:  # noqa: BLE001 - an unreadable reference image only loses its near-duplicate check
        return sha256(data), None


def index_folder(data_dir: str, index: DuplicateIndex, label_prefix: str = "dev", workers: int = 4) -> int:
    """Adds every image of a real/ fake/ folder (e.g. the dev set) to `index`; returns the count."""
    paths = []
    for cls in ("real", "fake"):
        for dirpath, _, names in os.walk(os.path.join(data_dir, cls)):
            paths += [os.path.join(dirpath, n) for n in sorted(names) if not n.startswith(".")]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for path, (sha, phash) in zip(paths, pool.map(_hash_file, paths)):
            index.add(f"{label_prefix}:{os.path.relpath(path, data_dir)}", sha, phash)
    return len(paths)

