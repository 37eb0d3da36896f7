with source as (

    select * from {{ ref('raw_customers') }}

),

renamed as (

    select
        CustomerID as customer_id,
        CompanyName as company_name,
        ContactName as contact_name,
        City as city,
        Country as country

    from source

)

select * from renamed
