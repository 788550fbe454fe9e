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
