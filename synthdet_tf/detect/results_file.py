"""Result rows to a file without ever losing them or replacing someone else's.

The output is checked before any model loads (so a bad path costs seconds,
not an hour of scoring); rows then stream to a partial file beside it, one
flushed line per image, and only a finished run renames that file into
place, atomically. A file that appeared at the output path meanwhile (a
second run, a user) is not replaced without `overwrite`: the rows stay in
the partial file, and the error says where.
"""

import csv
import dataclasses
import json
import os

FORMATS = (".jsonl", ".json", ".csv")


class OutputError(ValueError):
    """An output path that cannot be written, or must not be."""


def check_output(path: str, overwrite: bool = False) -> None:
    """Raises OutputError naming what is wrong with `path`, before any work is done."""
    if not path.endswith(FORMATS):
        raise OutputError(f"--output {path!r}: must end in .jsonl, .json or .csv")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputError(f"--output {path!r}: folder {parent} does not exist")
    if not _can_create_in(parent):
        raise OutputError(f"--output {path!r}: folder {parent} is not writable")
    if os.path.isdir(path):
        raise OutputError(f"--output {path!r} is a folder")
    if os.path.lexists(path) and not overwrite:
        raise OutputError(f"--output {path!r} exists; choose another path or pass --overwrite")


def _can_create_in(folder: str) -> bool:
    """Tried, not asked: os.access says yes to root on a read-only mount or /proc."""
    probe = os.path.join(folder, f".synthdet-write-check-{os.getpid()}")
    try:
        open(probe, "x").close()
    except OSError:
        return False
    os.unlink(probe)
    return True


def _row(result, fields) -> dict:
    row = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else dict(result)
    return {k: row.get(k) for k in fields}


class ResultsFile:
    """`with ResultsFile(path, fields) as out: out.write(result) ...; out.commit()`.

    Leaving the block without `commit` (an error, Ctrl-C) keeps the partial file, which `partial` names.
    """

    def __init__(self, path: str, fields, overwrite: bool = False):
        check_output(path, overwrite)
        self.path, self.fields, self.overwrite = path, tuple(fields), overwrite
        self.partial = f"{path}.partial-{os.getpid()}"
        self.rows = 0
        self._file = self._writer = None

    def __enter__(self):
        self._file = open(self.partial, "x", newline="" if self.path.endswith(".csv") else None, encoding="utf-8")
        if self.path.endswith(".csv"):
            self._writer = csv.DictWriter(self._file, fieldnames=self.fields)
            self._writer.writeheader()
        return self

    def write(self, result) -> None:
        row = _row(result, self.fields)
        if self._writer:
            self._writer.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()})
        else:
            self._file.write(json.dumps(row) + "\n")
        self._file.flush()  # a crash or kill later still leaves every row scored so far
        self.rows += 1

    def commit(self) -> None:
        """Moves the finished file into place; raises OutputError (rows kept in `partial`) if that would replace a file."""
        self._file.close()
        if self.overwrite:
            os.replace(self.partial, self.path)
            return
        try:
            os.link(self.partial, self.path)  # atomic, and fails if the path exists: never replaces
        except FileExistsError:
            raise OutputError(f"{self.path} was created by someone else during this run; your {self.rows} rows "
                              f"are in {self.partial} (pass --overwrite to replace)") from None
        except OSError:  # a filesystem without hard links: exclusive create, then the rename
            try:
                open(self.path, "x").close()
            except FileExistsError:
                raise OutputError(f"{self.path} was created during this run; your rows are in {self.partial}") from None
            os.replace(self.partial, self.path)
            return
        os.unlink(self.partial)

    def __exit__(self, *exc):
        if self._file and not self._file.closed:
            self._file.close()
        return False
