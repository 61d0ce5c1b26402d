"""The package-level import graph of `catalyst` in a source tree: edges, cycles, upward imports.

    .venv/bin/python scripts/package_graph.py [SOURCE_TREE] [--layers PYPROJECT]

SOURCE_TREE is a checkout holding `catalyst/` (default: this one); grimp reads the source, so an
old commit needs no install (`git worktree add /tmp/before <commit>`). The layer order is the
`[tool.importlinter]` "layers" contract of PYPROJECT (default: this tree's pyproject.toml), so two
trees are judged by the same layers. A package is `catalyst.<name>` (a sub-package or a top-level
module); an upward import is an edge from a lower layer to a higher one. Issue 11 asked for these
figures before and after the layering.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

import grimp

ROOT = "catalyst"
HERE = Path(__file__).resolve().parent.parent


def layer_order(pyproject: Path) -> list[set[str]]:
    """The layers contract, top to bottom; each layer is a set of package names (`a | b`)."""
    config = tomllib.loads(pyproject.read_text())["tool"]["importlinter"]
    for contract in config["contracts"]:
        if contract["type"] == "layers":
            return [{name.strip() for name in layer.split("|")} for layer in contract["layers"]]
    raise SystemExit(f"{pyproject}: no layers contract in [tool.importlinter]")


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def module_edges(tree: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Package edge → the module imports behind it, for the `catalyst` under `tree`."""
    sys.path.insert(0, str(tree))
    spec = importlib.util.find_spec(ROOT)
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    if origin is None or not origin.is_relative_to(tree.resolve()):
        raise SystemExit(f"{ROOT} resolved to {origin}, not under {tree}")
    graph = grimp.build_graph(ROOT, cache_dir=None)
    edges: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            source, target = package_of(importer), package_of(imported)
            if source != target and ROOT not in (source, target):
                edges[(source, target)].append((importer, imported))
    return edges


def strongly_connected(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one package (the cycles)."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(edges):
        successors[source].append(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in successors[node]:
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return sorted(components)


def short(package: str) -> str:
    return package.removeprefix(f"{ROOT}.")


def report(tree: Path, layers: list[set[str]]) -> None:
    edges = module_edges(tree)
    packages = {package for edge in edges for package in edge}
    rank = {package: depth for depth, layer in enumerate(layers) for package in layer}

    print(f"source tree: {tree}")
    print(f"packages: {len(packages)}, package edges: {len(edges)}")
    for source, target in sorted(edges):
        print(f"  {short(source)} -> {short(target)} ({len(edges[(source, target)])})")

    mutual = sorted((a, b) for a, b in edges if a < b and (b, a) in edges)
    components = strongly_connected(packages, set(edges))
    print(f"package cycles (mutual imports): {len(mutual)}")
    for a, b in mutual:
        print(f"  {short(a)} <-> {short(b)}")
    print(f"strongly connected components: {len(components)}")
    for component in components:
        print("  " + ", ".join(short(p) for p in component))

    unlayered = sorted(p for p in packages if p not in rank)
    upward = sorted((s, t) for s, t in edges if s in rank and t in rank and rank[s] > rank[t])
    print(f"upward imports (lower layer -> higher): {len(upward)}")
    for source, target in upward:
        lines = ", ".join(f"{a} -> {b}" for a, b in edges[(source, target)])
        print(f"  {short(source)} -> {short(target)}: {lines}")
    print(f"packages in no layer: {', '.join(short(p) for p in unlayered) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", nargs="?", type=Path, default=HERE)
    parser.add_argument("--layers", type=Path, default=HERE / "pyproject.toml")
    args = parser.parse_args()
    report(args.tree, layer_order(args.layers))


if __name__ == "__main__":
    main()
