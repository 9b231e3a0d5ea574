"""What every synthdet-* command shares: a quiet start and a `--help` that shows the command.

A console script's `__main__` is the wrapper pip generates, so absl's own
`--help` finds neither the command's docstring nor its flags (and exits 1).
`run` answers `--help` itself: the script's docstring (what it does, usage,
examples), then the script's own flags with their help and defaults (for a
command with verbs, the flags each verb reads), exit status 0. `--helpfull`
stays absl's: every flag, TensorFlow's and absl's included.

`quiet_tensorflow` hides TensorFlow's C++ info and warning lines (oneDNN,
CPU features, CUDA stubs) that otherwise open every command; errors still
show. It must run before TensorFlow is imported, so `synthdet_scripts/__init__.py`
calls it: a package's `__init__` runs before any of its modules' imports.
TF_CPP_MIN_LOG_LEVEL=2 hides most of them, but not the CUDA stub's lines,
which are logged before TensorFlow reads that variable (tensorflow#100442);
so the first `import tensorflow` (and its device discovery) runs with its
INFO / WARNING lines filtered out of stderr, and on a machine without a CUDA
driver the "failed call to cuInit" error that follows from it; every other
line is kept. A user's own TF_CPP_MIN_LOG_LEVEL, or `--verbosity` / `-v`,
leaves everything as TensorFlow has it.
"""

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

from absl import app, flags, logging

PRODUCT_COMMANDS = ("synthdet-data", "synthdet-train", "synthdet-grid", "synthdet-evaluate", "synthdet-export",
                    "synthdet-detect", "synthdet-serve-client", "synthdet-scan", "synthdet-app", "synthdet-adapt",
                    "synthdet-abstain")
LAB_COMMANDS = ("synthdet-benchmark", "synthdet-generalize", "synthdet-loso", "synthdet-fuse")
HELP_ARGS = ("--help", "-help", "-h", "-?", "--helpshort", "-helpshort")
_VERBOSITY_ARGS = ("-v", "--v", "-verbosity", "--verbosity")
_TF_LOG_LEVEL = "TF_CPP_MIN_LOG_LEVEL"
_TF_ERRORS_ONLY = "2"  # 0 all, 1 no INFO, 2 no INFO or WARNING, 3 nothing


def asks_for_verbosity(argv) -> bool:
    """True when the command line sets absl's --verbosity / -v."""
    return any(a in _VERBOSITY_ARGS or a.startswith(tuple(f"{v}=" for v in _VERBOSITY_ARGS)) for a in argv[1:])


def wants_quiet(argv, environ) -> bool:
    """Quiet unless the user set TF_CPP_MIN_LOG_LEVEL or asked for --verbosity."""
    return _TF_LOG_LEVEL not in environ and not asks_for_verbosity(argv)


def quiet_tensorflow(argv) -> None:
    """Hides TensorFlow's C++ INFO and WARNING lines (TF_CPP_MIN_LOG_LEVEL=2, and the first
    `import tensorflow` filtered), unless the user set TF_CPP_MIN_LOG_LEVEL or --verbosity."""
    if not wants_quiet(argv, os.environ):
        return
    os.environ[_TF_LOG_LEVEL] = _TF_ERRORS_ONLY
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())


# absl-format INFO / WARNING lines ("I0000 00:00:1796031859.041849    8365 cudart_stub.cc:31] ...") and the
# banner absl writes before its first line.
_STARTUP_NOISE = re.compile(r"[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ ]+:\d+\] |WARNING: All log messages before absl::InitializeLog")
_NO_CUDA_DRIVER = "Could not find cuda drivers"
_CUINIT_FAILED = re.compile(r"E\d{4} .*\] failed call to cuInit")


def drop_startup_noise(text: str) -> str:
    """`text` without TensorFlow's start-up INFO / WARNING lines; the cuInit error goes too when the CUDA
    stub found no driver (a machine without a GPU), and every other line stays."""
    no_driver = _NO_CUDA_DRIVER in text
    lines = text.splitlines(keepends=True)
    return "".join(l for l in lines if not _STARTUP_NOISE.match(l) and not (no_driver and _CUINIT_FAILED.match(l)))


