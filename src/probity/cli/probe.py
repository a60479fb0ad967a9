"""``probity probe pronouns|tone|counterfactual|qa|pairs``: fairness probes against any LLM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from probity.cli._groups import probe_app
from probity.cli._output import JSON_HELP, console, err_console, print_json, progress
from probity.errors import InputError

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Local model folder or hub name (cached), or the model name to ask "
        "the --base-url endpoint for. Default: the embedded demo model.",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible endpoint including /v1, e.g. http://127.0.0.1:8000/v1.",
    ),
]
ApiKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="PROBITY_API_KEY", help="Bearer key for --base-url ($PROBITY_API_KEY)."
    ),
]
SamplesOpt = Annotated[int, typer.Option("--samples", "-n", min=1, help="Completions per prompt.")]
SuiteOpt = Annotated[
    str | None,
    typer.Option(
        "--suite",
        help="A suite YAML file or a shipped suite name (pronouns, tone, counterfactual, "
        "lending). Default: the shipped suite of this probe.",
    ),
]
ReportOpt = Annotated[Path | None, typer.Option("--report", help="Write an HTML report here.")]
JsonOpt = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
SeedOpt = Annotated[int, typer.Option("--seed", help="Run seed; each sample records its own.")]
TokensOpt = Annotated[int, typer.Option("--max-new-tokens", min=1, help="Tokens per completion.")]
TempOpt = Annotated[float, typer.Option("--temperature", min=0.0, help="Sampling temperature.")]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache", help="Completion cache (JSONL). Default: <probity home>/cache/probes/."
    ),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write a cache.")]
ConcOpt = Annotated[
    int, typer.Option("--concurrency", min=1, help="Parallel requests for --base-url.")
]
TimeoutOpt = Annotated[float, typer.Option("--timeout", min=0.1, help="Seconds per HTTP request.")]
ChatOpt = Annotated[
    bool,
    typer.Option(
        "--chat", help="Send each prompt as a user message (chat endpoint / chat template)."
    ),
]
CorrOpt = Annotated[
    str,
    typer.Option(
        "--correction", help="Multiple-comparison correction: holm (FWER), bh (FDR) or none."
    ),
]
AlphaOpt = Annotated[
    float, typer.Option("--alpha", min=0.0, max=1.0, help="Significance level after correction.")
]
CatOpt = Annotated[
    str | None,
    typer.Option("--categories", help="Comma-separated categories to keep (e.g. gender,religion)."),
]
ToxOpt = Annotated[
    bool,
    typer.Option(
        "--toxicity/--no-toxicity", help="Score toxicity (guard scanner or profanity-check)."
    ),
]
ClfOpt = Annotated[
    Path | None,
    typer.Option(
        "--classifier", help="A local transformers sequence-classification model to score with too."
    ),
]
ClfLabelOpt = Annotated[
    str | None,
    typer.Option(
        "--classifier-label", help="Which label's probability to use (default: the last label)."
    ),
]

ResamplesOpt = Annotated[
    int,
    typer.Option(
        "--resamples",
        min=99,
        help="Bootstrap and permutation resamples per comparison (more = steadier p-values).",
    ),
]


def _generator(
    model: str | None, base_url: str | None, api_key: str | None, concurrency: int, timeout: float
) -> Any:
    from probity.lm import open_generator

    return open_generator(
        model, base_url=base_url, api_key=api_key, concurrency=concurrency, timeout=timeout
    )


def _split(value: str | None) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise InputError(f"empty list {value!r}")
    return items


def _run_options(
    samples: int,
    seed: int,
    max_new_tokens: int,
    temperature: float,
    cache: Path | None,
    no_cache: bool,
    concurrency: int,
    chat: bool,
) -> dict[str, Any]:
    if cache is not None and no_cache:
        raise InputError("give --cache or --no-cache, not both")
    return {
        "samples": samples,
        "seed": seed,
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "cache": False if no_cache else cache,
        "concurrency": concurrency,
        "chat": chat,
    }


def _classifier(path: Path | None, label: str | None) -> Any:
    if path is None:
        if label is not None:
            raise InputError("--classifier-label needs --classifier")
        return None
    from probity.probes import classifier_scores

    if not path.is_dir():
        raise InputError(f"classifier folder {str(path)!r} does not exist")
    return lambda texts: classifier_scores(texts, str(path), label)


def _check_correction(correction: str) -> None:
    if correction not in ("holm", "bh", "none"):
        raise InputError(f"unknown correction {correction!r}", hint="use holm, bh or none")


def _with_progress(
    total: int, json_out: bool, fn: Any, *, gen: Any = None, opts: dict[str, Any] | None = None
) -> Any:
    """Run ``fn(on_progress)`` under a progress bar. For a local model (which generates one
    prompt's samples per batch), say before starting about how long the run will take, from
    one timed batch (``HFModel.estimate_seconds``): a 20-sample probe of every occupation on a
    CPU can take many minutes, and the user should know before waiting."""
    if gen is not None and opts is not None and hasattr(gen, "estimate_seconds"):
        samples = int(opts.get("samples", 1))
        secs = gen.estimate_seconds(
            total * samples, int(opts.get("max_new_tokens", 16)), batch_size=max(1, samples)
        )
        err_console.print(
            f"{total} prompts x {samples} samples on a local model: at least "
            f"{_duration(secs)} (from one timed batch; the bar's estimate refines it; "
            "cached completions are not regenerated)"
        )
    with progress() as bar:
        task = bar.add_task("probing", total=total)
        return fn(lambda k: bar.advance(task, k))


def _duration(secs: float) -> str:
    return f"{secs:.0f} s" if secs < 120 else f"{secs / 60:.0f} min"


def _finish(result: Any, report: Path | None, json_out: bool) -> None:
    if report is not None:
        from probity.probes import build_report

        build_report(result).write(report)
        err_console.print(f"report written to {report}")
    if json_out:
        print_json(result)


def _run_line(run: dict[str, Any]) -> str:
    return (
        f"{run['completions']} completions ({run['generated']} generated, "
        f"{run['from_cache']} cached); refusals {run['refusals']}, empty {run['empty']}, "
        f"backend errors {run['errors']} prompts ({run['lost_samples']} samples lost, "
        "not counted)"
    )


@probe_app.command("pronouns")
def pronouns_cmd(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    samples: SamplesOpt = 20,
    suite: SuiteOpt = None,
    occupations: Annotated[
        str | None,
        typer.Option("--occupations", help="Comma-separated occupations to keep (default: all)."),
    ] = None,
    reference: Annotated[
        str,
        typer.Option(
            "--reference",
            help="'parity' (the default: test she = he per occupation), 'none' (shares only), "
            "or a CSV/TSV with columns occupation and a share of women (percent or 0-1), e.g. "
            "winogender-occupations-stats.tsv.",
        ),
    ] = "parity",
    reference_column: Annotated[
        str | None,
        typer.Option(
            "--reference-column",
            help="Rate column of --reference (default: the last column "
            "whose name contains 'female' or 'women').",
        ),
    ] = None,
    seed: SeedOpt = 0,
    max_new_tokens: TokensOpt = 40,
    temperature: TempOpt = 1.0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcOpt = 4,
    timeout: TimeoutOpt = 60.0,
    chat: ChatOpt = False,
    correction: CorrOpt = "holm",
    alpha: AlphaOpt = 0.05,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Which pronouns does the model use for people by occupation, and does it follow cues?

    Prompts like "The nurse, Hanson, studied the day's notes carefully, and then" are sampled
    --samples times each; the pronouns the model uses for the person are counted. Per
    occupation: shares of he/she/they/neo with 95% Wilson intervals, she/(he+she) against a
    reference rate (exact binomial test, corrected), and the shift each cue ("Hanson used to
    play in the WNBA.") causes, with Newcombe intervals.
    """
    from probity.probes import load_reference, load_suite, probe_pronouns

    s = load_suite(suite or "pronouns", kind="pronouns")
    occs = _split(occupations)
    n_prompts = len(s.prompts(occupations=occs))
    _check_correction(correction)
    ref: Any = None
    ref_source = None
    if reference.strip().lower() != "none":
        ref, ref_source = load_reference(reference, reference_column)
    opts = _run_options(
        samples, seed, max_new_tokens, temperature, cache, no_cache, concurrency, chat
    )
    gen = _generator(model, base_url, api_key, concurrency, timeout)
    res = _with_progress(
        n_prompts,
        json_out,
        lambda cb: probe_pronouns(
            gen,
            suite=s.source,
            occupations=occs,
            reference=ref,
            reference_source=ref_source,
            correction=correction,
            alpha=alpha,
            on_progress=cb,
            **opts,
        ),
        gen=gen,
        opts=opts,
    )
    if not json_out:
        from rich.table import Table

        o = res.overall.female_share
        console.print(f"[bold]{res.model}[/]: {_run_line(res.run)}")
        console.print(
            f"overall she/(he+she) = {o.share:.3f} (95% CI {o.low:.3f}-{o.high:.3f}, n={o.n})"
        )
        t = Table("occupation", "n", "she/(he+she)", "95% CI", "they", "reference", "p_adj")
        for r in res.occupations:
            f = r.female_share
            t.add_row(
                r.occupation,
                str(r.labelled),
                f"{f.share:.3f}",
                f"{f.low:.3f}-{f.high:.3f}",
                f"{r.shares['they'].share:.3f}",
                "" if r.reference is None else f"{r.reference:.3f}",
                "" if r.p_adjusted is None else f"{r.p_adjusted:.3g}",
            )
        console.print(t)
        c = Table("cue", "expects", "neutral", "cued", "shift", "95% CI")
        for x in res.cues:
            c.add_row(
                x.cue,
                x.expected,
                f"{x.neutral.share:.3f}",
                f"{x.cued.share:.3f}",
                f"{x.shift:+.3f}",
                f"{x.low:+.3f} to {x.high:+.3f}",
            )
        console.print(c)
    _finish(res, report, json_out)


def _tone_like(
    kind: str,
    model: str | None,
    base_url: str | None,
    api_key: str | None,
    samples: int,
    suite: str | None,
    categories: str | None,
    seed: int,
    max_new_tokens: int,
    temperature: float,
    cache: Path | None,
    no_cache: bool,
    concurrency: int,
    timeout: float,
    chat: bool,
    correction: str,
    alpha: float,
    toxicity: bool,
    classifier: Path | None,
    classifier_label: str | None,
    resamples: int,
    report: Path | None,
    json_out: bool,
) -> None:
    from probity.probes import load_suite, probe_counterfactual, probe_tone

    _check_correction(correction)
    s = load_suite(suite or kind, kind=kind)
    cats = _split(categories)
    n_prompts = len(s.prompts(categories=cats))
    clf = _classifier(classifier, classifier_label)
    opts = _run_options(
        samples, seed, max_new_tokens, temperature, cache, no_cache, concurrency, chat
    )
    gen = _generator(model, base_url, api_key, concurrency, timeout)
    fn = probe_tone if kind == "tone" else probe_counterfactual
    res = _with_progress(
        n_prompts,
        json_out,
        lambda cb: fn(
            gen,
            suite=s.source,
            categories=cats,
            toxicity=toxicity,
            classifier=clf,
            correction=correction,
            alpha=alpha,
            B=resamples,
            on_progress=cb,
            **opts,
        ),
        gen=gen,
        opts=opts,
    )
    if not json_out:
        from rich.table import Table

        console.print(f"[bold]{res.model}[/]: {_run_line(res.run)}")
        if kind == "tone":
            console.print(
                f"toxicity from {res.toxicity_source}; {correction}-adjusted over "
                f"{len(res.gaps)} comparisons"
            )
            t = Table("category", "group vs reference", "metric", "gap", "95% CI", "p_adj", "sig")
            for g in res.gaps:
                t.add_row(
                    g.category,
                    f"{g.group} vs {g.reference}",
                    g.metric,
                    f"{g.gap:+.3f}",
                    f"{g.low:+.3f} to {g.high:+.3f}",
                    "" if g.p_adjusted is None else f"{g.p_adjusted:.3g}",
                    "yes" if g.significant else "",
                )
        else:
            t = Table("pair (a / b)", "metric", "n", "b - a", "95% CI", "p_adj", "similarity")
            for p in res.pairs:
                t.add_row(
                    p.pair,
                    p.metric,
                    str(p.n_pairs),
                    f"{p.mean_diff:+.3f}",
                    f"{p.low:+.3f} to {p.high:+.3f}",
                    "" if p.p_adjusted is None else f"{p.p_adjusted:.3g}",
                    f"{p.similarity:.2f}",
                )
        console.print(t)
        for note in getattr(res, "notes", []):
            err_console.print(f"note: {note}", markup=False)
    _finish(res, report, json_out)


@probe_app.command("tone")
def tone_cmd(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    samples: SamplesOpt = 20,
    suite: SuiteOpt = None,
    categories: CatOpt = None,
    seed: SeedOpt = 0,
    max_new_tokens: TokensOpt = 40,
    temperature: TempOpt = 1.0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcOpt = 4,
    timeout: TimeoutOpt = 60.0,
    chat: ChatOpt = False,
    correction: CorrOpt = "holm",
    alpha: AlphaOpt = 0.05,
    toxicity: ToxOpt = True,
    classifier: ClfOpt = None,
    classifier_label: ClfLabelOpt = None,
    resamples: ResamplesOpt = 2000,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Does the model write about some groups in a more negative or toxic tone?

    The same templates are filled with group terms (gender, race/ethnicity, religion, age,
    nationality, disability, sexual orientation); completions are scored for VADER sentiment
    and toxicity. Each group's gap to its category's reference group gets a bootstrap 95%
    interval and a permutation p-value (within templates), corrected over all comparisons;
    templates naming an occupation give group x occupation cuts.
    """
    _tone_like(
        "tone",
        model,
        base_url,
        api_key,
        samples,
        suite,
        categories,
        seed,
        max_new_tokens,
        temperature,
        cache,
        no_cache,
        concurrency,
        timeout,
        chat,
        correction,
        alpha,
        toxicity,
        classifier,
        classifier_label,
        resamples,
        report,
        json_out,
    )


@probe_app.command("counterfactual")
def counterfactual_cmd(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    samples: SamplesOpt = 20,
    suite: SuiteOpt = None,
    categories: CatOpt = None,
    seed: SeedOpt = 0,
    max_new_tokens: TokensOpt = 40,
    temperature: TempOpt = 1.0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcOpt = 4,
    timeout: TimeoutOpt = 60.0,
    chat: ChatOpt = False,
    correction: CorrOpt = "holm",
    alpha: AlphaOpt = 0.05,
    toxicity: ToxOpt = True,
    classifier: ClfOpt = None,
    classifier_label: ClfLabelOpt = None,
    resamples: ResamplesOpt = 2000,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Do prompts that differ only in a group term get different completions?

    Each pair of terms ("a man" / "a woman") fills the same templates; sample i of both sides
    uses the same seed. Per pair: mean difference (b - a) of sentiment, toxicity and length
    with bootstrap 95% intervals and sign-flip p-values (corrected), and the word-set Jaccard
    similarity of the two texts. --suite lending runs the lending-advice use case.
    """
    _tone_like(
        "counterfactual",
        model,
        base_url,
        api_key,
        samples,
        suite,
        categories,
        seed,
        max_new_tokens,
        temperature,
        cache,
        no_cache,
        concurrency,
        timeout,
        chat,
        correction,
        alpha,
        toxicity,
        classifier,
        classifier_label,
        resamples,
        report,
        json_out,
    )


def _verdict_lines(res: Any) -> None:
    for line in res.meaning():
        console.print(line, markup=False)


@probe_app.command("qa")
def qa_cmd(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key: ApiKeyOpt = None,
    samples: SamplesOpt = 20,
    suite: Annotated[
        str,
        typer.Option("--suite", help="A question suite YAML (kind: qa) or a shipped name."),
    ] = "ambiguous-questions",
    categories: CatOpt = None,
    seed: SeedOpt = 0,
    max_new_tokens: TokensOpt = 8,
    temperature: TempOpt = 1.0,
    cache: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    concurrency: ConcOpt = 4,
    timeout: TimeoutOpt = 60.0,
    chat: ChatOpt = False,
    correction: CorrOpt = "holm",
    alpha: AlphaOpt = 0.05,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Does the model answer ambiguous questions from a stereotype? (BBQ style, any backend)

    Each item names two people; the ambiguous context does not say which one the question is
    about, so the right answer is "Cannot be determined". A disambiguated context answers it,
    once for each person. Both name orders are asked. Per category: accuracy in both contexts,
    and among ambiguous answers that name someone, the share naming the person the stereotype
    targets, with a 95% Wilson interval and an exact binomial test against 1/2
    (--correction over categories). A significant share above 1/2 means stereotype-driven
    answers on these questions; no answer naming anyone means the category is untested.
    """
    from probity.probes.qa import probe_questions, qa_prompts

    _check_correction(correction)
    cats = _split(categories)
    n_prompts = len(qa_prompts(suite, cats))
    opts = _run_options(
        samples, seed, max_new_tokens, temperature, cache, no_cache, concurrency, chat
    )
    gen = _generator(model, base_url, api_key, concurrency, timeout)
    res = _with_progress(
        n_prompts,
        json_out,
        lambda cb: probe_questions(
            gen,
            suite=suite,
            categories=cats,
            correction=correction,
            alpha=alpha,
            on_progress=cb,
            **opts,
        ),
        gen=gen,
        opts=opts,
    )
    if not json_out:
        from rich.table import Table

        console.print(f"[bold]{res.model}[/]: {_run_line(res.run)}")
        t = Table(
            "category", "amb. accuracy", "dis. accuracy", "named", "target share", "95% CI",
            "p_adj", "sig",
        )  # fmt: skip
        for c in [*res.categories, res.overall]:
            t.add_row(
                c.category,
                f"{c.ambiguous_accuracy:.3f}" if c.ambiguous_n else "",
                f"{c.disambiguated_accuracy:.3f}" if c.disambiguated_n else "",
                str(c.named),
                f"{c.target_share:.3f}" if c.named else "",
                f"{c.target_low:.3f}-{c.target_high:.3f}" if c.named else "",
                "" if c.p_adjusted is None else f"{c.p_adjusted:.3g}",
                "yes" if c.significant else "",
            )
        console.print(t)
        _verdict_lines(res)
    _finish(res, report, json_out)


@probe_app.command("pairs")
def pairs_cmd(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    suite: Annotated[
        str,
        typer.Option("--suite", help="A pairs suite YAML (kind: pairs) or a shipped name."),
    ] = "stereotype-pairs",
    categories: CatOpt = None,
    correction: CorrOpt = "holm",
    alpha: AlphaOpt = 0.05,
    report: ReportOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Does a local model find stereotypical sentences more likely? (CrowS-Pairs style)

    Each pair is a stereotypical sentence and a minimally different anti-stereotypical one;
    the model's total log-likelihood decides which it prefers (deterministic: no samples or
    seed). Per category: the share of pairs preferring the stereotype with a 95% Wilson
    interval and an exact binomial test against 1/2 (--correction over categories); ties are
    counted and left out. Needs log-probabilities, so only local models (--model folder or
    cached hub name, default the demo model); --base-url is refused with an error, because
    Probity's endpoint client gets no sentence log-probabilities.
    """
    from probity.probes.pairs import load_pairs, probe_stereotype_pairs

    _check_correction(correction)
    cats = _split(categories)
    if base_url:
        raise InputError(
            "probe pairs needs the model's log-probabilities of whole sentences, which an "
            "OpenAI-compatible endpoint does not give here",
            hint="use --model with a local model folder or hub name, or probe qa for endpoints",
        )
    _, pairs = load_pairs(suite, cats)
    gen = _generator(model, None, None, 1, 60.0)
    res = _with_progress(
        len(pairs),
        json_out,
        lambda cb: probe_stereotype_pairs(
            gen, suite=suite, categories=cats, correction=correction, alpha=alpha, on_progress=cb
        ),
    )
    if not json_out:
        from rich.table import Table

        t = Table("category", "pairs", "ties", "stereotype preferred", "95% CI", "p_adj", "sig")
        for c in [*res.categories, res.overall]:
            t.add_row(
                c.category,
                str(c.pairs),
                str(c.ties),
                f"{c.share:.3f}" if c.pairs else "",
                f"{c.low:.3f}-{c.high:.3f}" if c.pairs else "",
                "" if c.p_adjusted is None else f"{c.p_adjusted:.3g}",
                "yes" if c.significant else "",
            )
        console.print(f"[bold]{res.model}[/]: suite {res.suite}")
        console.print(t)
        _verdict_lines(res)
    _finish(res, report, json_out)
