select
    CustomerId as customer_id,
    FirstName as first_name,
    LastName as last_name,
    Country as country,
    Email as email,
    SupportRepId as support_rep_id
from {{ ref('raw_customers') }}
