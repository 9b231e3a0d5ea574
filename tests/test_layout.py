"""The house: one job a package, imports in one direction, no circles, short functions.

Read from the source with `ast` (nothing is imported), so a new circle or a
long function fails here before it confuses anyone.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_FUNCTION_LINES = 59  # "under 60"


def modules() -> dict:
    """Dotted name -> path of every module of synthdet_tf."""
    out = {}
    for path in (ROOT / "synthdet_tf").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_of(name: str, path: pathlib.Path, known) -> set:
    """The synthdet_tf modules `name` imports anywhere in its file (top level or inside functions).

    `from package import x` counts as importing the module `package.x` when there is one, else `package`.
    """
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            found |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    return {m for m in found if m in known and m != name}


def import_graph() -> dict:
    known = modules()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def circles(graph: dict) -> list:
    """Groups of modules that import each other, directly or around a loop (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
                on_stack.discard(group[-1])
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_circles_finds_a_loop():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_package_imports_no_circle():
    assert circles(import_graph()) == []


def test_data_never_imports_corpus():
    graph = import_graph()
    wrong = {(m, t) for m, targets in graph.items() if m.startswith("synthdet_tf.data") for t in targets
             if t.startswith("synthdet_tf.corpus")}
    assert not wrong


def test_functions_are_under_60_lines():
    long = []
    for path in [*(ROOT / "synthdet_tf").rglob("*.py"), *(ROOT / "scripts").glob("*.py"), *(ROOT / "configs").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= MAX_FUNCTION_LINES:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    assert not long


# The floors of the house, lowest first. A module may import its own floor and the ones below, never above:
# detection sits under training, evaluation and export, so `synthdet-detect` loads none of them, and the lab
# is the top floor: nothing in the product imports it.
# The package itself is the front door (`from synthdet_tf import Detector`), on the top floor with the lab.
FLOORS = (
    ("synthdet_tf.preprocess", "synthdet_tf.beam_options"),
    ("synthdet_tf.data",),
    ("synthdet_tf.models", "synthdet_tf.corpus"),
    ("synthdet_tf.detect",),
    ("synthdet_tf.evaluate",),
    ("synthdet_tf.training",),
    ("synthdet_tf.export",),
    ("synthdet_tf.app", "synthdet_tf.scan", "synthdet_tf.adapt"),
    ("synthdet_tf.lab", "synthdet_tf"),
)


def floor_of(module: str) -> int:
    """The floor of the room `module` is, or lies in (the root package only by its own name)."""
    for n, rooms in enumerate(FLOORS):
        if any(module == room or (room != "synthdet_tf" and module.startswith(room + ".")) for room in rooms):
            return n
    raise AssertionError(f"{module} is in no room of FLOORS: give it one")


# The Python front door: `Detector(...).adapt(folder)` runs synthdet-adapt inside a method, imported there and
# only there, so detection itself (synthdet-detect, scan, the app) never loads it.
UPWARD_BY_DESIGN = {("synthdet_tf.detect.detector", "synthdet_tf.adapt.run")}


def test_no_import_runs_back_up_the_house():
    up = sorted(f"{m} (floor {floor_of(m)}) imports {t} (floor {floor_of(t)})"
                for m, targets in import_graph().items() for t in targets
                if floor_of(t) > floor_of(m) and (m, t) not in UPWARD_BY_DESIGN)
    assert not up


def test_detect_imports_no_evaluation_training_or_lab():
    wrong = {(m, t) for m, targets in import_graph().items() if m.startswith("synthdet_tf.detect") for t in targets
             if t.startswith(("synthdet_tf.evaluate", "synthdet_tf.training", "synthdet_tf.lab", "synthdet_tf.export"))}
    assert not wrong


def test_shipped_recipes_import_nothing_from_the_lab():
    for path in (ROOT / "configs").glob("*.py"):
        lab = {m for m in imported_names(path) if m.startswith(("synthdet_configs.lab", "synthdet_configs.study"))}
        assert not lab, (path.name, lab)


def imported_names(path: pathlib.Path) -> set:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_product_scripts_import_nothing_from_the_lab():
    for path in (ROOT / "scripts").glob("*.py"):
        lab = {m for m in imported_names(path) if m.startswith(("synthdet_tf.lab", "synthdet_scripts.lab"))}
        assert not lab, (path.name, lab)


def test_the_detect_command_s_own_code_imports_neither_scipy_nor_sklearn():
    """Every synthdet module `synthdet-detect` can reach (any import, top level or in a function) is free of them.

    A process still has both once TensorFlow is imported (TF 2.21's `import tensorflow` loads its legacy
    Keras, which imports scipy, and Keras 3, which imports sklearn): the check is on our code, not theirs.
    """
    known = modules()
    reach, todo = set(), ["synthdet_tf.detect.detector", "synthdet_tf.detect.results_file", "synthdet_tf.detect.files"]
    todo += sorted(m for m in imported_names(ROOT / "scripts" / "detect.py") if m in known)
    while todo:
        m = todo.pop()
        if m not in reach:
            reach.add(m)
            todo += [t for t in imports_of(m, known[m], known) if (m, t) not in UPWARD_BY_DESIGN]
    heavy = {(m, name) for m in reach for name in imported_names(known[m]) if name.split(".")[0] in ("scipy", "sklearn")}
    assert "synthdet_tf.detect.detector" in reach and "synthdet_tf.detect.backends" in reach
    assert not heavy
