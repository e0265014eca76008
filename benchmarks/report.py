"""The one results table: each metric's median beside the raw limit measured in the same run."""

import statistics
from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of the table: a metric on one database, with every run's figure kept."""

    metric: str
    db: str
    unit: str
    values: list[float] = field(default_factory=list)
    raw_values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def raw_median(self) -> float | None:
        return statistics.median(self.raw_values) if self.raw_values else None

    @property
    def ratio(self) -> float | None:
        raw = self.raw_median
        return self.median / raw if raw else None


HEADERS = ("metric", "db", "median", "raw limit", "ratio", "runs")


def format_table(rows: list[Row]) -> str:
    """A Markdown table, so the same text reads on a terminal and in benchmarks/README.md."""
    lines = [_cells(rows_) for rows_ in [HEADERS, *(_row_cells(row) for row in rows)]]
    widths = [max(len(line[column]) for line in lines) for column in range(len(HEADERS))]
    rendered = [_join(lines[0], widths), _join(["-" * width for width in widths], widths)]
    rendered.extend(_join(line, widths, align_numbers=True) for line in lines[1:])
    return "\n".join(rendered)


def _row_cells(row: Row) -> tuple[str, ...]:
    raw = row.raw_median
    ratio = row.ratio
    return (
        f"{row.metric} ({row.unit})",
        row.db,
        _number(row.median),
        _number(raw) if raw is not None else "-",
        f"{ratio:.2f}" if ratio is not None else "-",
        str(len(row.values)),
    )


def _cells(values) -> list[str]:
    return [str(value) for value in values]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _join(cells, widths, align_numbers: bool = False) -> str:
    padded = [
        cell.rjust(width) if align_numbers and index >= 2 else cell.ljust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "| " + " | ".join(padded) + " |"
