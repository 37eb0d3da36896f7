select
    InvoiceId as invoice_id,
    CustomerId as customer_id,
    InvoiceDate as invoiced_at,
    BillingCountry as billing_country,
    Total as total
from {{ ref('raw_invoices') }}
