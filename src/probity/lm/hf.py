"""A local transformers causal LM as both a ``TextGenerator`` and a ``NextTokenModel``."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import InputError, ModelError, require
from probity.lm.base import Completion, GenerationParams, Message, check_prompts, cut_at_stop
from probity.lm.embedded import DEMO_MODEL, demo_model_path

_HUB_HOST = "huggingface.co"


def _hub_reachable(timeout: float = 1.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0") or os.environ.get(
        "TRANSFORMERS_OFFLINE", "0"
    ) not in ("", "0"):
        return False
    try:
        socket.create_connection((_HUB_HOST, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def resolve_model_path(name_or_path: str | os.PathLike[str] | None) -> tuple[str, bool]:
    """Return ``(what to pass to from_pretrained, local_files_only)`` for a model reference.

    ``None`` or ``"probity-demo"`` is the embedded demo model; an existing directory is used
    as is; anything else is a hub name, used from the local cache, or downloaded only when
    the hub is reachable.
    """
    if name_or_path is None or str(name_or_path) == DEMO_MODEL:
        path = demo_model_path()
        if not (path / "config.json").exists():
            raise ModelError(
                f"the embedded demo model is missing from {path}",
                hint="reinstall probity or run scripts/train_demo_lm.py",
            )
        return str(path), True
    ref = str(name_or_path)
    p = Path(ref).expanduser()
    if p.exists():
        if not p.is_dir() or not (p / "config.json").exists():
            raise ModelError(
                f"{ref!r} is not a model directory (no config.json in it)",
                hint="pass a folder written by save_pretrained, or a hub name",
            )
        return str(p), True
    if ref.startswith((".", "/", "~")) or ref.count("/") > 1:
        raise ModelError(f"model path {ref!r} does not exist")
    return ref, False


def _from_pretrained(loader: Any, ref: str, local_only: bool, **kw: Any) -> Any:
    try:
        return loader.from_pretrained(ref, local_files_only=True, **kw)
    except (OSError, ValueError) as first:
        if local_only:
            raise ModelError(f"cannot load model from {ref!r}: {first}") from first
        if not _hub_reachable():
            raise ModelError(
                f"unknown model {ref!r}: it is not a local directory, not in the Hugging Face "
                "cache, and the hub cannot be reached (offline)",
                hint=f"on a connected machine run `huggingface-cli download {ref}` or "
                "`save_pretrained` it, then pass the local path with --model",
            ) from first
        try:
            return loader.from_pretrained(ref, **kw)
        except Exception as exc:  # hub errors come in many types
            raise ModelError(f"cannot download model {ref!r}: {exc}") from exc


class HFModel:
    """A transformers causal language model with its tokenizer.

    Implements :class:`~probity.lm.TextGenerator` (batched, left-padded generation with
    temperature, top-p, top-k, n, seed and stop strings; chat templates when the tokenizer has
    one) and :class:`~probity.lm.NextTokenModel` (``next_token_logits``).
    """

    def __init__(self, model: Any, tokenizer: Any, name: str = "model") -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        self.tokenizer.padding_side = "left"
        self.model.eval()

    # -- loading --------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        name_or_path: str | os.PathLike[str] | None = None,
        *,
        device: str = "cpu",
        dtype: str | None = None,
    ) -> HFModel:
        """Load a model and tokenizer with ``from_pretrained`` (see :func:`load_model`)."""
        ref, local_only = resolve_model_path(name_or_path)  # fails fast, before heavy imports
        torch = require("torch", "hf")
        transformers = require("transformers", "hf")
        kw: dict[str, Any] = {}
        if dtype is not None:
            if not hasattr(torch, dtype):
                raise InputError(f"unknown dtype {dtype!r}; use float32, bfloat16 or float16")
            kw["dtype"] = getattr(torch, dtype)
        tok = _from_pretrained(transformers.AutoTokenizer, ref, local_only)
        model = _from_pretrained(transformers.AutoModelForCausalLM, ref, local_only, **kw)
        try:
            model.to(device)
        except (RuntimeError, AssertionError) as exc:
            raise ModelError(f"cannot move model to device {device!r}: {exc}") from exc
        label = DEMO_MODEL if name_or_path is None else str(name_or_path)
        return cls(model, tok, name=label)

    # -- NextTokenModel -------------------------------------------------------------------

    @property
    def vocab_size(self) -> int:
        """Size of the model's output layer (may exceed the tokenizer's length)."""
        return int(self.model.config.vocab_size)

    @property
    def eos_token_id(self) -> int | None:
        return self.tokenizer.eos_token_id

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=True)

    @property
    def context_window(self) -> int | None:
        """Positions the model can attend to (``n_positions``/``max_position_embeddings``)."""
        cfg = self.model.config
        n = getattr(cfg, "n_positions", 0) or getattr(cfg, "max_position_embeddings", 0)
        return int(n) if n else None

    def next_token_logits(self, input_ids: np.ndarray) -> np.ndarray:
        torch = require("torch", "hf")
        ids = np.asarray(input_ids, dtype=np.int64)
        if ids.ndim == 1:
            ids = ids[None, :]
        ids = ids[:, -(self.context_window or ids.shape[1]) :]
        with torch.inference_mode():
            out = self.model(input_ids=torch.from_numpy(ids).to(self.device))
        return out.logits[:, -1, :].float().cpu().numpy()

    def _generate_sliding(
        self, input_ids: Any, attention: Any, max_new: int, window: int, kwargs: dict[str, Any]
    ) -> np.ndarray:
        """New token ids ``(batch, <= max_new)`` from transformers' ``generate``, sliding the
        context window when prompt + answer would not fit.

        Within the window this is one ``generate`` call (the common case, unchanged). Past it,
        generation continues in segments: each keeps the last half-window of tokens as context,
        so a model with a 128-token context can write 200 tokens instead of indexing past its
        position table. Rows that reached end-of-sequence are carried along and cut later.
        """
        torch = require("torch", "hf")
        eos = self.eos_token_id
        keep = max(1, window // 2)
        pieces: list[np.ndarray] = []
        done = np.zeros(input_ids.shape[0], dtype=bool)
        remaining = max_new
        while remaining > 0:
            if input_ids.shape[1] >= window:  # slide: keep the most recent half-window
                input_ids, attention = input_ids[:, -keep:], attention[:, -keep:]
            step = min(remaining, window - input_ids.shape[1])
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=input_ids, attention_mask=attention, max_new_tokens=step, **kwargs
                )
            new = out[:, input_ids.shape[1] :]
            if new.shape[1] == 0:
                break
            pieces.append(new.cpu().numpy())
            remaining -= new.shape[1]
            if eos is not None:
                done |= (pieces[-1] == eos).any(axis=1)
            if done.all():
                break
            input_ids = out
            attention = torch.cat([attention, torch.ones_like(new)], dim=1)
        if not pieces:
            return np.zeros((input_ids.shape[0], 0), dtype=np.int64)
        return np.concatenate(pieces, axis=1)

    # -- TextGenerator --------------------------------------------------------------------

    def _render_chat(self, messages: Sequence[Message]) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
        lines = [f"{m.get('role', 'user')}: {m.get('content', '')}" for m in messages]
        return "\n".join([*lines, "assistant:"])

    def chat(
        self,
        conversations: Sequence[Sequence[Message]],
        params: GenerationParams | None = None,
        *,
        logits_processors: Any = None,
    ) -> list[Completion]:
        prompts = [self._render_chat(c) for c in conversations]
        return self.generate(prompts, params, logits_processors=logits_processors)

    def generate(
        self,
        prompts: Sequence[str],
        params: GenerationParams | None = None,
        *,
        logits_processors: Any = None,
        batch_size: int = 16,
        on_progress: Callable[[int], None] | None = None,
    ) -> list[Completion]:
        """Generate ``params.n`` completions per prompt.

        All prompts' samples are generated together, ``batch_size`` sequences at a time (on a
        CPU, 64 runs about 1.5x the throughput of 16 for small models). ``logits_processors``
        is an optional list of transformers ``LogitsProcessor`` objects (a watermark, for
        instance) applied at every step. ``on_progress(k)`` is called as each batch of ``k``
        completions finishes (drive a progress bar with it).
        """
        torch = require("torch", "hf")
        transformers = require("transformers", "hf")
        prompts = check_prompts(prompts)
        params = params or GenerationParams()
        if params.seed is not None:
            torch.manual_seed(params.seed)
        expanded = [(i, j, p) for i, p in enumerate(prompts) for j in range(params.n)]
        results: list[Completion] = []
        window = self.context_window or 2048
        # Keep at most half the window for the prompt when the answer is long, so a long
        # prompt is cut from the left rather than leaving no room to generate.
        max_prompt = max(1, window - min(params.max_new_tokens, window // 2))
        for start in range(0, len(expanded), batch_size):
            chunk = expanded[start : start + batch_size]
            texts = [
                p if p else (self.tokenizer.bos_token or self.tokenizer.eos_token or "")
                for _, _, p in chunk
            ]
            enc = self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            input_ids = enc["input_ids"][:, -max_prompt:].to(self.device)
            attention = enc["attention_mask"][:, -max_prompt:].to(self.device)
            if input_ids.shape[1] == 0:
                raise InputError("a prompt encodes to no tokens")
            kwargs: dict[str, Any] = dict(pad_token_id=self.tokenizer.pad_token_id)
            if params.temperature == 0:
                kwargs["do_sample"] = False
            else:
                kwargs.update(
                    do_sample=True,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    top_k=params.top_k or None,
                )
            if logits_processors:
                kwargs["logits_processor"] = transformers.LogitsProcessorList(logits_processors)
            new = self._generate_sliding(
                input_ids, attention, params.max_new_tokens, window, kwargs
            )
            for row, (pi, j, _) in enumerate(chunk):
                ids = new[row].tolist()
                eos = self.eos_token_id
                hit_eos = eos is not None and eos in ids
                if hit_eos:
                    ids = ids[: ids.index(eos)]
                ids = [t for t in ids if t != self.tokenizer.pad_token_id or t == eos]
                text = self.decode(ids)
                text, stopped = cut_at_stop(text, params.stop)
                reason = "stop" if (hit_eos or stopped) else "length"
                results.append(
                    Completion(
                        text=text,
                        prompt_index=pi,
                        index=j,
                        finish_reason=reason,
                        completion_tokens=len(ids),
                        prompt_tokens=int(attention[row].sum()),
                        token_ids=tuple(ids),
                    )
                )
            if on_progress is not None:
                on_progress(len(chunk))
        return results

    def estimate_seconds(
        self, sequences: int, max_new_tokens: int, *, batch_size: int = 16, probe_tokens: int = 8
    ) -> float:
        """Seconds that generating ``sequences`` completions of ``max_new_tokens`` should take,
        from one timed batch of ``probe_tokens`` tokens (say it before a long local run)."""
        torch = require("torch", "hf")
        rows = max(1, min(batch_size, sequences))
        ids = torch.full((rows, 4), int(self.eos_token_id or 0), device=self.device)
        steps = max(1, min(probe_tokens, max_new_tokens))
        t0 = time.perf_counter()
        with torch.inference_mode():
            self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=steps,
                min_new_tokens=steps,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        per_step = (time.perf_counter() - t0) / steps
        batches = -(-sequences // batch_size)
        return float(per_step * max_new_tokens * batches)


def load_model(
    name_or_path: str | os.PathLike[str] | None = None,
    *,
    device: str = "cpu",
    dtype: str | None = None,
) -> HFModel:
    """Load a causal LM by hub name or local path; ``None`` is the embedded demo model.

    Never hangs offline: an unknown name that is not cached raises :class:`ModelError` saying
    how to get the model onto this machine.
    """
    return HFModel.load(name_or_path, device=device, dtype=dtype)
