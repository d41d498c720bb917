"""`flask --app voucher spid refresh-metadata`: the identity providers' metadata, fetched
from SPID_IDP_METADATA_URL and CIE_IDP_METADATA_URL into their folders. Run it at
deployment and then daily (AgID's registry changes when a provider changes its keys)."""

import click
from flask.cli import AppGroup

from .federations import NAMES, federation
from .idps import MetadataError, refresh

spid_cli = AppGroup("spid", help="SPID e CIE: i metadati dei gestori di identità.")


@spid_cli.command("refresh-metadata")
@click.option(
    "--federation",
    "names",
    type=click.Choice(NAMES),
    multiple=True,
    help="Solo SPID o solo CIE (predefinito: entrambi, quelli con un URL configurato).",
)
def refresh_metadata_command(names):
    """Scarica i metadati dei gestori di identità SPID e CIE nelle cartelle configurate."""
    failed = False
    for name in names or NAMES:
        fed = federation(name)
        if not fed.metadata_url and not names:
            click.echo(
                f"{fed.label}: nessun URL configurato, cartella {fed.metadata_dir} invariata"
            )
            continue
        try:
            count = refresh(fed)
        except MetadataError as error:
            click.echo(f"{fed.label}: errore: {error}", err=True)
            failed = True
            continue
        click.echo(f"{fed.label}: {count} gestori in {fed.metadata_dir}")
    if failed:
        raise SystemExit(1)
