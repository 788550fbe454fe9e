from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from apps.accounts.models import User
from apps.roi.models import Booking

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

    @classmethod
    def _create(cls, model_class: type[Booking], *args: object, **kwargs: object) -> Booking:
        # Like every booking write, keep the daily rollup the report reads.
        from apps.roi.rollups import booking_write

        user = kwargs["user"]
        with booking_write(user_id=user.pk) as touched:  # type: ignore[attr-defined]
            booking = super()._create(model_class, *args, **kwargs)
            touched.add(booking.date)
        return booking


class ROISettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "roi.ROISettings"

    user = factory.SubFactory(UserFactory)
    telephony_sek = Decimal(0)
    sms_sek = Decimal(0)
    email_sek = Decimal(0)
    support_sek = Decimal(0)
    integration_cost_sek = Decimal(0)
    integration_start = None


class LedgerRowFactory(factory.django.DjangoModelFactory):
    """A finished, priced ledger row; pass ``cost_sek=None`` (and ``cost_usd=None``) for an unpriced one."""

    class Meta:
        model = "usage.AIUsageLog"

    user = factory.SubFactory(UserFactory)
    provider = "openrouter"
    model = "openai/gpt-4o-mini"
    use_case = "chat"
    status = "success"
    prompt_tokens = 10
    completion_tokens = 5
    total_tokens = 15
    fx_rate = Decimal("10.000000")
    cost_usd = factory.LazyAttribute(lambda o: None if o.cost_sek is None else o.cost_sek / o.fx_rate)
    cost_sek = Decimal("1.00")
    cost_source = factory.LazyAttribute(lambda o: "unpriced" if o.cost_sek is None else "provider_reported")
    created_at = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
