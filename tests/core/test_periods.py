import datetime as dt

import pytest

from apps.core.api.periods import PeriodQuerySerializer
from apps.core.periods import Period, PeriodError, Preset, period_from_preset, period_parse

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        (Preset.TODAY, dt.date(2026, 3, 15), dt.date(2026, 3, 15)),
        (Preset.LAST_7_DAYS, dt.date(2026, 3, 9), dt.date(2026, 3, 15)),
        (Preset.LAST_30_DAYS, dt.date(2026, 2, 14), dt.date(2026, 3, 15)),
        (Preset.THIS_MONTH, dt.date(2026, 3, 1), dt.date(2026, 3, 15)),
        (Preset.LAST_MONTH, dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (Preset.THIS_YEAR, dt.date(2026, 1, 1), dt.date(2026, 3, 15)),
    ],
)
def test_presets_name_utc_day_ranges(preset: str, start: dt.date, end: dt.date) -> None:
    assert period_from_preset(preset, today=TODAY) == Period(start, end)


def test_last_month_in_january_is_december_of_the_year_before() -> None:
    assert period_from_preset(Preset.LAST_MONTH, today=dt.date(2026, 1, 5)) == Period(
        dt.date(2025, 12, 1), dt.date(2025, 12, 31)
    )


def test_no_input_gives_the_default_preset() -> None:
    assert period_parse(start=None, end=None, today=TODAY) == Period(dt.date(2026, 3, 1), TODAY)
    assert period_parse(start="", end="", preset="7d", today=TODAY).days == 7


def test_explicit_dates_win_over_a_preset() -> None:
    period = period_parse(start="2026-01-02", end="2026-01-03", preset="today", today=TODAY)
    assert period == Period(dt.date(2026, 1, 2), dt.date(2026, 1, 3))


def test_only_end_starts_on_the_first_of_its_month_and_only_start_ends_today() -> None:
    assert period_parse(start=None, end="2026-02-10", today=TODAY) == Period(
        dt.date(2026, 2, 1), dt.date(2026, 2, 10)
    )
    assert period_parse(start="2026-03-01", end=None, today=TODAY) == Period(dt.date(2026, 3, 1), TODAY)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-03-10", "2026-03-01", "start"),
        ("yesterday", None, "start"),
        (None, "9999-12-31", "end"),
        ("0001-01-01", "2026-01-01", "start"),
        ("2026-02-30", None, "start"),
        ("2020-01-01", "2026-01-01", "end"),
    ],
)
def test_bad_input_is_an_error_naming_the_field_never_a_silent_default(
    start: str | None, end: str | None, field: str
) -> None:
    with pytest.raises(PeriodError) as caught:
        period_parse(start=start, end=end, today=TODAY)
    assert caught.value.field == field
    assert caught.value.message


def test_unknown_preset_is_an_error() -> None:
    with pytest.raises(PeriodError) as caught:
        period_parse(start=None, end=None, preset="forever", today=TODAY)
    assert caught.value.field == "preset"


def test_max_days_is_inclusive() -> None:
    assert period_parse(start="2026-01-01", end="2026-01-10", max_days=10, today=TODAY).days == 10
    with pytest.raises(PeriodError):
        period_parse(start="2026-01-01", end="2026-01-11", max_days=10, today=TODAY)


def test_half_open_bounds_are_aware_utc() -> None:
    period = Period(dt.date(2026, 12, 31), dt.date(2026, 12, 31))
    assert period.start_at == dt.datetime(2026, 12, 31, tzinfo=dt.UTC)
    assert period.end_before == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    assert list(period.each_day()) == [dt.date(2026, 12, 31)]
    assert dt.date(2026, 12, 31) in period
    assert dt.date(2027, 1, 1) not in period


def test_month_parts_split_the_period_per_calendar_month_with_leap_years() -> None:
    period = Period(dt.date(2024, 1, 20), dt.date(2024, 3, 5))
    assert period.month_parts() == [
        (dt.date(2024, 1, 1), 12, 31),
        (dt.date(2024, 2, 1), 29, 29),
        (dt.date(2024, 3, 1), 5, 31),
    ]
    assert sum(days for _, days, _ in period.month_parts()) == period.days


def test_period_refuses_a_reversed_range() -> None:
    with pytest.raises(ValueError, match="start"):
        Period(dt.date(2026, 1, 2), dt.date(2026, 1, 1))


def test_query_serializer_returns_the_period_and_reports_errors_per_field() -> None:
    ok = PeriodQuerySerializer(data={"start": "2026-01-01", "end": "2026-01-31"})
    assert ok.is_valid(), ok.errors
    assert ok.validated_data["period"] == Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))

    bad = PeriodQuerySerializer(data={"end": "9999-12-31"})
    assert not bad.is_valid()
    assert list(bad.errors) == ["end"]

    short = PeriodQuerySerializer(data={"start": "2026-01-01", "end": "2026-01-05"}, context={"max_days": 3})
    assert not short.is_valid()
    assert "end" in short.errors
