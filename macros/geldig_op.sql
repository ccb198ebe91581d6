{#-
    Whether a row of int_leveringen_vervangen (alias `leveringen`) is the valid delivery of its organisation
    and half-year on day `peildatum` (a date expression). Python asks the same through
    vt_warehouse.transform.exposures.VALID_ON.
-#}
{% macro geldig_op(leveringen, peildatum) -%}
    ({{ leveringen }}.geldig_van <= {{ peildatum }}
    and ({{ leveringen }}.geldig_tot is null or {{ peildatum }} < {{ leveringen }}.geldig_tot))
{%- endmacro %}
