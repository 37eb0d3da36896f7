with source as (

    select * from {{ ref('raw_order_lines') }}

),

renamed as (

    select
        OrderID as order_id,
        ProductID as product_id,
        UnitPrice as unit_price,
        Quantity as quantity,
        Discount as discount,
        {{ to_amount('UnitPrice * Quantity * (1 - Discount)') }} as line_amount

    from source

)

select * from renamed
