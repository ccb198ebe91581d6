"""dbt-duckdb plugin: what dbt's SQL needs from the Python package, on every dbt connection.

- The HMAC key pads as session variables, which `macros/coded_id.sql` reads with getvariable(); values set this
  way live only in the session, so the key is in no compiled SQL file, log or database. Without a usable key
  the pads are null and `vt_sleutel_fout` says why; the same for the release key, whose pads
  (`vt_release_ipad`, `vt_release_opad`) code identificatienummer_persoon (macros/person_id.sql). The guard
  (macros/guard_release.sql) stops a release build with that message before any model is built.
- `vt_release_kalender(name)`: the calendar's release as JSON (half-years, peildatum) or {"fout": why}, so the
  guard reads the one home of the calendar rule (vt_warehouse/kalender.py) instead of a copy in Jinja.
- `vt_referentie_ontbreekt(what, gaps)`: the message for years without reference data (loaders/referentie.py).
- `vt_versies()`: the versions of the package and its stack, for the build record (macros/record_build.sql).
- `vt_layout()`: the delivery layout (every version, as the raw tables hold it) as JSON, so the models read each
  field's type, width and code list from its one home (loaders/data/layout.csv through loaders/layout.py) at
  compile time (macros/layout_velden.sql).
- `vt_maten(tabel)`: the published measures of a table (kerncijfers, indicatoren) with the counts they are made of
  and whether the teller is a subset of the noemer, as JSON, from their one home (loaders/data/publicatie_maten.csv
  through vt_warehouse/publish/measures.py): the kerncijfers model's columns and the indicatoren model's numerators
  and denominators.
"""

from __future__ import annotations

import json
from importlib import metadata

from dbt.adapters.duckdb.plugins import BasePlugin

from loaders import referentie
from loaders.layout import layouts
from loaders.pseudonym import (
    KEY_ENV,
    MIN_KEY_LENGTH,
    PSEUDONYM,
    RELEASE,
    PseudonymKeyError,
    check_fingerprints,
    hmac_pads,
    key_path,
    release_key,
    resolve_key,
)
from loaders.warehouse import Warehouse
from vt_warehouse import kalender
from vt_warehouse.publish.measures import maten

PACKAGES = ("vt-warehouse", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations")


def release_json(name: str) -> str:
    try:
        r = kalender.get_release(name)
    except kalender.CalendarError as exc:
        return json.dumps({"fout": str(exc)})
    return json.dumps(
        {
            "release": r.name,
            "perioden": list(r.perioden),
            "peildatum": r.peildatum.isoformat(),
            "jaren": sorted(r.jaren),
            "status": r.status,
        }
    )


def reference_message(what: str, gaps: str) -> str:
    """gaps: JSON {year: [missing list names]}."""
    return referentie.missing_message(what, {int(k): v for k, v in json.loads(gaps).items()})


def layout_json() -> str:
    """{recordtype: [{veld, type, lengte, codelijst, code_check, in_alle_versies}, ...]} in field order."""
    all_layouts = layouts()
    out = {}
    for code, rt in all_layouts.raw.record_types.items():
        out[code] = [
            {
                "veld": f.name,
                "type": f.type,
                "lengte": f.length,
                "codelijst": f.codelijst,
                "code_check": f.code_check,
                "in_alle_versies": len(all_layouts.versions_with(code, f.name)) == len(all_layouts.versions),
            }
            for f in rt.fields
        ]
    return json.dumps(out)


def maten_json(tabel: str) -> str:
    """[{maat, teller, noemer, aandeel}, ...] of a publication table, in publication order."""
    return json.dumps(
        [
            {"maat": m.naam, "teller": m.teller, "noemer": m.noemer, "aandeel": m.is_aandeel}
            for m in maten()
            if m.tabel == tabel
        ]
    )


def versions() -> str:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return json.dumps(out)


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        home = self._home = Warehouse.from_env().home
        self._pads, self._release_pads, self._key_error = (None, None), (None, None), None
        self._keys: dict[str, bytes] = {}
        self._fingerprints: dict[str, str] | None = None  # checked against the warehouse's on first connection
        try:
            key = resolve_key(home)
        except PseudonymKeyError as exc:
            self._key_error = f"the pseudonymisation key cannot be used: {exc}"
            return
        if key is None:
            self._key_error = (
                f"no pseudonymisation key: set {KEY_ENV} (at least {MIN_KEY_LENGTH} characters) or "
                f"write it to {key_path(home)} (mode 600); the coded identificatienummers need it"
            )
            return
        self._pads = hmac_pads(key)
        try:
            rkey = release_key(home)
        except PseudonymKeyError as exc:
            self._key_error = str(exc)
            return
        self._release_pads = hmac_pads(rkey)
        self._keys = {PSEUDONYM: key, RELEASE: rkey}

    def _set(self, con) -> None:
        for name, (ipad, opad) in (("hmac", self._pads), ("release", self._release_pads)):
            con.execute(f"set variable vt_{name}_ipad = ?", [ipad])
            con.execute(f"set variable vt_{name}_opad = ?", [opad])
        con.execute("set variable vt_sleutel_fout = ?", [self._key_error])
        con.execute("set variable vt_sleutels = ?", [json.dumps(self._fingerprints or {}, sort_keys=True)])

    def _check_keys(self, con) -> None:
        """Once per run: the keys against the fingerprints the warehouse recorded (recording them on first use).
        Another key is a key error: the guard stops every release build with its message."""
        if self._fingerprints is not None or not self._keys:
            return
        try:
            self._fingerprints = check_fingerprints(con, self._keys, self._home)
        except PseudonymKeyError as exc:
            self._fingerprints, self._key_error = {}, str(exc)

    def configure_connection(self, conn):
        self._check_keys(conn)
        self._set(conn)
        conn.create_function("vt_release_kalender", release_json, ["VARCHAR"], "VARCHAR", side_effects=False)
        conn.create_function(
            "vt_referentie_ontbreekt", reference_message, ["VARCHAR", "VARCHAR"], "VARCHAR", side_effects=False
        )
        conn.create_function("vt_versies", versions, [], "VARCHAR", side_effects=False)
        conn.create_function("vt_layout", layout_json, [], "VARCHAR", side_effects=False)
        conn.create_function("vt_maten", maten_json, ["VARCHAR"], "VARCHAR", side_effects=False)
        conn.create_function("vt_bevroren", self.frozen, ["VARCHAR"], "VARCHAR", side_effects=True)

    def frozen(self, name: str) -> str:
        """Why the release is not built again (it is frozen), or '': the guard stops plain dbt with it."""
        from vt_warehouse.release import frozen_message

        return frozen_message(self._home, name) or ""

    def configure_cursor(self, cursor):
        self._set(cursor)
        return cursor
