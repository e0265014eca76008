"""The Insights page: the compliance answers (logs.insights) for a chosen period, each number
linking to the changelist filtered to exactly its events, and charts drawn as inline SVG on the
server (no script, no external resource: the portal works without network access).
"""

from dataclasses import dataclass

from django.template.response import TemplateResponse
from django.utils import timezone

from logs.admin.refusal import refusal_response
from logs.admin.times import date_input, local_dates_redirect
from logs.insights.builder import compliance_report
from logs.insights.forms import ReportParametersForm
from logs.models import Service

# Colour-blind-safe (Okabe-Ito), in the order categories are ranked.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999"]
FAILURE_COLOUR = "#C0392B"
CHART_WIDTH = 880
CHART_HEIGHT = 220
MARGIN_LEFT = 48
MARGIN_BOTTOM = 28
MARGIN_TOP = 10


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _scale(maximum: int) -> int:
    """The axis top: four equal whole-number steps at or above ``maximum``."""
    return _nice_ceiling(-(-maximum // 4)) * 4


def _axis(top: int, plot_height: float) -> list[dict]:
    return [{"value": top * n // 4, "y": MARGIN_TOP + plot_height * (1 - n / 4)} for n in range(5)]


def _x_labels(days: list[str], left: float, slot: float) -> list[dict]:
    every = max(1, len(days) // 8)
    return [
        {"x": left + slot * (i + 0.5), "text": day[5:]}
        for i, day in enumerate(days)
        if i % every == 0
    ]


def stacked_days_chart(charts: dict) -> dict:
    days = [row["day"] for row in charts["events_per_day"]]
    plot_width = CHART_WIDTH - MARGIN_LEFT - 10
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_width / max(len(days), 1)
    maximum = _scale(max((row["total"] for row in charts["events_per_day"]), default=0))
    colours = dict(zip(charts["categories"], PALETTE, strict=False))
    bars = []
    for i, row in enumerate(charts["events_per_day"]):
        base = MARGIN_TOP + plot_height
        for name in charts["categories"]:
            count = row["by"].get(name, 0)
            if not count:
                continue
            height = plot_height * count / maximum
            base -= height
            bars.append(
                Bar(
                    MARGIN_LEFT + slot * i + slot * 0.12,
                    base,
                    slot * 0.76,
                    height,
                    colours[name],
                    f"{row['day']}: {name} {count}",
                )
            )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": MARGIN_LEFT,
        "right": CHART_WIDTH - 10,
        "bottom": MARGIN_TOP + plot_height,
        "bars": bars,
        "axis": _axis(maximum, plot_height),
        "labels": _x_labels(days, MARGIN_LEFT, slot),
        "legend": [{"name": name, "colour": colours[name]} for name in charts["categories"]],
    }


def failures_chart(charts: dict) -> dict:
    rows = charts["failures_per_day"]
    plot_width = CHART_WIDTH - MARGIN_LEFT - 10
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    slot = plot_width / max(len(rows), 1)
    maximum = _scale(max((row["count"] for row in rows), default=0))
    points = [
        {
            "x": MARGIN_LEFT + slot * (i + 0.5),
            "y": MARGIN_TOP + plot_height * (1 - row["count"] / maximum),
            "title": f"{row['day']}: {row['count']} failures",
            "count": row["count"],
        }
        for i, row in enumerate(rows)
    ]
    bottom = MARGIN_TOP + plot_height
    line = " ".join(f"{p['x']:.1f},{p['y']:.1f}" for p in points)
    area = (
        f"{points[0]['x']:.1f},{bottom:.1f} {line} {points[-1]['x']:.1f},{bottom:.1f}"
        if points
        else ""
    )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": MARGIN_LEFT,
        "right": CHART_WIDTH - 10,
        "bottom": bottom,
        "points": points,
        "line": line,
        "area": area,
        "colour": FAILURE_COLOUR,
        "axis": _axis(maximum, plot_height),
        "labels": _x_labels([row["day"] for row in rows], MARGIN_LEFT, slot),
    }


def top_activities_chart(charts: dict) -> dict:
    rows = charts["top_activities"]
    maximum = max((row["count"] for row in rows), default=1) or 1
    label_width, bar_space, row_height = 260, CHART_WIDTH - 260 - 70, 24
    return {
        "width": CHART_WIDTH,
        "height": row_height * len(rows) + 6,
        "label_width": label_width,
        "rows": [
            {
                **row,
                "y": i * row_height + 3,
                "text_y": i * row_height + 18,
                "width": max(2.0, bar_space * row["count"] / maximum),
                "count_x": label_width + 8 + max(2.0, bar_space * row["count"] / maximum) + 6,
            }
            for i, row in enumerate(rows)
        ],
    }


def insights_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        return refusal_response(
            request, model_admin, permission="logs.view_auditevent", refused="Insights"
        )
    # A period typed in the reader's time zone lands in the URL as UTC.
    converted = local_dates_redirect(request)
    if converted is not None:
        return converted
    form = ReportParametersForm(request.GET)
    report = compliance_report(form.period()) if form.is_valid() else None
    period = report.period if report is not None else None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Insights: compliance answers",
        "form": form,
        "report": report,
        "services": list(Service.objects.order_by("name").values_list("name", flat=True)),
        "date_inputs": [
            (
                label,
                date_input(
                    request,
                    name,
                    form.data.get(name),
                    placeholder=getattr(period, name) if period else None,
                ),
            )
            for label, name in [("Since", "since"), ("Until", "until")]
        ],
        "now": timezone.now(),
    }
    if report is not None:
        context.update(
            {
                "days_chart": stacked_days_chart(report.charts),
                "failures_chart": failures_chart(report.charts),
                "top_chart": top_activities_chart(report.charts),
            }
        )
    return TemplateResponse(request, "admin/logs/insights/insights.html", context)
