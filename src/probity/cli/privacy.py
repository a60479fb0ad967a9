"""``probity audit privacy``: membership-inference audit of a trained classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from probity.cli._groups import audit_app
from probity.cli._output import JSON_HELP, console, err_console, print_json
from probity.errors import InputError, ModelError


def load_model_file(path: Path) -> Any:
    """Load a classifier: a SISA model directory, a pickle/joblib file (.pkl, .pickle,
    .joblib) or a whole torch module saved with ``torch.save`` (.pt, .pth).

    Pickles run code when loaded: only audit model files you trust.
    """
    if path.is_dir():
        from probity.unlearning import SISAModel

        return SISAModel.open(path)
    if not path.exists():
        raise InputError(f"model file not found: {str(path)!r}")
    suffix = path.suffix.lower()
    try:
        if suffix in (".pt", ".pth"):
            import torch

            return torch.load(path, weights_only=False, map_location="cpu")
        if suffix in (".pkl", ".pickle", ".joblib"):
            import joblib

            return joblib.load(path)
    except Exception as exc:  # unpickling fails in many ways
        raise ModelError(f"cannot load model {str(path)!r}: {type(exc).__name__}: {exc}") from exc
    raise InputError(
        f"model {str(path)!r}: unknown format {suffix!r}; use .pkl/.joblib "
        "(scikit-learn style), .pt (torch module) or a SISA model directory"
    )


@audit_app.command("privacy")
def privacy(
    model: Annotated[
        Path,
        typer.Option(
            "--model",
            "-m",
            help="Trained classifier: .pkl/.joblib "
            "(needs predict_proba), .pt torch module, or a SISA "
            "model directory. Only load files you trust.",
        ),
    ],
    members: Annotated[
        Path,
        typer.Option(
            "--members", help="Table of records the model was trained on (CSV/TSV/Parquet/JSONL)."
        ),
    ],
    nonmembers: Annotated[
        Path,
        typer.Option(
            "--nonmembers",
            help="Table of records from the same distribution it was NOT trained on.",
        ),
    ],
    attack: Annotated[
        str,
        typer.Option("--attack", "-a", help="loss | confidence | shadow | lira | lira-offline."),
    ] = "loss",
    label: Annotated[str, typer.Option("--label", help="Label column.")] = "label",
    id_col: Annotated[
        str | None, typer.Option("--id", help="Id column, used to name the most exposed records.")
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option("--population", help="Extra records to train shadow/reference models on."),
    ] = None,
    n_reference: Annotated[
        int,
        typer.Option("--n-reference", help="Shadow or reference models to train (shadow, lira)."),
    ] = 16,
    n_jobs: Annotated[int, typer.Option("--n-jobs", help="Processes for reference models.")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write an HTML report with a log-scale ROC plot here."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Membership-inference audit: how well can an attacker tell training records apart?

    Reports AUC, TPR at 1%, 0.1% and 0% FPR, the most exposed records and an empirical
    epsilon lower bound.
    """
    from probity.privacy import ATTACKS, membership_audit
    from probity.unlearning.config import load_xy

    if attack not in ATTACKS:
        raise InputError(f"unknown attack {attack!r}; choose one of {list(ATTACKS)}")
    est = load_model_file(model)
    Xm, ym, ids_m, feats = load_xy(members, label, id_col)
    Xn, yn, _, _ = load_xy(nonmembers, label, id_col, feats)
    pop = None
    if population is not None:
        Xp, yp, _, _ = load_xy(population, label, id_col, feats)
        pop = (Xp, yp)
    make = None
    if (
        attack in ("shadow", "lira", "lira-offline")
        and hasattr(est, "state")
        and hasattr(est, "forget")
    ):
        raise InputError(
            f"the {attack} attack retrains the model, which is not supported for a SISA directory",
            hint="use --attack loss or confidence",
        )
    with err_console.status(f"running the {attack} attack"):
        res = membership_audit(
            est,
            (Xm, ym),
            (Xn, yn),
            attack=attack,
            make_model=make,
            population=pop,
            n_reference=n_reference,
            member_ids=ids_m,
            n_jobs=n_jobs,
            seed=seed,
        )
    if report is not None:
        from probity.report import Report

        rep = Report(
            "Privacy audit",
            subtitle=f"{model.name}: {attack} attack, "
            f"{res.n_members} members vs {res.n_nonmembers} non-members",
        )
        res.add_to_report(rep)
        rep.write(report)
    if json_out:
        print_json(res)
        return
    from rich.table import Table

    t = Table("metric", "value", title=f"{attack} attack on {model.name}")
    t.add_row("AUC", f"{res.auc:.4f}")
    for k, v in res.tpr_at_fpr.items():
        t.add_row(f"TPR at {k} FPR", f"{v:.4f}")
    t.add_row("empirical epsilon (95% lower bound)", f"{res.epsilon['epsilon_lb']:.3f}")
    t.add_row("members / non-members", f"{res.n_members} / {res.n_nonmembers}")
    console.print(t)
    if res.exposed:
        console.print(
            "most exposed: "
            + ", ".join(
                f"{e['id']} (above {e['above_nonmembers']:.0%} of non-members)"
                for e in res.exposed[:5]
            )
        )
    if report is not None:
        console.print(f"report written to {report}")
