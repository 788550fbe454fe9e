from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import factory
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import APIToken, User
from apps.accounts.tokens import token_digest, token_generate
from apps.ai_gateway.models import IdempotencyRecord
from apps.core.models import FxRate
from apps.integrations.models import AISettings, Budget, CreditSnapshot
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

    @classmethod
    def _create(cls, model_class: type[Booking], *args: object, **kwargs: object) -> Booking:
        # Like every booking write, keep the daily rollup the report reads.
        from apps.roi.rollups import booking_write

        user = kwargs["user"]
        with booking_write(user_id=user.pk) as touched:  # type: ignore[attr-defined]
            booking = super()._create(model_class, *args, **kwargs)
            touched.add(booking.date)
        return booking


class AISettingsFactory(factory.django.DjangoModelFactory):
    """A tenant's AI settings as the AI tab stores them: keys set in plaintext on the model's
    encrypted fields (ciphertext at rest on save) and only their last 4 characters kept in clear."""

    class Meta:
        model = AISettings

    user = factory.SubFactory(UserFactory)
    openrouter_api_key = factory.Sequence(lambda n: f"sk-or-v1-{n:064x}")
    api_key_last4 = factory.LazyAttribute(lambda o: o.openrouter_api_key[-4:])
    openrouter_management_key = ""
    management_key_last4 = factory.LazyAttribute(lambda o: o.openrouter_management_key[-4:])


class APITokenFactory(factory.django.DjangoModelFactory):
    """A partner API token stored as the service stores it (prefix and SHA-256 digest only); the
    raw token the test sends is on the returned row as ``.plaintext``."""

    class Meta:
        model = APIToken

    user = factory.SubFactory(UserFactory)
    name = "partner"
    plaintext = factory.LazyFunction(token_generate)
    prefix = factory.LazyAttribute(lambda o: o.plaintext[:10])
    digest = factory.LazyAttribute(lambda o: token_digest(o.plaintext))

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        plaintext = kwargs.pop("plaintext")
        token = super()._create(model_class, *args, **kwargs)
        token.plaintext = plaintext
        return token


class FxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FxRate
        django_get_or_create = ("valid_from",)

    valid_from = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    usd_sek = Decimal("10.500000")


class AIUsageLogFactory(factory.django.DjangoModelFactory):
    """One successful chat call in the ledger. ``cost_sek`` is ``cost_usd`` at ``fx_rate``; a row
    with ``cost_usd=None`` is unpriced (no SEK either). Written the way the usage services write a
    row: with its daily rollup, in one transaction (dashboards and the summary read the rollups)."""

    class Meta:
        model = AIUsageLog

    user = factory.SubFactory(UserFactory)
    provider = "openrouter"
    model = "openai/gpt-4o-mini"
    use_case = "chat"
    status = "success"
    prompt_tokens = 10
    completion_tokens = 5
    total_tokens = factory.LazyAttribute(lambda o: o.prompt_tokens + o.completion_tokens)
    cost_usd = Decimal("0.001")
    fx_rate = Decimal("10.5")
    cost_sek = factory.LazyAttribute(lambda o: None if o.cost_usd is None else o.cost_usd * o.fx_rate)
    cost_source = factory.LazyAttribute(lambda o: "unpriced" if o.cost_usd is None else "provider_reported")
    created_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            row = super()._create(model_class, *args, **kwargs)
            rollup_apply(before=None, after=ledger_facts(row))
        return row


class CreditSnapshotFactory(factory.django.DjangoModelFactory):
    """The remaining balance at one moment; ``minute`` is ``taken_at`` truncated to the minute."""

    class Meta:
        model = CreditSnapshot

    user = factory.SubFactory(UserFactory)
    taken_at = factory.LazyFunction(timezone.now)
    minute = factory.LazyAttribute(lambda o: o.taken_at.replace(second=0, microsecond=0))
    source = "account"
    total_credits = Decimal("100")
    total_usage = Decimal("0")
    remaining = factory.LazyAttribute(lambda o: o.total_credits - o.total_usage)


class IdempotencyRecordFactory(factory.django.DjangoModelFactory):
    """A finished partner request replayed on retries with the same ``Idempotency-Key``."""

    class Meta:
        model = IdempotencyRecord

    user = factory.SubFactory(UserFactory)
    key = factory.Sequence(lambda n: f"idem-{n}")
    fingerprint = "0" * 64
    status_code = 200
    response = factory.LazyFunction(dict)


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


class LedgerRowFactory(AIUsageLogFactory):
    """A finished, priced ledger row given by its SEK cost (with its rollup, like the services write it);
    pass ``cost_sek=None`` for an unpriced one."""

    fx_rate = Decimal("10.000000")
    cost_sek = Decimal("1.00")
    cost_usd = factory.LazyAttribute(lambda o: None if o.cost_sek is None else o.cost_sek / o.fx_rate)
    cost_source = factory.LazyAttribute(lambda o: "unpriced" if o.cost_sek is None else "provider_reported")
    created_at = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


class BudgetFactory(factory.django.DjangoModelFactory):
    """A tenant's monthly budget (``use_case=""``) or one use case's policy; the gateway sees it at
    once in this process (the save signal drops the cached rules)."""

    class Meta:
        model = Budget

    user = factory.SubFactory(UserFactory)
    use_case = ""
    monthly_limit_sek = Decimal("100.00")
    soft_threshold_percent = 80
    policy = "block"
    fallback_model = ""
