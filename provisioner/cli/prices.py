"""`provision prices update`: refresh the price table of plan cost estimates from the Azure Retail Prices API."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

import typer

from provisioner.azure import prices as retail
from provisioner.azure.clients import (
    RETAIL_PRICES_URL,
    Connection,
    emulator_connection,
    emulator_connection_from_env,
    retail_prices_client,
)
from provisioner.errors import ExitCode, ProvisionerError
from provisioner.plan import pricefile

prices_app = typer.Typer(name="prices", help="The price table behind the cost estimate of plans.",
                         no_args_is_help=True)
REGION = re.compile(r"^[a-z0-9]+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def register(app: typer.Typer) -> None:
    app.add_typer(prices_app, name="prices")


@prices_app.command("update")
def update(
    out: Path = typer.Option(pricefile.UPDATED, "--out", dir_okay=False, metavar="FILE",
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
    template = pricefile.shipped()  # names the meter of every price we use
    with _endpoint(emulator) as connection:
        client = retail_prices_client(connection)
        try:
            items = retail.fetch_items(client, region=region, currency=currency)
        finally:
            client.close()
        base = connection.base_url if connection else RETAIL_PRICES_URL
    source = (f"Azure Retail Prices API ({base}{retail.PATH}), serviceName '{retail.SERVICE}', "
              f"armRegionName '{region}', type 'Consumption', currencyCode '{currency}'")
    table, missing = retail.refreshed(template, items, region=region, currency=currency, source=source,
                                      today=date.today().isoformat())
    found = _count_prices(table)
    if not found:
        raise ProvisionerError(f"the Retail Prices API listed none of our meters for {region} in {currency} "
                               f"({len(items)} items read); nothing was written",
                               hint="check --region and --currency")
    pricefile.save(table, out)
    typer.echo(f"Wrote {out}: {found} prices for {region} in {currency} from {len(items)} meters.")
    if missing:
        typer.echo(f"{len(missing)} price(s) not listed for {region}, left out (plans show 'no price'):")
        for line in missing:
            typer.echo(f"  {line}")
    return ExitCode.OK


@contextmanager
def _endpoint(emulator: bool) -> Iterator[Connection | None]:
    """The embedded emulator, an external one (PROVISION_EMULATOR_*), or None: the real API."""
    if emulator:
        from provisioner.emulator import Emulator

        with Emulator() as emu:
            yield emulator_connection(emu.base_url, emu.ca_path, emu.credential)
        return
    yield emulator_connection_from_env()


def _count_prices(table) -> int:
    hourly = sum(1 for price in table.provisioned.values() if price.per_hour is not None)
    tokens = sum(1 for versions in table.models.values() for families in versions.values()
                 for price in families.values() for value in (price.input, price.output) if value is not None)
    return hourly + tokens
