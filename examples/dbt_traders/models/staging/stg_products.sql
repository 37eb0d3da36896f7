with source as (

    select * from {{ ref('raw_products') }}

),

renamed as (

    select
        ProductID as product_id,
        ProductName as product_name,
        CategoryID as category_id,
        UnitPrice as list_price,
        Discontinued = 1 as is_discontinued

    from source

)

select * from renamed
