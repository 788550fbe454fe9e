from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.db import transaction

from apps.accounts.models import User
from apps.roi.models import Booking
from apps.usage.models import AIUsageLog
from apps.usage.rollups import ledger_facts, rollup_apply

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password(PASSWORD)


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    user = factory.SubFactory(UserFactory)
    date = dt.date(2026, 11, 1)
    value_sek = Decimal("1250.00")
    external_id = factory.Sequence(lambda n: f"ext-{n}")


class UsageLogFactory(factory.django.DjangoModelFactory):
    """A finished ledger row written the way the usage services write one: with its rollup."""

    class Meta:
        model = AIUsageLog

    user = factory.SubFactory(UserFactory)
    provider = "openrouter"
    model = "openai/gpt-4o-mini"
    use_case = "chat"
    status = "success"
    prompt_tokens = 80
    completion_tokens = 20
    total_tokens = 100
    cost_usd = Decimal("0.001")
    cost_sek = factory.LazyAttribute(lambda o: None if o.cost_usd is None else o.cost_usd * 10)
    fx_rate = Decimal(10)
    cost_source = factory.LazyAttribute(lambda o: "unpriced" if o.cost_usd is None else "provider_reported")
    latency_ms = 250

    @classmethod
    def _create(cls, model_class: type[AIUsageLog], *args: object, **kwargs: object) -> AIUsageLog:
        with transaction.atomic():
            row = super()._create(model_class, *args, **kwargs)
            rollup_apply(before=None, after=ledger_facts(row))
        return row
