"""The publication's sentences in Dutch, written once for the page, the workbook and the manifest."""

from __future__ import annotations

import os

from vt_warehouse.kalender import Release, releases
from vt_warehouse.publish.cells import TOTAAL, periode_label
from vt_warehouse.publish.sources import CBS, TRENDBREUK, Halfjaar

BRON_ENV = "VT_PUBLICATIE_BRON"
DEFAULT_BRON = "Bron: Beleidsinformatie Veilig Thuis, microdata release {release}."
OVERDRACHTEN_NOOT = (
    "Overdrachten worden per persoon geteld: een casus met meer betrokkenen kan meer overdrachten "
    "hebben. Geteld zijn de overdrachten van casussen die in het halfjaar zijn afgesloten."
)
STATUS_ZIN = {
    "voorlopig": "Voorlopige cijfers",
    "nader voorlopig": "Nader voorlopige cijfers",
    "definitief": "Definitieve cijfers",
}


def bron_line(release: str, text: str | None = None) -> str:
    """The source line under every table: `text` (or $VT_PUBLICATIE_BRON), where {release} names the release;
    by default the line the publication always had."""
    template = text or os.environ.get(BRON_ENV) or DEFAULT_BRON
    return template.replace("{release}", release)


def titel(release: Release) -> str:
    if len(release.perioden) == 1:
        return f"Beleidsinformatie Veilig Thuis, {periode_label(release.perioden[0], release.mark)}"
    return f"Beleidsinformatie Veilig Thuis, {release.jaar}{release.mark}"


MAANDEN = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)


def ondertitel(release: Release) -> str:
    d = release.peildatum
    return (
        f"{STATUS_ZIN[release.status]}, uit de microdata release {release.name} (peildatum {d.day} "
        f"{MAANDEN[d.month - 1]} {d.year})."
    )


def bron_reeks(pub) -> str:
    """The source line under the series: the publication's, and CBS for the half-years from its tables."""
    cbs = [periode_label(h.periode, "") for h in pub.reeks if not isinstance(h, str) and h.bron == CBS]
    return pub.bron + (f" {', '.join(cbs)}: CBS, Beleidsinformatie Veilig Thuis." if cbs else "")


def geheimhouding(suppress: int) -> str:
    if not suppress:
        return "Er zijn geen cellen onderdrukt."
    return (
        f"Een aantal kleiner dan {suppress} is geheim (x), net als een percentage waarvan de noemer kleiner is "
        f"dan {suppress}. Waar een kolom dan maar één geheime regio zou hebben, is ook de kleinste andere regio "
        "geheim gemaakt, zodat geen geheime cel uit het totaal van Nederland is terug te rekenen."
    )


def datum(d) -> str:
    return f"{d.day} {MAANDEN[d.month - 1]} {d.year}"


def niet_gepubliceerd(release: Release, periode: str) -> str:
    """Why a half-year of `release`'s series has no figures (`.`): no release with it existed by this release's
    peildatum, or those that did were not frozen in this warehouse."""
    covering = [r for r in releases(int(periode[:4]), int(periode[:4]) + 1) if periode in r.perioden]
    earlier = [r for r in covering if r.peildatum <= release.peildatum]
    label = periode_label(periode, "")
    if not earlier:
        first = min(covering, key=lambda r: r.peildatum, default=None)
        later = (
            f"; de eerste release met dit halfjaar, {first.name}, heeft peildatum {datum(first.peildatum)}"
            if first
            else ""
        )
        return (
            f"{label}: gegevens ontbreken (.): op de peildatum van deze release ({datum(release.peildatum)}) "
            f"bestond nog geen release met dit halfjaar{later}."
        )
    names = ", ".join(r.name for r in earlier)
    return (
        f"{label}: gegevens ontbreken (.): geen release met dit halfjaar van vóór de peildatum van deze "
        f"release ({names}) is vastgesteld (bevroren); er waren geen leveringen of de release is niet gemaakt."
    )


def volledigheid(h: Halfjaar) -> str | None:
    """A sentence on the organisations that did not deliver for the half-year, or None: all did."""
    if h.volledig:
        return None
    n = len([vt for vt, _ in h.regios if vt != TOTAAL])
    label = periode_label(h.periode, h.mark)
    if len(h.ontbrekend) == n:
        return (
            f"{label}: geen van de {n} Veilig Thuis-organisaties heeft op de peildatum gegevens over dit "
            "halfjaar geleverd; alle cijfers van dit halfjaar ontbreken (.)."
        )
    names = ", ".join(f"{vt} {naam}" for vt, naam in h.ontbrekend)
    regio = "deze regio" if len(h.ontbrekend) == 1 else "deze regio's"
    return (
        f"{label}: {n - len(h.ontbrekend)} van de {n} Veilig Thuis-organisaties hebben gegevens geleverd; "
        f"ontbrekend: {names}. De cijfers van {regio} "
        "en van Nederland ontbreken (.); Nederland is geen "
        "optelling van de regio's die wel leverden."
    )


def volledigheden(pub) -> list[str]:
    """Per half-year of the series (the publication's own half-years are in it) from a release whose deliveries
    are not complete, the sentence of `volledigheid`."""
    return [zin for h in pub.reeks if not isinstance(h, str) and (zin := volledigheid(h)) is not None]


def bronnen(pub) -> list[str]:
    """Per half-year of the series, where its figures come from."""
    out = []
    for h in pub.reeks:
        if isinstance(h, str):
            out.append(niet_gepubliceerd(pub.release, h))
        elif h.bron == CBS:
            out.append(
                f"{periode_label(h.periode, h.mark)}: CBS, Beleidsinformatie Veilig Thuis (de gepubliceerde "
                "tabel kerncijfers per Veilig Thuis-regio; zonder indicatoren)."
            )
        else:
            out.append(f"{periode_label(h.periode, h.mark)}: microdata release {h.bron} ({h.status}).")
    return out


def trendbreuk_redenen(breuk) -> list[str]:
    """What breaks the series before a half-year, in Dutch: the change of source, and each definition change."""
    bron = (
        [
            f"tot en met het {periode_label(breuk.voor, '')} komen de cijfers uit de door het CBS gepubliceerde "
            "tabellen, daarna uit de microdata van de Veilig Thuis-organisaties (elk halfjaar geteld uit de eigen "
            "levering, na gaafmaken)"
        ]
        if breuk.bron
        else []
    )
    return [*bron, *breuk.definities]


def trendbreuk_noten(pub) -> list[str]:
    """The note of every trendbreuk in the series, marked as the half-year after it is (²)."""
    return [
        f"{TRENDBREUK} Trendbreuk tussen het {periode_label(breuk.voor, '')} en het {periode_label(na, '')}: "
        + "; ".join(trendbreuk_redenen(breuk))
        + ". De cijfers voor en na de breuk zijn niet zonder meer "
        "vergelijkbaar."
        for na, breuk in pub.breuken.items()
    ]


def inlezen(release: str) -> list[tuple[str, str]]:
    """How pandas and Polars read the publication's tidy CSVs with their types (the CSVW beside each file)."""
    from vt_warehouse.publish.tidy import read_lines

    return read_lines(f"cijfers_{release}.csv")
