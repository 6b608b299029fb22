"""reports.frames.records: the rows that templates, chart data and JSON are made from."""

from __future__ import annotations

import math

import orjson
import pandas as pd

from reports.frames import records


def test_records_are_plain_python_values_with_none_for_missing_numbers():
    table = pd.DataFrame(
        {
            "item": pd.array(["ai", "robots", "cloud"], dtype="str"),
            "n": [12, 0, 7],
            "using": pd.array([5, None, 3], dtype="Int64"),  # a withheld count
            "share": [5 / 12, math.nan, 3 / 7],
            "suppressed": [False, True, False],
            "group": [None, 3, "x"],
        }
    )
    rows = records(table)
    assert rows == [
        {"item": "ai", "n": 12, "using": 5, "share": 5 / 12, "suppressed": False, "group": None},
        {"item": "robots", "n": 0, "using": None, "share": None, "suppressed": True, "group": 3},
        {"item": "cloud", "n": 7, "using": 3, "share": 3 / 7, "suppressed": False, "group": "x"},
    ]
    # Python's own types, not numpy's or pandas' (which JSON writers and Jinja's tests do not all take).
    assert [type(value) for value in rows[0].values()] == [str, int, int, float, bool, type(None)]
    assert orjson.loads(orjson.dumps(rows)) == rows


def test_records_of_an_empty_table():
    assert records(pd.DataFrame({"item": pd.array([], dtype="str"), "n": pd.array([], dtype="int64")})) == []
