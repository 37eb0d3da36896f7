{% set categories = {
    1: 'beverages', 2: 'condiments', 3: 'confections', 4: 'dairy',
    5: 'grains', 6: 'meat', 7: 'produce', 8: 'seafood'
} %}

with orders as (

    select * from {{ ref('stg_orders') }}

),

order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

products as (

    select * from {{ ref('stg_products') }}

),

lines as (

    select
        order_lines.order_id,
        products.category_id,
        order_lines.line_amount

    from order_lines

    left join products
        on order_lines.product_id = products.product_id

),

order_amounts as (

    select
        order_id,

        {% for category_id, category in categories.items() -%}
        sum(case when category_id = {{ category_id }} then line_amount else 0 end) as {{ category }}_amount,
        {% endfor -%}

        count(*) as line_count,
        sum(line_amount) as total_amount

    from lines

    group by order_id

),

final as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_on,
        orders.shipped_on,
        orders.shipper_id,
        orders.status,

        {% for category in categories.values() -%}
        order_amounts.{{ category }}_amount,
        {% endfor -%}

        order_amounts.line_count,
        order_amounts.total_amount as amount,
        orders.freight

    from orders

    left join order_amounts
        on orders.order_id = order_amounts.order_id

)

select * from final
