with source as (

    select * from {{ ref('raw_orders') }}

),

renamed as (

    select
        OrderID as order_id,
        CustomerID as customer_id,
        EmployeeID as employee_id,
        OrderDate as ordered_on,
        ShippedDate as shipped_on,
        ShipVia as shipper_id,
        {{ to_amount('Freight') }} as freight,
        ShipCountry as ship_country,
        case
            when ShippedDate is null then '{{ var("unshipped_status") }}'
            else 'shipped'
        end as status

    from source

)

select * from renamed
