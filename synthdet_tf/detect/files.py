"""Which paths a detection run scores, and why it leaves any out.

A folder is walked for every regular file, whatever its name: a `.jfif`, a
file without an extension or a camera's odd suffix is tried by its content,
and one that is not an image comes back as a counted, named failure. Nothing
is ever opened that is not a regular file: a FIFO named `x.jpg` would block
a read forever, a device could be endless. Symbolic links are followed (a
photo library is often a tree of links), and a link that loops or points
nowhere is reported, never dropped.
"""

import errno
import os
import stat

# Dot-files the operating system writes beside photos; trying them as images would only add noise to the counts.
_SYSTEM_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")


def kind_problem(path: str) -> str | None:
    """None for a regular file (or a link to one); otherwise why the path is not scored, without opening it."""
    try:
        mode = os.stat(path).st_mode  # follows links
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symbolic link loop: skipped"
        if os.path.islink(path):
            return "broken symbolic link: skipped"
        if e.errno == errno.EACCES:
            return "permission denied"
        return "no such file or folder" if e.errno == errno.ENOENT else f"cannot stat: {e.strerror}"
    if stat.S_ISREG(mode):
        return None
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return f"not a regular file ({name}): skipped, never opened"
    return "not a regular file: skipped"


def _walk_folder(folder: str, files: list, problems: list) -> None:
    seen = set()  # (device, inode) of each folder entered: a link back up the tree is entered once
    for top, dirs, names in os.walk(folder, followlinks=True, onerror=lambda e: problems.append((e.filename, _why(e)))):
        st = os.stat(top)
        if (st.st_dev, st.st_ino) in seen:
            problems.append((top, "symbolic link loop: folder already walked, skipped"))
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in sorted(names):
            if name in _SYSTEM_FILES:
                continue
            path = os.path.join(top, name)
            problem = kind_problem(path)
            (problems.append((path, problem)) if problem else files.append(path))


def _why(error: OSError) -> str:
    return "permission denied" if error.errno == errno.EACCES else f"cannot read folder: {error.strerror}"


def walk(inputs) -> tuple[list[str], list[tuple[str, str]]]:
    """(files to score, [(path, why not scored)]): files as given, folders walked recursively.

    An empty folder is a problem too, so a mistyped path or an empty export is never a silent success.
    """
    files, problems = [], []
    for p in inputs:
        if os.path.isdir(p):
            before = len(files) + len(problems)
            _walk_folder(p, files, problems)
            if len(files) + len(problems) == before:
                problems.append((p, "folder holds no files"))
            continue
        problem = kind_problem(p)
        (problems.append((p, problem)) if problem else files.append(p))
    return files, problems
