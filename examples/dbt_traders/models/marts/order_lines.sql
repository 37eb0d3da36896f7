with order_lines as (

    select * from {{ ref('stg_order_lines') }}

),

orders as (

    select * from {{ ref('orders') }}

)

select
    order_lines.*,
    orders.customer_id,
    orders.ordered_on

from order_lines

inner join orders using (order_id)
