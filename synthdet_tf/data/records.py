"""What discovery returns: labelled, split, checked records of image files.

Its own module so that both ways of finding them, `discovery` (folders) and
`shards` (TFRecord shard folders), build the same types without importing
each other.
"""

import collections
import dataclasses

from synthdet_tf.data.pillow_io import ImageInfo

REAL, FAKE = 0, 1
LABEL_NAMES = ("REAL", "FAKE")
SPLITS = ("train", "val", "test")


@dataclasses.dataclass(frozen=True)
class Record:
    relpath: str  # posix, relative to the data dir, e.g. "fake/sg3__seed1.png"
    path: str
    label: int
    source: str
    split: str
    info: ImageInfo
    family: str = ""  # generator family ("real" for REAL files)
    content: str = ""  # content tag (face, people, scene, art, text, mixed) when the manifest has one


@dataclasses.dataclass(frozen=True)
class Skipped:
    relpath: str
    reason: str


@dataclasses.dataclass(frozen=True)
class ManifestCheck:
    rows: int
    matched: int
    missing_on_disk: tuple
    not_in_manifest: int


@dataclasses.dataclass
class Discovery:
    root: str
    records: list
    skipped: list
    manifest: ManifestCheck | None

    def split(self, name: str) -> list:
        if name not in SPLITS:
            raise ValueError(f"Unknown split {name!r}; choose one of {SPLITS}")
        return [r for r in self.records if r.split == name]

    def skip_reasons(self) -> collections.Counter:
        """Skips counted by reason kind (the text before any ':' or '(')."""
        return collections.Counter(s.reason.split(":")[0].split(" (")[0] for s in self.skipped)
