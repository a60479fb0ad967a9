"""Syntax-tree code tokens: every supported language parses offline; renaming, reformatting and
reordering independent statements leave the token stream (and the clone verdict) unchanged."""

from __future__ import annotations

import re

import pytest

from probity.overlap.code import CodeIndex, code_tokens

SOURCES = {
    "javascript": """function totalPrice(items, taxRate) {
  let result = 0;
  let count = 0;
  for (const item of items) {
    if (item.price > 10) { result += item.price * (1 + taxRate); }
    else { result += item.price; }
    count += 1;
  }
  const discount = computeDiscount(result, count);
  return Math.round((result - discount) * 100) / 100;
}""",
    "typescript": """function totalPrice(items: Item[], taxRate: number): number {
  let result: number = 0;
  let count: number = 0;
  for (const item of items) {
    if (item.price > 10) { result += item.price * (1 + taxRate); }
    else { result += item.price; }
    count += 1;
  }
  const discount: number = computeDiscount(result, count);
  return Math.round((result - discount) * 100) / 100;
}""",
    "java": """static double totalPrice(List<Item> items, double taxRate) {
    double result = 0.0;
    int count = 0;
    for (Item item : items) {
        if (item.price > 10) { result += item.price * (1 + taxRate); }
        else { result += item.price; }
        count += 1;
    }
    double discount = computeDiscount(result, count);
    return Math.round((result - discount) * 100) / 100.0;
}""",
    "c": """double total_price(const item_t *items, size_t n, double tax_rate) {
    double result = 0.0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].price > 10) { result += items[i].price * (1 + tax_rate); }
        else { result += items[i].price; }
        count += 1;
    }
    double discount = compute_discount(result, count);
    return round((result - discount) * 100) / 100.0;
}""",
    "cpp": """double totalPrice(const std::vector<Item>& items, double taxRate) {
    double result = 0.0;
    std::size_t count = 0;
    for (const auto& item : items) {
        if (item.price > 10) { result += item.price * (1 + taxRate); }
        else { result += item.price; }
        count += 1;
    }
    double discount = computeDiscount(result, count);
    return std::round((result - discount) * 100) / 100.0;
}""",
    "go": """func totalPrice(items []Item, taxRate float64) float64 {
	result := 0.0
	count := 0
	for _, item := range items {
		if item.Price > 10 { result += item.Price * (1 + taxRate) } else { result += item.Price }
		count += 1
	}
	discount := computeDiscount(result, count)
	return math.Round((result-discount)*100) / 100
}""",
    "rust": """fn total_price(items: &[Item], tax_rate: f64) -> f64 {
    let mut result = 0.0;
    let mut count = 0;
    for item in items {
        if item.price > 10.0 { result += item.price * (1.0 + tax_rate); }
        else { result += item.price; }
        count += 1;
    }
    let discount = compute_discount(result, count);
    ((result - discount) * 100.0).round() / 100.0
}""",
}
UNRELATED = {
    "javascript": "function parse(s) { const parts = s.split(','); return parts.map(p => p.trim()).filter(Boolean); }",
    "typescript": "function parse(s: string): string[] { const parts = s.split(','); return parts.map(p => p.trim()).filter(Boolean); }",
    "java": 'static String[] parse(String s) { String[] parts = s.split(","); return parts; }',
    "c": "int parse(const char *s) { int n = 0; while (*s) { if (*s == ',') n++; s++; } return n; }",
    "cpp": "int parse(const std::string& s) { return std::count(s.begin(), s.end(), ','); }",
    "go": 'func parse(s string) []string { return strings.Split(s, ",") }',
    "rust": "fn parse(s: &str) -> Vec<&str> { s.split(',').collect() }",
}
RENAMES = {"totalPrice": "calc", "total_price": "calc", "items": "xs", "taxRate": "t",
           "tax_rate": "t", "result": "acc", "item": "it", "count": "k", "discount": "d"}  # fmt: skip


def _disguise(src: str) -> str:
    """Identifiers renamed, indentation and spacing redone (newlines kept: Go needs them)."""
    out = re.sub(r"\b(" + "|".join(RENAMES) + r")\b", lambda m: RENAMES[m.group()], src)
    lines = [re.sub(r"[ \t]+", " ", ln.strip()) for ln in out.splitlines()]
    return "\n".join(" " * (2 * (i % 3)) + ln for i, ln in enumerate(lines)) + "\n"


@pytest.mark.parametrize("language", sorted(SOURCES))
def test_each_language_parses_and_finds_a_renamed_reformatted_clone(language):
    src = SOURCES[language]
    toks = code_tokens(src, language, tokens="syntax")
    assert len(toks) > 40 and "identifier" in " ".join(toks.tokens)
    assert code_tokens(_disguise(src), language, tokens="syntax").tokens == toks.tokens
    idx = CodeIndex.build([("orig", src)], language=language)
    assert [m.doc for m in idx.query(_disguise(src))] == ["orig"]
    assert idx.query(UNRELATED[language]) == []


def test_reordered_independent_statements_give_the_same_stream():
    a = "def f(a, b):\n    x = a + 1\n    y = b * 2\n    return x - y\n"
    b = "def g(p, q):\n    y = (q * 2)\n    x = p + 1\n    return x - y\n"
    assert code_tokens(a, tokens="syntax").tokens == code_tokens(b, tokens="syntax").tokens
    assert code_tokens(a, tokens="lexical").tokens != code_tokens(b, tokens="lexical").tokens


def test_auto_language_picks_the_grammar_by_extension():
    idx = CodeIndex.build([("a.go", SOURCES["go"]), ("b.rs", SOURCES["rust"])], language="auto")
    assert next(m.doc for m in idx.query(SOURCES["rust"], filename="q.rs")) == "b.rs"


def test_spans_stay_inside_the_query_text():
    idx = CodeIndex.build([("orig", SOURCES["c"])], language="c")
    q = "int unrelated(void) { return 4; }\n\n" + _disguise(SOURCES["c"])
    (m,) = idx.query(q)
    for a, b, _ in m.spans:
        assert 0 <= a < b <= len(q)


def test_boilerplate_shared_by_many_files_is_not_evidence():
    header = (
        "import os\nimport sys\nimport json\n\n"
        "def main(argv=None):\n    args = parse(argv or sys.argv[1:])\n"
        "    config = json.load(open(os.path.join(args.root, 'config.json')))\n"
        "    logging.basicConfig(level=config.get('level', 'INFO'), format=config['fmt'])\n"
        "    return run(args, config)\n\n"
    )
    from clone_corpus import clone_sets

    bodies = [src for _, src in clone_sets()[0][:12]]  # 12 different real functions
    idx = CodeIndex.build([(f"f{i}.py", header + b) for i, b in enumerate(bodies)])
    query = header + "def fresh(a):\n    return sorted(set(a), key=len)\n"
    assert idx.query(query) == []  # only the shared scaffolding matches
    assert idx.query(header + bodies[3])[0].doc == "f3.py"  # a real copy still is found
