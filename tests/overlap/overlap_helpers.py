"""Helpers for the overlap tests: deterministic synthetic corpora and code."""

from __future__ import annotations

import random

_VOCAB_RNG = random.Random(12345)
VOCAB = sorted(
    {
        "".join(
            _VOCAB_RNG.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(_VOCAB_RNG.randint(2, 9))
        )
        for _ in range(4000)
    }
)


def make_doc(rng: random.Random, n: int = 200) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def mutate(text: str, frac: float, rng: random.Random) -> str:
    words = text.split()
    for i in rng.sample(range(len(words)), int(frac * len(words))):
        words[i] = rng.choice(VOCAB)
    return " ".join(words)


CODE_A = '''def total_price(items, tax_rate):
    """Sum the prices of the items with tax."""
    result = 0.0
    for item in items:
        if item.price > 10:
            result += item.price * (1 + tax_rate)
        else:
            result += item.price
    discount = compute_discount(result, len(items))
    return round(result - discount, 2)
'''

CODE_A_RENAMED = """def f(xs, t):
    acc = 0.0
    for x in xs:
        if x.price > 25:
            acc += x.price * (1 + t)
        else:
            acc += x.price
    d = compute_discount(acc, len(xs))
    return round(acc - d, 2)
"""

CODE_B = """class Graph:
    def __init__(self):
        self.edges = {}

    def add_edge(self, a, b):
        self.edges.setdefault(a, []).append(b)
        self.edges.setdefault(b, []).append(a)

    def neighbours(self, node):
        return sorted(self.edges.get(node, []))
"""

UNRELATED = """import json
import sys


def load(path):
    with open(path) as fh:
        return json.load(fh)


def main(argv):
    data = load(argv[1])
    keys = [k for k in data if not k.startswith("_")]
    print(len(keys), "keys")
    return 0
"""
