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
