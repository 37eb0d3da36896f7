"""A customer table full of personal data, made with Faker in several countries: every row's
name, street, city, state, postal code and phone belong to its country, as in a real CRM
export. Shapes real exports have: an upper-case full name column, phones in each country's
own layout, card numbers stored as 16-digit integers, SSNs, IBANs, IP addresses, a referral
code whose values are mostly rare, and nulls."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

COUNTRIES = {
    "USA": ("en_US", 0.45),
    "United Kingdom": ("en_GB", 0.15),
    "Germany": ("de_DE", 0.12),
    "France": ("fr_FR", 0.1),
    "Brazil": ("pt_BR", 0.1),
    "Canada": ("en_CA", 0.08),
}


@lru_cache(maxsize=4)
def customers(rows: int = 3000, seed: int = 7) -> pd.DataFrame:
    from faker import Faker

    rng = np.random.default_rng(seed)
    names = list(COUNTRIES)
    shares = np.asarray([COUNTRIES[c][1] for c in names])
    fakers = {c: Faker(COUNTRIES[c][0]) for c in names}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + offset)
    us = fakers["USA"]
    records = []
    for i, country in enumerate(rng.choice(names, size=rows, p=shares)):
        faker = fakers[country]
        first, last = faker.first_name(), faker.last_name()
        state = (
            faker.state_abbr()
            if hasattr(faker, "state_abbr") and country in ("USA", "Canada")
            else (faker.state() if country in ("Germany", "Brazil") else None)
        )
        plan = rng.choice(["basic", "plus", "pro"], p=[0.6, 0.3, 0.1])
        records.append(
            {
                "customer_id": 100000 + i,
                "first_name": first,
                "last_name": last,
                "FULL_NAME": f"{first} {last}".upper(),
                "email": f"{first}.{last}{rng.integers(1, 99)}@{faker.free_email_domain()}".lower(),
                "phone": faker.phone_number(),
                "street": faker.street_address().replace("\n", ", "),
                "city": faker.city(),
                "state": state,
                "postal_code": faker.postcode(),
                "country": country,
                "ssn": us.ssn(),
                "card_number": int(us.credit_card_number(card_type="visa16")),
                "iban": faker.iban() if rng.random() < 0.9 else None,
                "ip_address": us.ipv4_public(),
                "company": faker.company() if rng.random() < 0.4 else None,
                "plan": plan,
                "referral_code": (
                    f"REF{rng.integers(0, 5)}" if rng.random() < 0.7 else f"X{rng.integers(0, 10_000):04d}"
                ),
                "signup_date": str(pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(rng.integers(0, 1500))))[:10],
                "monthly_spend": round(float({"basic": 10, "plus": 25, "pro": 60}[plan] * rng.lognormal(0, 0.2)), 2),
            }
        )
    return pd.DataFrame(records)
