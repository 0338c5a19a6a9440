from dashboard.management.textable import render


def test_aligned_columns_with_dash_for_unknown():
    out = render(["A", "LONGER"], [["x", None], ["yyyy", 3]])
    assert out.splitlines() == ["A     LONGER", "x     -", "yyyy  3"]
