"""`fupin targets`: the notice's targets and the 2019 baselines entered; `fupin targets set` enters one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.errors import UsageError

console = Console(soft_wrap=True)
targets_app = typer.Typer(
    name="targets",
    help="The notice's targets and their 2019 baselines (config/targets.yaml); `fupin targets set` enters one.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _config_dir():
    from config import CONFIG_DIR
    from core.settings import Settings

    return Settings.from_env().config_dir or CONFIG_DIR


@targets_app.callback()
def targets(ctx: typer.Context) -> None:
    """List each target, its indicators and the 2019 baseline entered for each (待录入 where none is)."""
    if ctx.invoked_subcommand is not None:
        return
    from config import load_config

    cfg = load_config(_config_dir())
    table = Table("target", "目标", "concept", "指标", "2019年基数 / target", title=str(_config_dir() / "targets.yaml"))
    for t in cfg.targets:
        for concept in t.concepts:
            name = cfg.concepts[concept][0].indicator if concept in cfg.concepts else concept
            if t.kind == "at_least":
                figure = f"{t.year}年目标 {t.target:g}{t.measure_unit or ''}"
            else:
                base = t.baseline_2019.get(concept)
                figure = f"{base:g}" if base is not None else "待录入"
            table.add_row(t.code, t.name, concept, name, figure)
    console.print(table)


@targets_app.command("set")
def set_baseline(
    target: Annotated[str, typer.Argument(help="Target code, e.g. employment_vs_2019 (see `fupin targets`).")],
    concept: Annotated[str, typer.Argument(help="Indicator concept of that target, e.g. poor_employed_in_beijing.")],
    value: Annotated[str, typer.Argument(help="2019's actual city-wide figure, in the indicator's unit (人, 亿元).")],
) -> None:
    """Enter 2019's actual figure for one indicator of a target, e.g.
    `fupin targets set employment_vs_2019 poor_employed_in_beijing 186374`; the YAML file keeps its comments and
    is replaced at once. The next publication shows the progress against it. Exit 2 on an unknown target or
    concept or a value that is not a number >= 0."""
    from config.targets_file import TargetEditError, write_baseline

    try:
        figure = float(value.replace(",", ""))
    except ValueError:
        raise UsageError(f"基数须为数字 / the baseline must be a number, not {value!r}") from None
    try:
        path = write_baseline(_config_dir(), target, concept, figure)
    except TargetEditError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"{target} {concept}: 2019年基数 {figure:g} → {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app)
