"""A local transformers text-classification model as the toxicity and injection back end."""

from __future__ import annotations

import pytest

from probity.errors import ModelError


@pytest.fixture(scope="module")
def tiny_classifier(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    d = tmp_path_factory.mktemp("clf")
    vocab = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "you",
        "are",
        "an",
        "idiot",
        "hello",
        "friend",
        "nice",
        "day",
    ]
    tok = transformers.BertTokenizerFast(vocab={w: i for i, w in enumerate(vocab)})
    cfg = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=2,
        id2label={0: "neutral", 1: "toxic"},
        label2id={"neutral": 0, "toxic": 1},
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(cfg)
    with torch.no_grad():  # make "idiot" decide the class, so the test has a known answer
        model.bert.embeddings.word_embeddings.weight[8] *= 0
        model.bert.embeddings.word_embeddings.weight[8] += 3.0
    model.save_pretrained(d)
    tok.save_pretrained(d)
    return d


def test_local_classifier_scores_and_versions(tiny_classifier):
    from probity.guard import create_scanner

    sc = create_scanner("toxicity", model=str(tiny_classifier), localise=False, min_score=0.0)
    out = sc.scan_many(["you are an idiot", "hello friend nice day"])
    assert len(out) == 2 and all(len(f) == 1 for f in out)
    s1, s2 = out[0][0].score, out[1][0].score
    assert 0.0 <= s1 <= 1.0 and 0.0 <= s2 <= 1.0 and s1 != s2
    assert sc.version.startswith("hf:")
    inj = create_scanner("injection", model=str(tiny_classifier))
    assert any(f.category == "classifier" for f in inj.scan_many(["hello"])[0])


def test_missing_classifier_folder_is_a_model_error(tmp_path):
    from probity.guard import create_scanner

    with pytest.raises(ModelError, match="not found"):
        create_scanner("toxicity", model=str(tmp_path / "nope"))
