"""Accuracy floors on the shared labelled PII set (skipped when ../shared is absent)."""

from __future__ import annotations

import json
import re

EVAL = {
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
    "DOMAIN_NAME",
    "STREET_ADDRESS",
}


def test_pii_token_f1_and_recalls(shared_dir):
    from probity.guard.scanners.pii import PiiScanner

    data = json.loads((shared_dir / "data/pii/synth_dataset_v2.json").read_text())
    sc = PiiScanner()
    tp = fp = fn = 0
    hit: dict[str, int] = {}
    tot: dict[str, int] = {}
    for r in data:
        text = r["full_text"]
        toks = [(m.start(), m.end()) for m in re.finditer(r"\w+", text)]
        gold = ["O"] * len(toks)
        pred = ["O"] * len(toks)
        for s in r["spans"]:
            if s["entity_type"] in EVAL:
                for i, (a, b) in enumerate(toks):
                    if a < s["end_position"] and s["start_position"] < b:
                        gold[i] = s["entity_type"]
        for a0, b0, e, score in sc.spans(text):
            e = "DOMAIN_NAME" if e == "URL" else e
            if score >= 0.5 and e in EVAL:
                for i, (a, b) in enumerate(toks):
                    if a < b0 and a0 < b:
                        pred[i] = e
        for g, p in zip(gold, pred, strict=True):
            if g != "O":
                tot[g] = tot.get(g, 0) + 1
            if p != "O" and p == g:
                tp += 1
                hit[g] = hit.get(g, 0) + 1
            else:
                fp += p != "O"
                fn += g != "O"
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.80, f1
    assert hit["PHONE_NUMBER"] / tot["PHONE_NUMBER"] >= 0.90
    assert hit["CREDIT_CARD"] / tot["CREDIT_CARD"] >= 0.95
