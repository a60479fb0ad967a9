"""Grounding: supported / unsupported / no_evidence per sentence, with spans and passages."""

from __future__ import annotations

import json

import pytest

from probity.citations import ground
from probity.errors import InputError

DOCS = {
    "rivers.md": "The Danube flows through ten countries. It rises in the Black Forest and "
    "empties into the Black Sea. Vienna and Budapest lie on its banks.",
    "alps.txt": "Mont Blanc is the highest mountain of the Alps at 4,806 metres. "
    "It lies on the border of France and Italy.",
}
ANSWER = (
    "The Danube rises in the Black Forest and empties into the Black Sea. "
    "Mont Blanc is the highest mountain of the Alps at 5,100 metres. "
    "Penguins enjoy jazz concerts on Tuesdays."
)


def test_statuses_spans_and_passages():
    res = ground(ANSWER, DOCS)
    st = [s.status for s in res.sentences]
    assert st == ["supported", "contradicted", "no_evidence"]  # 5,100 m vs 4,806 m
    first = res.sentences[0]
    assert ANSWER[first.span.start : first.span.end] == first.text
    assert first.passages[0].doc == "rivers.md"
    p = first.passages[0]
    assert DOCS[p.doc][p.start : p.end] == p.text
    assert res.supported_fraction == pytest.approx(1 / 3)
    assert res.to_dict()["method"] == "overlap"


def test_folder_and_jsonl_corpora(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    assert ground(ANSWER, folder).sentences[0].status == "supported"
    jl = tmp_path / "c.jsonl"
    jl.write_text(
        "\n".join(json.dumps({"id": k, "text": v}) for k, v in DOCS.items()), encoding="utf-8"
    )
    assert ground(ANSWER, jl).sentences[0].passages[0].doc == "rivers.md"


def test_bad_inputs(tmp_path):
    with pytest.raises(InputError):
        ground("   ", DOCS)
    with pytest.raises(InputError):
        ground(ANSWER, tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \.txt"):
        ground(ANSWER, tmp_path / "empty")


def _tiny_nli(out):
    """A random 1-layer BERT classifier with an 'entailment' label and a word-level tokenizer
    (built offline in well under a second; the verdicts are meaningless, the plumbing is not)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

    words = sorted({w.lower().strip(".,") for t in [*DOCS.values(), ANSWER] for w in t.split()})
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words])}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        model_max_length=24,
    )
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=24,
        num_labels=3,
        id2label={0: "ENTAILMENT", 1: "NEUTRAL", 2: "CONTRADICTION"},
        label2id={"ENTAILMENT": 0, "NEUTRAL": 1, "CONTRADICTION": 2},
    )
    BertForSequenceClassification(cfg).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def test_nli_model_path(tmp_path):
    """A local sequence-classification model with an 'entailment' label is the judge; only the
    passage is truncated to the model's 24 positions, never the claim."""
    pytest.importorskip("transformers")
    res = ground(ANSWER, DOCS, nli_model=str(_tiny_nli(tmp_path / "nli")))
    assert res.method == "nli" and len(res.sentences) == 3
    assert all(0.0 <= s.support <= 1.0 for s in res.sentences)


def test_nli_model_missing_is_a_model_error(tmp_path):
    from probity.errors import ModelError

    with pytest.raises(ModelError, match="cannot load NLI model"):
        ground(ANSWER, DOCS, nli_model=str(tmp_path / "no-model"))
