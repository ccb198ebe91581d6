"""The publication's sentences in Dutch, written once for the page, the workbook and the manifest."""

from __future__ import annotations

import os

from loaders.kalender import Release
from loaders.publish.cells import periode_label
from loaders.publish.sources import CBS

BRON_ENV = "VT_PUBLICATIE_BRON"
DEFAULT_BRON = "Bron: Beleidsinformatie Veilig Thuis, microdata release {release}."
OVERDRACHTEN_NOOT = ("Overdrachten worden per persoon geteld: een casus met meer betrokkenen kan meer overdrachten "
                     "hebben. Geteld zijn de overdrachten van casussen die in het halfjaar zijn afgesloten.")
STATUS_ZIN = {"voorlopig": "Voorlopige cijfers", "nader voorlopig": "Nader voorlopige cijfers",
              "definitief": "Definitieve cijfers"}


def bron_line(release: str, text: str | None = None) -> str:
    """The source line under every table: `text` (or $VT_PUBLICATIE_BRON), where {release} names the release;
    by default the line the publication always had."""
    template = text or os.environ.get(BRON_ENV) or DEFAULT_BRON
    return template.replace("{release}", release)


def titel(release: Release) -> str:
    if len(release.perioden) == 1:
        return f"Beleidsinformatie Veilig Thuis, {periode_label(release.perioden[0], release.mark)}"
    return f"Beleidsinformatie Veilig Thuis, {release.jaar}{release.mark}"


MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")


def ondertitel(release: Release) -> str:
    d = release.peildatum
    return (f"{STATUS_ZIN[release.status]}, uit de microdata release {release.name} (peildatum {d.day} "
            f"{MAANDEN[d.month - 1]} {d.year}).")


def bron_reeks(pub) -> str:
    """The source line under the series: the publication's, and CBS for the half-years from its tables."""
    cbs = [periode_label(h.periode, "") for h in pub.reeks if not isinstance(h, str) and h.bron == CBS]
    return pub.bron + (f" {', '.join(cbs)}: CBS, Beleidsinformatie Veilig Thuis." if cbs else "")


def geheimhouding(suppress: int) -> str:
    if not suppress:
        return "Er zijn geen cellen onderdrukt."
    return (f"Een aantal kleiner dan {suppress} is geheim (x), net als een percentage waarvan de noemer kleiner is "
            f"dan {suppress}. Waar een kolom dan maar één geheime regio zou hebben, is ook de kleinste andere regio "
            "geheim gemaakt, zodat geen geheime cel uit het totaal van Nederland is terug te rekenen.")


def bronnen(pub) -> list[str]:
    """Per half-year of the series, where its figures come from."""
    out = []
    for h in pub.reeks:
        if isinstance(h, str):
            out.append(f"{periode_label(h, '')}: geen vastgestelde release; gegevens ontbreken (.).")
        elif h.bron == CBS:
            out.append(f"{periode_label(h.periode, h.mark)}: CBS, Beleidsinformatie Veilig Thuis (de gepubliceerde "
                       "tabel kerncijfers per Veilig Thuis-regio; zonder indicatoren).")
        else:
            out.append(f"{periode_label(h.periode, h.mark)}: microdata release {h.bron} ({h.status}).")
    return out
