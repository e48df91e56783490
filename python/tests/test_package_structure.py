"""The Python package's structure: photon._private's modules import each other
in one direction only (no cycle), and no module of the package hides an
import of another Photon module inside a function."""
import ast
import pathlib

import photon

PACKAGE = pathlib.Path(photon.__file__).parent


def _photon_imports(tree, module):
    """(name of each photon module imported, whether at module level)."""
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "photon._private" or node.module == "photon":
                names = [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = [node.module]
        for name in names:
            if name == "photon" or name.startswith("photon."):
                out.append((name, node.col_offset == 0))
    return out


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        yield name, ast.parse(path.read_text(), str(path))


def test_no_function_level_imports_of_photon_modules():
    hidden = [f"{name}: {imported}" for name, tree in _modules()
              for imported, top in _photon_imports(tree, name) if not top]
    assert hidden == [], "imports hidden inside functions:\n" + "\n".join(hidden)


def test_private_modules_have_no_import_cycle():
    graph = {}
    for name, tree in _modules():
        if not name.startswith("photon._private"):
            continue
        graph[name] = {imp for imp, _ in _photon_imports(tree, name)
                       if imp.startswith("photon._private.") and imp != name}
    # Depth-first search for a back edge.
    state = {}
    cycle = []

    def visit(node, path):
        state[node] = "active"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "active":
                cycle.extend(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in state and visit(nxt, path + [nxt]):
                return True
        state[node] = "done"
        return False

    for node in sorted(graph):
        if node not in state and visit(node, [node]):
            break
    assert not cycle, "import cycle: " + " -> ".join(cycle)
