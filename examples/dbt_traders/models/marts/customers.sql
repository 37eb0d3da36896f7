with customers as (

    select * from {{ ref('stg_customers') }}

),

orders as (

    select * from {{ ref('stg_orders') }}

),

customer_orders as (

    select
        customer_id,

        min(ordered_on) as first_ordered_on,
        max(ordered_on) as last_ordered_on,
        count(order_id) as number_of_orders

    from orders

    group by customer_id

),

final as (

    select
        customers.customer_id,
        customers.company_name,
        customers.country,
        customer_orders.first_ordered_on,
        customer_orders.last_ordered_on,
        coalesce(customer_orders.number_of_orders, 0) as number_of_orders

    from customers

    left join customer_orders
        on customers.customer_id = customer_orders.customer_id

)

select * from final
