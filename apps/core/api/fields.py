"""Request fields whose documented schema is exactly what they accept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from apps.core.periods import ISO_DAY, MAX_DATE, MIN_DATE

# A calendar day of 2000..2099 as YYYY-MM-DD (with ``format: date`` ruling out days such as
# 2001-02-29 and 2000-04-31, which the pattern alone would let through).
DAY_PATTERN = r"^20[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])$"


def day_parse(value: Any) -> dt.date:
    """``value`` as a day of ``MIN_DATE``..``MAX_DATE``; raises ``serializers.ValidationError``.

    Only YYYY-MM-DD: Python's ISO parser would also take 20260101 and 2026-W01-1."""
    if isinstance(value, dt.datetime):
        raise serializers.ValidationError(_("Give a date, not a time."))
    if isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        try:
            if not ISO_DAY.fullmatch(text):
                raise ValueError(text)
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise serializers.ValidationError(_("Enter a valid date (YYYY-MM-DD).")) from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise serializers.ValidationError(
            _("Dates must lie between %(min)s and %(max)s.")
            % {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
        )
    return day


class DayField(serializers.DateField):
    """A UTC day, YYYY-MM-DD, between 2000-01-01 and 2099-12-31 (outside is a 400 saying so).

    Request schemas carry ``request_pattern`` (apps.core.api.schema.AutoSchema adds it)."""

    request_pattern = DAY_PATTERN

    def to_internal_value(self, value: Any) -> dt.date:
        return day_parse(value)
