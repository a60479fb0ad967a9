"""Syntax-tree token streams for code clones (tree-sitter, precompiled grammars, offline).

A file is parsed with tree-sitter (grammars from ``tree-sitter-language-pack``, which ships
them compiled inside the wheel: nothing is downloaded at run time) and turned into the
pre-order sequence of its syntax-tree node types, the representation Dolos fingerprints. What
a plagiarist changes without changing the program disappears:

* identifiers (variables, functions, classes, builtins used as names) are all the node type
  ``identifier``; literals are their node type (``string`` as one token, ``integer`` ...);
* layout, comments and punctuation are not nodes of interest; redundant parentheses
  (``parenthesized_expression``), expression-statement and block wrappers are skipped;
* keywords are already implied by their statement node (``if_statement``) and are dropped;
  operators are kept (``+`` and ``-`` are different programs).

Reordering independent statements moves whole subtrees; the k-grams inside each statement are
unchanged, so winnowing (``code.py``) still finds them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

#: tree-sitter language names for the languages Probity parses (and common aliases).
SYNTAX_LANGUAGES = {
    "python": "python",
    "py": "python",
    "javascript": "javascript",
    "js": "javascript",
    "typescript": "typescript",
    "ts": "typescript",
    "tsx": "tsx",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "c++": "cpp",
    "go": "go",
    "golang": "go",
    "rust": "rust",
    "rs": "rust",
}
#: file extensions mapped to languages, for ``language=None`` (a folder of mixed files)
EXTENSIONS = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".go": "go",
    ".rs": "rust",
}
_SKIP = frozenset(
    {
        "parenthesized_expression",
        "expression_statement",
        "block",
        "compound_statement",
        "statement_block",
        "comment",
        "line_comment",
        "block_comment",
        "string_content",
        "escape_sequence",
        "string_start",
        "string_end",
    }
)
# literal node types whose children (quotes, content, escapes) add nothing
_ATOMS = frozenset(
    {
        "string",
        "string_literal",
        "raw_string_literal",
        "interpreted_string_literal",
        "template_string",
        "char_literal",
        "character_literal",
        "concatenated_string",
        "rune_literal",
    }
)
_PUNCT = frozenset("()[]{},;:.")


def syntax_language(language: str | None) -> str | None:
    """The tree-sitter language for a Probity/pygments language name, or ``None``."""
    return SYNTAX_LANGUAGES.get((language or "").lower())


@lru_cache(maxsize=16)
def _parser(language: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(language)  # type: ignore[arg-type]


def available() -> bool:
    """True when tree-sitter and the language pack are installed."""
    try:
        _parser("python")
    except Exception:  # ImportError, or a broken install
        return False
    return True


#: node types whose children are a sequence of statements or declarations
_BLOCKS = frozenset(
    {
        "module",
        "block",
        "compound_statement",
        "statement_block",
        "program",
        "source_file",
        "translation_unit",
        "class_body",
        "declaration_list",
        "field_declaration_list",
    }
)


def _emit(node: Any, root: Any, out: list[tuple[str, int, int]], depth: int = 0) -> None:
    kind = node.type
    if node.is_named:
        if kind in _ATOMS:
            out.append((kind, node.start_byte, node.end_byte))
            return
        if kind not in _SKIP and node is not root:
            end = node.end_byte if node.child_count == 0 else node.start_byte + 1
            out.append((kind, node.start_byte, end))
    elif kind not in _PUNCT and not kind.isalpha() and not kind.startswith(('"', "'")):
        out.append((kind, node.start_byte, node.end_byte))  # operators; keywords are implied
    if not node.child_count:
        return
    if depth > 400:  # pathological nesting: keep the rest in source order, unsorted
        stack = list(reversed(node.children))
        while stack:
            n = stack.pop()
            if n.is_named and n.type not in _SKIP:
                out.append((n.type, n.start_byte, n.start_byte + 1))
            stack.extend(reversed(n.children))
        return
    if kind not in _BLOCKS:
        for child in node.children:
            _emit(child, root, out, depth + 1)
        return
    # Statements of a block in a canonical order (by their token sequence): swapping
    # independent statements, or moving a function within a file, then gives the same stream.
    parts = []
    for child in node.children:
        sub: list[tuple[str, int, int]] = []
        _emit(child, root, sub, depth + 1)
        parts.append(sub)
    parts.sort(key=lambda sub: [t for t, _, _ in sub])
    for sub in parts:
        out.extend(sub)


def syntax_tokens(text: str, language: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(tokens, starts, ends)``: node types of ``text``'s syntax tree in pre-order, the
    statements of every block in a canonical order, with character offsets (an inner node's
    range is its first character; a leaf's is the leaf). Offsets are not monotonic where
    statements were reordered."""
    data = text.encode("utf-8", "surrogatepass")
    root = _parser(language).parse(data).root_node
    out: list[tuple[str, int, int]] = []
    _emit(root, root, out)
    toks = [t for t, _, _ in out]
    s = np.fromiter((a for _, a, _ in out), dtype=np.int64, count=len(out))
    e = np.fromiter((b for _, _, b in out), dtype=np.int64, count=len(out))
    if len(data) != len(text):  # byte offsets -> character offsets
        char_of = np.repeat(
            np.arange(len(text) + 1, dtype=np.int64),
            [len(c.encode("utf-8", "surrogatepass")) for c in text] + [1],
        )
        s, e = char_of[s], char_of[e]
    return toks, s, e
