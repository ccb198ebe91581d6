"""dbt-duckdb plugin: gives every dbt connection the HMAC key pads as session variables.

`macros/coded_id.sql` reads them with getvariable(); values set this way live only in the session, so the
key is in no compiled SQL file, log or database. Without a key the variables are null and every coded
identificatienummer is null, which the not_null tests and contracts refuse; `vt build` checks first.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin

from loaders.pseudonym import hmac_pads, resolve_key
from loaders.warehouse import Warehouse


class Plugin(BasePlugin):
    def initialize(self, plugin_config):
        key = resolve_key(Warehouse.from_env().home)
        self._pads = hmac_pads(key) if key else (None, None)

    def _set(self, con) -> None:
        ipad, opad = self._pads
        con.execute("set variable vt_hmac_ipad = ?", [ipad])
        con.execute("set variable vt_hmac_opad = ?", [opad])

    def configure_connection(self, conn):
        self._set(conn)

    def configure_cursor(self, cursor):
        self._set(cursor)
        return cursor
