"""`vt`: the command line. Thin: every command parses its options and calls the package's functions.

Exit codes: 0 success; 1 bad input (a rejected file); 2 usage or configuration error (click's own, a
missing key, a locked database).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
import duckdb

from loaders import __doc__ as package_doc
from loaders.generate import generate as generate_files
from loaders.layout import default_layout
from loaders.load import GEWEIGERD, load_files
from loaders.periods import periode_range
from loaders.progress import Progress
from loaders.pseudonym import PseudonymKeyError, create_key, key_path, resolve_key
from loaders.warehouse import RAW_SCHEMA, Warehouse

EXIT_REJECTED, EXIT_CONFIG = 1, 2
DEMO_PERIODS = "2020H1"


class ConfigError(click.ClickException):
    exit_code = EXIT_CONFIG


def _periods(_ctx, _param, value: str):
    try:
        return periode_range(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _received_at(_ctx, _param, value: str | None):
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or date-time (2020-07-15T09:30)") from None
    return parsed.replace(tzinfo=None)


@click.group(help=package_doc)
def main() -> None:
    pass


@main.command(help="Load delivery files into the warehouse ($VT_HOME, default ./warehouse). "
              "A directory loads every *.txt in it, in name order.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--received-at", callback=_received_at, metavar="ISO-DATETIME",
              help="When the files were received (ontvangen_op), for back-loading; default: now.")
def load(files: tuple[Path, ...], received_at: datetime | None) -> None:
    results = _load(Warehouse.from_env(), files, received_at)
    if any(r.outcome == GEWEIGERD for r in results):
        sys.exit(EXIT_REJECTED)


def _load(warehouse: Warehouse, files, received_at):
    try:
        results = load_files(files, warehouse, default_layout(), received_at, Progress("loading"))
    except PseudonymKeyError as exc:
        raise ConfigError(str(exc)) from None
    except duckdb.IOException as exc:
        raise ConfigError(f"cannot open the warehouse database {warehouse.database}: {exc}") from None
    for r in results:
        if r.outcome == GEWEIGERD:
            click.echo(r.message, err=True)
        else:
            click.echo(r.message)
    return results


@main.command(help="Generate synthetic deliveries of every Veilig Thuis-organisatie (deterministic for a seed).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
@click.option("--periods", default="2019H1:2023H2", show_default=True, callback=_periods,
              help="A half-year or a range FIRST:LAST.")
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Volume relative to the real national volume.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--defects", default=0.0, show_default=True, type=click.FloatRange(0, 0.5),
              help="Chance per record and kind of defect (impossible dates, unknown codes, orphans, ...).")
def generate(out: Path, periods, scale: float, seed: int, defects: float) -> None:
    files = generate_files(out, periods, scale, seed, defects, progress=Progress("generating"))
    click.echo(f"{len(files)} files, {sum(f.records for f in files)} records written to {out}")


@main.command(help="The main job on embedded defaults: generate a national half-year, load it, report.")
@click.option("--out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where to generate the deliveries (default: $VT_HOME/demo-inbox).")
def demo(out: Path | None) -> None:
    warehouse = Warehouse.from_env()
    warehouse.ensure()
    try:
        if resolve_key(warehouse.home) is None:
            click.echo(f"created a demo pseudonymisation key in {create_key(warehouse.home)}")
    except PseudonymKeyError as exc:
        raise ConfigError(str(exc)) from None
    out = out or warehouse.home / "demo-inbox"
    files = generate_files(out, periode_range(DEMO_PERIODS), progress=Progress("generating"))
    click.echo(f"generated {len(files)} deliveries for {DEMO_PERIODS} in {out}")
    results = _load(warehouse, [out], None)
    with warehouse.connect(read_only=True) as con:
        summary = con.execute(
            f"""select verslagperiode, count(*), sum(aantal_records), sum(aantal_ca), sum(aantal_me),
                       sum(aantal_bt)
                from {RAW_SCHEMA}.leveringen group by 1 order by 1"""
        ).fetchall()
    click.echo(f"warehouse {warehouse.database} (key: {key_path(warehouse.home)}):")
    for periode, n, records, ca, me, bt in summary:
        click.echo(f"  {periode}: {n} deliveries, {records} records ({ca} casussen, {me} meldingen, {bt} betrokkenen)")
    if any(r.outcome == GEWEIGERD for r in results):
        sys.exit(EXIT_REJECTED)


if __name__ == "__main__":
    main()
