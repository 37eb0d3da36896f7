{#- Money as two decimals, written the way each warehouse likes it. -#}
{% macro to_amount(expression) -%}
    {{ return(adapter.dispatch('to_amount')(expression)) }}
{%- endmacro %}

{% macro default__to_amount(expression) -%}
    round(cast({{ expression }} as decimal(12, 2)), 2)
{%- endmacro %}

{% macro postgres__to_amount(expression) -%}
    round(({{ expression }})::numeric, 2)
{%- endmacro %}