@contextlib.contextmanager
def _filtered_stderr():
    """Sends file descriptor 2 (C++ logging writes there, not to sys.stderr) to a file, then replays it filtered."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.write(drop_startup_noise(captured.read().decode("utf-8", "replace")))
            sys.stderr.flush()


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Runs the first `import tensorflow`, and its device discovery, inside `_filtered_stderr`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once; and find_spec below must not come back here
        spec = importlib.util.find_spec(fullname)
        if spec is None:
            return None
        self._loader, spec.loader = spec.loader, self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader  # TensorFlow sees its own loader
        with _filtered_stderr():
            self._loader.exec_module(module)
            module.config.list_physical_devices()  # where the cuInit error comes from


def is_command(argv) -> bool:
    """True in a process started as a synthdet command (console script or `python -m synthdet_scripts.x`)."""
    if not argv:
        return False
    # While `python -m` imports the parent package, argv[0] is "-m".
    return argv[0] == "-m" or os.path.basename(argv[0]).startswith("synthdet-")


def _flag_lines(flag) -> list[str]:
    text = flag.help or ""
    enum_values = getattr(flag.parser, "enum_values", None)
    if enum_values:
        text += f" One of: {', '.join(enum_values)}."
    default = flag.default_as_str.strip("'") if flag.default is not None and flag.default != [] else "none"
    lines = [flags.text_wrap(f"--{flag.name}: {text}", indent="      ", firstline_indent="  ")]
    lines.append(f"      (default: {default})")
    return lines


def _script_flags(module) -> dict:
    """name -> Flag for the flags the script's own modules define (its module and synthdet_scripts.* it imports)."""
    own = sys.argv[0] if module.__name__ == "__main__" else module.__name__
    by_module = flags.FLAGS.flags_by_module_dict()
    names = [own] + sorted(m for m in by_module if m.startswith("synthdet_scripts.") and m != own)
    return {f.name: f for m in names for f in by_module.get(m, ())}


def help_text(module, argv, verbs=None) -> str:
    """The command's docstring and its own flags; with `verbs` ({verb: flag names}), grouped by verb
    (only the verb named on the command line, when one is)."""
    defined = _script_flags(module)
    out = [(module.__doc__ or f"{os.path.basename(argv[0])} [flags]").rstrip(), ""]
    if verbs:
        chosen = [v for v in verbs if v in argv[1:]] or list(verbs)
        for verb in chosen:
            out.append(f"{verb} reads:")
            out += [line for name in verbs[verb] for line in _flag_lines(defined[name])]
            out.append("")
    else:
        out.append("flags:")
        out += [line for name in sorted(defined) for line in _flag_lines(defined[name])]
        out.append("")
    out.append("-v 0 (--verbosity=0) also shows INFO logs and TensorFlow's start-up lines; "
               "--helpfull lists every flag, absl's and TensorFlow's too.")
    out += ["", "commands: " + ", ".join(PRODUCT_COMMANDS), "lab (experiments, apart from the product): " + ", ".join(LAB_COMMANDS)]
    if module.__name__.startswith("synthdet_scripts.lab.") or ".lab." in getattr(module, "__file__", ""):
        out.insert(0, "[lab command: benchmarks and experiment protocols, not part of detection]\n")
    return "\n".join(out)


def run(main, module_name: str, *, verbs=None, verbosity=logging.WARNING, known_only=False):
    """absl's app.run(main) for a synthdet command, with its own `--help`.

    `known_only`: flags absl does not know reach `main` in argv (Beam pipeline options).
    """
    module = sys.modules[module_name]
    if any(a in HELP_ARGS for a in sys.argv[1:]):
        print(help_text(module, sys.argv, verbs))
        sys.exit(0)
    main_module = sys.modules["__main__"]
    if not main_module.__doc__:  # absl prints it on a usage error
        main_module.__doc__ = module.__doc__
    logging.set_verbosity(verbosity)
    main = one_line_errors(main, os.path.basename(sys.argv[0]), traceback=asks_for_verbosity(sys.argv))
    kwargs = {"flags_parser": lambda argv: flags.FLAGS(argv, known_only=True)} if known_only else {}
    app.run(main, **kwargs)


def one_line_errors(main, prog: str, traceback: bool = False):
    """`main` whose expected failures (usage, missing files or model, bad values) print one line and exit 1;
    with `traceback` (the user asked for -v) they raise as usual."""

    def wrapped(argv):
        try:
            return main(argv)
        except (app.UsageError, OSError, ValueError) as e:
            if traceback:
                raise
            message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if isinstance(e, app.UsageError):
                print(f"{prog}: usage error: {message} ({prog} --help shows usage and examples)", file=sys.stderr)
            else:
                print(f"{prog}: error: {message} (-v 0 shows the traceback)", file=sys.stderr)
            return 1

    return wrapped


def import_extra(module: str, names: tuple, needs: str, extra: str, prog: str) -> tuple:
    """`names` from `module`, which needs the optional package `needs` (pip extra `extra`).

    "Needs X" only when X is not there: an install without the module, or a dependency of X's missing,
    must say so instead of sending the user to an extra they already have.
    """
    import importlib
    import importlib.util

    try:
        loaded = importlib.import_module(module)
    except ImportError as e:
        if importlib.util.find_spec(needs) is None:
            raise app.UsageError(f"{prog} needs {needs}: pip install 'synthdet-tf[{extra}]'") from None
        raise SystemExit(f"{prog}: cannot import {e.name or 'a module'}: {str(e).splitlines()[0]}") from None
    return tuple(getattr(loaded, n) for n in names)
