"""Black-box: asking for more tokens than the model's context window holds."""

from __future__ import annotations

from probity.lm import GenerationParams, load_model


def test_embedded_model_generates_past_its_context_window():
    model = load_model()
    out = model.generate(["ROMEO:"], GenerationParams(max_new_tokens=200, seed=1))
    assert len(out) == 1 and len(out[0].text.split()) > 20


def test_watermarked_generation_past_the_context_window():
    from probity.watermark import detect_text, generate, make_scheme, new_key

    key = new_key("ctx")
    scheme = make_scheme("kgw", key, gamma=0.25, delta=2.0)
    model = load_model()
    out = generate(model, ["Once upon a time"], scheme, GenerationParams(max_new_tokens=200))[0]
    assert len(out.token_ids) > 128
    det = detect_text(out.text, scheme, model, fpr=1e-4)
    assert det.watermarked
