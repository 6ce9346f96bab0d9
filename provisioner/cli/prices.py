"""`provision prices update`: refresh the price table of plan cost estimates from the Azure Retail Prices API."""
from __future__ import annotations

import re
from pathlib import Path

import typer

from provisioner.errors import ExitCode
from provisioner.workspace import UPDATED_PRICES, update_prices

prices_app = typer.Typer(name="prices", help="The price table behind the cost estimate of plans.",
                         no_args_is_help=True)
REGION = re.compile(r"^[a-z0-9]+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def register(app: typer.Typer) -> None:
    app.add_typer(prices_app, name="prices")


@prices_app.command("update")
def update(
    out: Path = typer.Option(UPDATED_PRICES, "--out", dir_okay=False, metavar="FILE",
                             help="Where to write the table; plans read .provision/prices.json beside the spec."),
    region: str = typer.Option("eastus2", "--region", help="The region whose data zone and regional prices "
                                                           "to read (global prices are the same everywhere)."),
    currency: str = typer.Option("USD", "--currency", help="Three-letter currency code, e.g. USD or EUR."),
    emulator: bool = typer.Option(False, "--emulator", help="Ask the embedded emulator instead of Azure."),
) -> int:
    """Read current list prices from the Azure Retail Prices API (public, no sign-in) into a price table."""
    if not REGION.match(region):
        raise typer.BadParameter("a region name such as eastus2 (lowercase letters and digits)",
                                 param_hint="--region")
    if not CURRENCY.match(currency):
        raise typer.BadParameter("a three-letter currency code such as USD", param_hint="--currency")
    update = update_prices(out, region=region, currency=currency, emulator=emulator)
    typer.echo(f"Wrote {out}: {update.found} prices for {region} in {currency} from {update.read} meters.")
    if update.missing:
        typer.echo(f"{len(update.missing)} price(s) not listed for {region}, left out (plans show 'no price'):")
        for line in update.missing:
            typer.echo(f"  {line}")
    return ExitCode.OK
