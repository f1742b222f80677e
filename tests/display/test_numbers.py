"""Losses and metrics print with fixed decimals in the ordinary range, three significant
digits outside it (an exploded loss is `1.23e+127`, not 130 digits)."""

import math

import pytest

from tinynet.display.numbers import format_loss, format_metric, format_value


@pytest.mark.parametrize("value, loss, metric", [
    (0.123456789, "0.123457", "0.1235"),
    (0.0, "0.000000", "0.0000"),
    (12345.678, "12345.678000", "12345.6780"),
    (1.234e127, "1.23e+127", "1.23e+127"),
    (-2.5e6, "-2.5e+06", "-2.5e+06"),
    (3.2e-9, "3.2e-09", "3.2e-09"),
    (math.inf, "inf", "inf"),
    (math.nan, "nan", "nan"),
])
def test_compact_outside_the_ordinary_range(value, loss, metric):
    assert format_loss(value) == loss
    assert format_metric(value) == metric


def test_a_log_entry_is_formatted_by_its_name():
    assert format_value("val_loss", 1e200) == "1e+200" and format_value("val_loss", 0.5) == "0.500000"
    assert format_value("accuracy", 0.5) == "0.5000"
