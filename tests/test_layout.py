"""The package layout follows the pipeline: no import cycles between modules, and every
import of the plugin (imports inside functions included) points back along the pipeline's
order, never forward and never sideways between packages of the same stage."""
import ast
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parent.parent / "sutskever_plugin"

# The pipeline's order: each stage may import its own and every earlier stage. The first
# stage is the shared infrastructure at the top level; "" is the plugin's __init__ (it
# registers the models stage with fairseq). Packages grouped in one stage may import each
# other only where the stage says "one" (the models stage is one fairseq plugin); else
# they are side by side and import neither way.
ORDER = [
    ("one", ["errors", "job", "machine", "progress", "steps"]),
    ("one", ["data"]),
    ("one", ["tables"]),
    ("one", ["", "models", "tasks", "criterions", "optim", "fairseq_patches", "checkpoint_check"]),
    ("one", ["scoring"]),
    ("apart", ["rescoring", "smt"]),
    ("apart", ["analysis", "benchmark"]),
    ("one", ["reporting"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PLUGIN.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def plugin_imports(module: str, source: str, is_package: bool, modules) -> set:
    """The plugin modules ``module`` imports anywhere in ``source``."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sutskever_plugin")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "sutskever_plugin":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
    found.discard(module)
    return found


def import_graph() -> dict:
    paths = {module_name(p): p for p in PLUGIN.rglob("*.py")}
    return {m: plugin_imports(m, p.read_text(encoding="utf-8"), p.name == "__init__.py", paths)
            for m, p in paths.items()}


def top(module: str) -> str:
    """The top-level piece of the plugin a module belongs to ("" for the plugin itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def stage(piece: str):
    for i, (_, pieces) in enumerate(ORDER):
        if piece in pieces:
            return i
    raise AssertionError(f"sutskever_plugin.{piece} is in no stage of ORDER in {__file__}")


def bad_edges(graph: dict) -> list:
    """Imports against the order: forward to a later stage, or sideways between packages
    set apart in one stage."""
    bad = []
    for module, targets in graph.items():
        for target in targets:
            a, b = top(module), top(target)
            if a == b:
                continue
            sa, sb = stage(a), stage(b)
            if sb > sa or (sa == sb and ORDER[sa][0] == "apart"):
                bad.append(f"{module} -> {target}")
    return sorted(bad)


def cycles(graph: dict) -> list:
    """The import cycles between modules (importing a.b.c also runs a and a.b)."""
    edges = {}
    for module, targets in graph.items():
        out = set()
        for t in targets:
            parts = t.split(".")
            for i in range(1, len(parts) + 1):
                parent = ".".join(parts[:i])
                if parent in graph and parent != module and not module.startswith(parent + "."):
                    out.add(parent)
        edges[module] = out
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_every_package_has_a_stage():
    for module in import_graph():
        stage(top(module))


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_imports_follow_the_pipeline_order():
    assert bad_edges(import_graph()) == []


def test_the_checks_can_fail():
    modules = {"sutskever_plugin.data.textio", "sutskever_plugin.reporting.table1",
               "sutskever_plugin.smt.translate", "sutskever_plugin.rescoring.combine"}
    found = plugin_imports("sutskever_plugin.data.textio",
                           "def f():\n    from ..reporting.table1 import main\n", False, modules)
    assert found == {"sutskever_plugin.reporting.table1"}
    graph = {"sutskever_plugin.data.textio": found,
             "sutskever_plugin.reporting.table1": {"sutskever_plugin.data.textio"},
             "sutskever_plugin.smt.translate": {"sutskever_plugin.rescoring.combine"},
             "sutskever_plugin.rescoring.combine": set()}
    assert bad_edges(graph) == ["sutskever_plugin.data.textio -> sutskever_plugin.reporting.table1",
                                "sutskever_plugin.smt.translate -> sutskever_plugin.rescoring.combine"]
    assert cycles(graph) == [["sutskever_plugin.data.textio", "sutskever_plugin.reporting.table1"]]
    with pytest.raises(AssertionError, match="no stage"):
        stage("somewhere_new")
