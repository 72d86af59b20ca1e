from decimal import Decimal as D

from connector.domain.diff import LineChange, diff_lines


def test_diff_lists_changed_added_and_removed_lines_only() -> None:
    before = [("EC2", D("10.00")), ("S3", D("5.00")), ("Tax", D("1.24"))]
    after = [("EC2", D("12.50")), ("S3", D("5.00")), ("Lambda", D("0.10")), ("Tax", D("1.46"))]
    changes = diff_lines(before, after)
    assert changes == [
        LineChange("EC2", D("10.00"), D("12.50")),
        LineChange("Lambda", None, D("0.10")),
        LineChange("Tax", D("1.24"), D("1.46")),
    ]
    assert [c.delta for c in changes] == [D("2.50"), D("0.10"), D("0.22")]
    assert diff_lines(after, after) == []
    assert diff_lines([("S3", D(1))], []) == [LineChange("S3", D(1), None)]
