"""The sources file: which files of which public repositories, at which commit, make a corpus.

One `[[source]]` table per source (see `synthdet_tf/corpus/sources.toml`, the
wide corpus this project trains on); a `[defaults]` table gives the filters a
row leaves out. Loading checks every row, so a typo fails before any git work.
"""

import dataclasses
import re
import tomllib

LABELS = ("real", "fake")
CONTENT_TAGS = ("face", "people", "scene", "art", "text", "mixed")
REAL_FAMILY = "real"
_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_FILTERS = {"max_files": 0, "min_side": 0, "max_side": 0, "max_bytes": 0}
_TEXT = ("generator", "family", "content", "licence", "evidence", "notes")
_PAIR = ("aligned_from", "aligned_to")  # a fake row's regex and replacement: its path -> the real file it was made from
_REQUIRED = ("id", "repository", "commit", "include", "label", "generator", "family", "content", "licence")


@dataclasses.dataclass(frozen=True)
class Source:
    id: str
    repository: str  # owner/name
    commit: str  # full 40-hex commit
    include: tuple
    exclude: tuple
    label: str  # "real" | "fake"
    generator: str  # as the source states it
    family: str  # generator family ("real" for real photos)
    content: str
    licence: str
    evidence: str = ""
    notes: str = ""
    max_files: int = 0  # 0 = no cap
    min_side: int = 0
    max_side: int = 0
    max_bytes: int = 0
    aligned_from: str = ""
    aligned_to: str = ""


def _strings(value, where: str, key: str) -> tuple:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: {key} must be a glob or a list of globs, got {value!r}")
    return tuple(value)


def _source(row: dict, defaults: dict, where: str) -> Source:
    missing = [k for k in _REQUIRED if k not in row]
    unknown = sorted(set(row) - set(_REQUIRED) - {"exclude", *_TEXT, *_FILTERS, *_PAIR})
    if missing or unknown:
        raise ValueError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    where = f"{where} ({row['id']})"
    if not _ID.match(str(row["id"])):
        raise ValueError(f"{where}: id must match {_ID.pattern}")
    if not _REPOSITORY.match(str(row["repository"])):
        raise ValueError(f"{where}: repository must be owner/name, got {row['repository']!r}")
    if not _COMMIT.match(str(row["commit"])):
        raise ValueError(f"{where}: commit must be the full 40-hex commit, got {row['commit']!r}")
    if row["label"] not in LABELS:
        raise ValueError(f"{where}: label must be one of {LABELS}, got {row['label']!r}")
    if row["content"] not in CONTENT_TAGS:
        raise ValueError(f"{where}: content must be one of {CONTENT_TAGS}, got {row['content']!r}")
    if (row["label"] == "real") != (row["family"] == REAL_FAMILY):
        raise ValueError(f"{where}: family {REAL_FAMILY!r} is for real rows and only them, got {row['family']!r}")
    filters = {k: row.get(k, defaults.get(k, v)) for k, v in _FILTERS.items()}
    for k, v in filters.items():
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"{where}: {k} must be a non-negative integer, got {v!r}")
    return Source(
        id=row["id"], repository=row["repository"], commit=row["commit"],
        include=_strings(row["include"], where, "include"),
        exclude=_strings(row.get("exclude", []), where, "exclude") if row.get("exclude") else (),
        label=row["label"], **{k: str(row.get(k, "")) for k in _TEXT}, **filters, **_pair(row, where),
    )


def _pair(row: dict, where: str) -> dict:
    pair = {k: row.get(k, "") for k in _PAIR}
    if not any(pair.values()):
        return pair
    if not all(isinstance(v, str) and v for v in pair.values()) or row["label"] != "fake":
        raise ValueError(f"{where}: aligned_from and aligned_to go together, as strings, on a fake row")
    try:
        re.compile(pair["aligned_from"])
    except re.error as e:
        raise ValueError(f"{where}: aligned_from is not a regular expression: {e}") from None
    return pair


def parse_sources(text: str, origin: str = "<sources>") -> list:
    """Sources from TOML text; raises ValueError naming the row on any problem."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{origin}: not valid TOML ({e})") from None
    defaults = doc.get("defaults", {})
    unknown = sorted(set(defaults) - set(_FILTERS))
    if unknown:
        raise ValueError(f"{origin}: unknown keys in [defaults]: {unknown}")
    rows = doc.get("source", [])
    if not rows:
        raise ValueError(f"{origin}: no [[source]] rows")
    sources = [_source(row, defaults, f"{origin} row {i + 1}") for i, row in enumerate(rows)]
    seen = set()
    for s in sources:
        if s.id in seen:
            raise ValueError(f"{origin}: source id {s.id!r} appears twice")
        seen.add(s.id)
    return sources


def load_sources(path: str, only=()) -> list:
    """Sources from a file; `only` keeps those ids (an unknown id is an error)."""
    with open(path, encoding="utf-8") as f:
        sources = parse_sources(f.read(), origin=path)
    if not only:
        return sources
    known = {s.id for s in sources}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise ValueError(f"Unknown source id(s) {unknown} in {path}; known: {sorted(known)}")
    return [s for s in sources if s.id in set(only)]


def licence_table(sources) -> str:
    """Every source's licence note as a Markdown table (the model card links it; `synthdet-data licences`)."""
    escape = lambda text: text.replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| source | repository @ commit | label | family | licence note |", "|---|---|---|---|---|"]
    for s in sources:
        lines.append(f"| {s.id} | {s.repository} @ {s.commit[:8]} | {s.label} | {escape(s.family)} | {escape(s.licence)} |")
    return "\n".join(lines) + "\n"
