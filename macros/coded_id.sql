{#-
    identificatienummer = HMAC-SHA256(key, vt_code || ':' || recordtype || ':' || number), 64 hex.
    The padded keys are session variables set by the dbt-duckdb plugin vt_warehouse.transform.plugin from the key in
    the environment, so the key never appears in compiled SQL, logs or the database.
-#}
{% macro coded_id(vt_code, recordtype, number) -%}
    sha256(
        getvariable('vt_hmac_opad')
        || unhex(sha256(getvariable('vt_hmac_ipad') || ({{ vt_code }} || ':{{ recordtype }}:' || {{ number }})::blob))
    )
{%- endmacro %}
