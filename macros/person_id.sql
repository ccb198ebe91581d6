{#-
    identificatienummer_persoon = HMAC-SHA256(release key, bsn_pseudoniem), 64 hex, for a valid BSN only (NULL for
    onbekend, ongeboren and ongeldig: an invalid BSN is no reliable identity). The release key is separate from
    the pseudonymisation key (loaders/pseudonym.py), so a release does not reveal the warehouse's pseudonyms; its
    pads are session variables set by the dbt-duckdb plugin vt_warehouse.transform.plugin, like coded_id's.
-#}
{% macro person_id(pseudoniem, status) -%}
    case when {{ status }} = 'geldig' then sha256(
        getvariable('vt_release_opad')
        || unhex(sha256(getvariable('vt_release_ipad') || ({{ pseudoniem }})::blob))
    ) end
{%- endmacro %}
