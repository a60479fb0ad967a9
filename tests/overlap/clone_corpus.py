"""Code-clone test material made from REAL standard-library functions (not Probity's code).

Clones are made the way people make them: identifiers renamed and the code re-printed by
``ast.unparse`` (reformatted, comments and docstrings gone), two adjacent independent statements
swapped, or the renamed function pasted into the middle of another real module.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import random
import textwrap

MODULES = [
    "textwrap",
    "difflib",
    "shlex",
    "fractions",
    "statistics",
    "heapq",
    "bisect",
    "argparse",
    "tarfile",
    "csv",
    "ftplib",
    "gettext",
    "calendar",
    "configparser",
    "email.utils",
    "urllib.parse",
    "json.decoder",
    "pprint",
    "dataclasses",
    "zipfile",
    "shutil",
    "tempfile",
    "traceback",
    "optparse",
    "glob",
    "fnmatch",
    "tokenize",
    "locale",
    "mailbox",
    "imaplib",
    "uuid",
    "subprocess",
    "inspect",
    "ast",
    "string",
]


def _functions() -> list[tuple[str, str]]:
    import importlib

    out = []
    for name in MODULES:
        mod = importlib.import_module(name)
        try:
            tree = ast.parse(inspect.getsource(mod))
        except (OSError, TypeError):
            continue
        src = inspect.getsource(mod).splitlines()
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and 12 <= node.end_lineno - node.lineno <= 60:
                body = [s for s in node.body if not isinstance(s, ast.Expr)]
                if len(body) >= 5:
                    text = "\n".join(src[node.lineno - 1 : node.end_lineno]) + "\n"
                    out.append((f"{name}.{node.name}", textwrap.dedent(text)))
    return out


class _Renamer(ast.NodeTransformer):
    def __init__(self, rng: random.Random) -> None:
        self.map: dict[str, str] = {}
        self.rng = rng
        self.keep = set(dir(builtins))

    def _new(self, old: str) -> str:
        if old not in self.map:
            self.map[old] = f"{self.rng.choice(['x', 'val', 'tmp', 'q', 'item'])}_{len(self.map)}"
        return self.map[old]

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id not in self.keep:
            node.id = self._new(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._new(node.arg)
        node.annotation = None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self._new(node.name)
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            node.body = node.body[1:] or [ast.Pass()]
        self.generic_visit(node)
        return node


def renamed(src: str, seed: int) -> str:
    tree = ast.parse(src)
    tree = _Renamer(random.Random(seed)).visit(tree)
    return ast.unparse(tree) + "\n"


def _names(stmt: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def swapped(src: str, seed: int) -> str:
    """Renamed, then two adjacent statements sharing no name swapped (wherever possible)."""
    tree = ast.parse(renamed(src, seed))
    rng = random.Random(seed)
    blocks = [n for n in ast.walk(tree) if hasattr(n, "body") and isinstance(n.body, list)]
    pairs = []
    for b in blocks:
        for i in range(len(b.body) - 1):
            a, c = b.body[i], b.body[i + 1]
            if isinstance(a, (ast.Return, ast.FunctionDef)) or isinstance(c, ast.Return):
                continue
            if not (_names(a) & _names(c)) and not isinstance(a, ast.Expr):
                pairs.append((b, i))
    for b, i in rng.sample(pairs, min(2, len(pairs))):
        b.body[i], b.body[i + 1] = b.body[i + 1], b.body[i]
    return ast.unparse(tree) + "\n"


def embedded(src: str, host: list[str], seed: int) -> str:
    """Renamed function pasted between two unrelated real functions (as a helper copied into
    another module)."""
    return host[0] + "\n\n" + renamed(src, seed) + "\n\n" + host[1]


def clone_sets(n_protected: int = 30, n_negative: int = 60, seed: int = 5):
    """(protected [(id, src)], {set name: [(function id, query)]}); the ``negative`` set's
    functions are not protected: any clone reported for them is a false positive."""
    funcs = _functions()
    rng = random.Random(seed)
    rng.shuffle(funcs)
    # protected and negative functions come from different modules: functions of one module
    # are often real clones of each other (heapq._siftup / _siftup_max, shutil._get_uid /
    # _get_gid), and finding those is right, not a false positive
    prot_mods = set(MODULES[::2])
    prot = [f for f in funcs if f[0].rsplit(".", 1)[0] in prot_mods][:n_protected]
    neg = [f for f in funcs if f[0].rsplit(".", 1)[0] not in prot_mods][:n_negative]
    sets = {
        "renamed": [(f, renamed(s, i)) for i, (f, s) in enumerate(prot)],
        "swapped": [(f, swapped(s, i)) for i, (f, s) in enumerate(prot)],
        "embedded": [(f, embedded(s, neg[i % len(neg)][1], i)) for i, (f, s) in enumerate(prot)],
        "negative": [(f, renamed(s, i)) for i, (f, s) in enumerate(neg)],
    }
    return prot, sets
