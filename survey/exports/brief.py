"""Charts as PNG and PDF images, the PDF brief, and the ZIP summary pack.

Charts are drawn by vl-convert (the same engine as the server-side SVG) from the chart's Vega-Lite spec, with
external data loading switched off. The brief is laid out with fpdf2 (pure Python, no system libraries or
fonts needed): a first page with the key figures and the method note, then one page per chart, each chart a
PNG drawn by vl-convert at twice the screen resolution. It is written in the reader's language, in DejaVu Sans
(vendored in survey/data/fonts with its licence, subset into the file), which has the letters of every EU
language, Greek and Cyrillic included.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import vl_convert
from babel import numbers
from flask_babel import get_locale
from flask_babel import gettext as _
from fpdf import FPDF

from reports import charts
from reports.formatting import number_for, percent_for
from survey.exports.tables import ReportTables, about_rows

#: Width charts are drawn at for downloads (the page's SVG width).
WIDTH = charts.SVG_WIDTH
#: Resolution of PNG downloads and of the charts in the brief: twice the screen's, sharp in print.
PNG_SCALE = 2


def _spec(chart: charts.Figure) -> dict[str, Any]:
    return charts.to_spec(charts.fixed_width(chart, WIDTH))


def to_png(chart: charts.Figure, scale: float = PNG_SCALE) -> bytes:
    return vl_convert.vegalite_to_png(
        _spec(chart), vl_version=charts.VEGA_LITE_VERSION, scale=scale, allowed_base_urls=[]
    )


def to_pdf(chart: charts.Figure) -> bytes:
    return vl_convert.vegalite_to_pdf(_spec(chart), vl_version=charts.VEGA_LITE_VERSION, allowed_base_urls=[])


FONTS = Path(__file__).resolve().parent.parent / "data" / "fonts"
FONT = "DejaVu"


def _text(text: Any) -> str:
    """Text as typed, without control characters (a cluster's name is data)."""
    return "".join(ch for ch in str(text) if ch in "\n\t" or unicodedata.category(ch)[0] != "C")


def _locale() -> str:
    return str(get_locale() or "en")


def _format(value: Any) -> str:
    """A key figure: rates to one decimal, counts grouped, as the reader's language writes them."""
    if value is None:
        return _("withheld")
    if isinstance(value, float) and value <= 1:
        return numbers.format_percent(value, "#,##0.0%", locale=_locale())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_for(_locale())(round(value))
    return str(value)


def brief_pdf(report: ReportTables, chart_images: Mapping[str, tuple[str, bytes]]) -> bytes:
    """The brief: key figures and method on page 1, then one chart per page (title, image, one-line summary).

    `chart_images`: section name -> (title, PNG bytes), in page order; sections without a chart are left out.
    """
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    title = _text(_("Technology adoption: %(title)s", title=report.survey.title))
    pdf.set_title(title)
    pdf.set_lang(_locale())
    pdf.set_creator("cluster-survey")
    pdf.set_auto_page_break(auto=True, margin=15)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.add_page()
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(width, 9, title)
    pdf.ln(2)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(width, 8, _("Key figures"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    facts = {key: (label, value) for key, label, value in about_rows(report)}
    counted = ("Organisations invited", "Responses", "Response rate")
    for key in ("Wave", "Opens", "Closes", "Filters", *counted):
        label, value = facts[key]
        shown = _format(value) if key in counted else (value or "-")
        pdf.multi_cell(width, 5.5, _text(f"{label}: {shown}"), new_x="LMARGIN", new_y="NEXT")
    top = _top_technologies(report)
    if top:
        pdf.ln(2)
        line = _("Most used technologies: %(list)s", list="; ".join(top))
        pdf.multi_cell(width, 5.5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 13)
    pdf.cell(width, 8, _("Method"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    for key in ("Shares", "Intervals", "Suppression", "Clusters"):
        label, value = facts[key]
        pdf.multi_cell(width, 5.5, _text(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    generated = _("Minimum cell size k = %(k)d. Generated %(when)s UTC.", k=report.k, when=facts["Generated (UTC)"][1])
    pdf.multi_cell(width, 5.5, _text(generated), new_x="LMARGIN", new_y="NEXT")

    for _name, (chart_title, png) in chart_images.items():
        pdf.add_page()
        pdf.set_font(FONT, "B", 14)
        pdf.multi_cell(width, 8, _text(chart_title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.image(io.BytesIO(png), w=width, keep_aspect_ratio=True, h=pdf.h - pdf.get_y() - 25)
    return bytes(pdf.output())


def _top_technologies(report: ReportTables, count: int = 3) -> list[str]:
    table = report.tables["adoption"]
    shown = table[~table["suppressed"]]
    if shown.empty:
        return []
    ranked = shown.sort_values("share_using", ascending=False, kind="stable").head(count)
    percent = percent_for(_locale())
    return [f"{row.item_label} {percent(row.share_using)}" for row in ranked.itertuples()]


def pack_zip(files: Mapping[str, bytes]) -> bytes:
    """The summary pack: the given files (name -> bytes) in one ZIP, compressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()
