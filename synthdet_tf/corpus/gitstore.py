"""Files read straight from a git object store at a pinned commit (no checkout).

Works on bare and normal clones alike, and on partial snapshots: a blob the
store lacks (snapshots drop files of 4 MiB and more) is reported as missing,
never as an error. `clone` brings a pinned commit from the network for people
who have one; everything else runs offline on what is on disk.
"""

import dataclasses
import os
import subprocess

LFS_POINTER_PREFIX = b"version https://git-lfs"
DEFAULT_CLONE_URL = "https://github.com/{repository}.git"


class GitStoreError(RuntimeError):
    """A repository or commit that cannot be used, with the reason."""


@dataclasses.dataclass(frozen=True)
class TreeEntry:
    path: str
    blob: str
    size: int | None  # None: the blob is not in this store


def _git(git_dir: str, *args, input_bytes: bytes | None = None) -> bytes:
    result = subprocess.run(["git", "--git-dir", git_dir, *args], input=input_bytes, capture_output=True)
    if result.returncode != 0:
        raise GitStoreError(f"git {' '.join(args[:2])} in {git_dir}: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def _git_dir_of(path: str) -> str | None:
    """The git directory at `path` (bare, or a work tree's .git), else None."""
    for candidate in (path, os.path.join(path, ".git")):
        if os.path.isfile(os.path.join(candidate, "HEAD")) and os.path.isdir(os.path.join(candidate, "objects")):
            return candidate
    return None


def candidate_dirs(repos_dir: str, repository: str) -> list:
    """Where a clone of owner/name may sit below repos_dir, most specific first.

    `<owner>+<name>/repo` is the search tool's snapshot layout; `<owner>/<name>.git`
    is what `clone` writes; a plain `<owner>/<name>` checkout works too.
    """
    owner, name = repository.split("/", 1)
    flat = f"{owner}+{name}"
    return [os.path.join(repos_dir, *p) for p in (
        (flat, "repo"), (flat,), (flat + ".git",), (owner, name + ".git"), (owner, name), (name,), (name + ".git",))]


def find_repo(repos_dir: str, repository: str) -> str:
    for path in candidate_dirs(repos_dir, repository):
        git_dir = _git_dir_of(path)
        if git_dir:
            return git_dir
    raise GitStoreError(f"no clone of {repository} below {repos_dir} (looked for {', '.join(candidate_dirs(repos_dir, repository)[:4])})")


def resolve_commit(git_dir: str, commit: str) -> str:
    try:
        return _git(git_dir, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").decode().strip()
    except GitStoreError:
        raise GitStoreError(f"commit {commit} is not in {git_dir} (fetch it, or check the sources file)") from None


def list_tree(git_dir: str, commit: str) -> list:
    """Every file at `commit` with its blob id and size (None when the store lacks the blob)."""
    out = _git(git_dir, "ls-tree", "-r", "-z", "--full-tree", commit)
    entries = []
    for item in out.split(b"\0"):
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, kind, blob = meta.decode().split()
        if kind == "blob" and mode != "120000":  # symlinks are not images
            entries.append((path.decode("utf-8", errors="surrogateescape"), blob))
    if not entries:
        return []
    sizes = _git(git_dir, "cat-file", "--batch-check", input_bytes="".join(f"{b}\n" for _, b in entries).encode())
    out = []
    for (path, blob), line in zip(entries, sizes.decode().splitlines()):
        fields = line.split()
        out.append(TreeEntry(path, blob, int(fields[2]) if len(fields) == 3 and fields[1] == "blob" else None))
    return out


class BlobReader:
    """Reads blobs through one long-lived `git cat-file --batch` process."""

    def __init__(self, git_dir: str):
        self._proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def read(self, blob: str) -> bytes | None:
        """The blob's bytes, or None when the store lacks it."""
        self._proc.stdin.write(f"{blob}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().split()
        if len(header) != 3:
            return None  # "<id> missing"
        data = self._proc.stdout.read(int(header[2]))
        self._proc.stdout.read(1)  # the newline after each object
        return data

    def close(self):
        self._proc.stdin.close()
        self._proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def is_lfs_pointer(data: bytes) -> bool:
    return len(data) < 1024 and data.startswith(LFS_POINTER_PREFIX)


def clone(repos_dir: str, repository: str, commit: str, url_template: str = DEFAULT_CLONE_URL) -> str:
    """Makes sure `<repos_dir>/<owner>/<name>.git` holds `commit`; returns that git dir.

    A bare clone of every branch, then a fetch of the commit itself if no branch
    reaches it (a force-pushed or history-only commit). Needs the network for
    the default URL; `url_template` may point at any git URL or local path.
    """
    owner, name = repository.split("/", 1)
    git_dir = os.path.join(repos_dir, owner, name + ".git")
    url = url_template.format(repository=repository, owner=owner, name=name)
    if not _git_dir_of(git_dir):
        os.makedirs(os.path.dirname(git_dir), exist_ok=True)
        result = subprocess.run(["git", "clone", "--bare", "--quiet", url, git_dir], capture_output=True)
        if result.returncode != 0:
            raise GitStoreError(f"git clone {url}: {result.stderr.decode(errors='replace').strip()}")
    try:
        resolve_commit(git_dir, commit)
    except GitStoreError:
        _git(git_dir, "fetch", "--quiet", url, commit)
        resolve_commit(git_dir, commit)
    return git_dir
