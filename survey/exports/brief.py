"""Charts as PNG and PDF images, the PDF brief, and the ZIP summary pack.

Charts are drawn by vl-convert (the same engine as the server-side SVG) from the chart's Vega-Lite spec, with
external data loading switched off. The brief is laid out with fpdf2 (pure Python, no system libraries or
fonts needed): a first page with the key figures and the method note, then one page per chart, each chart a
PNG drawn by vl-convert at twice the screen resolution. fpdf2's built-in Helvetica keeps the file small and
its text extractable; it covers Latin-1, so other characters are replaced by their nearest ASCII form.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Mapping
from typing import Any

import vl_convert
from babel import numbers
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


def _latin1(text: Any) -> str:
    """Text the PDF's core font can show: typographic characters mapped to plain ones, the rest dropped."""
    text = str(text).replace("–", "-").replace("—", "-").replace("“", '"').replace("”", '"')
    text = text.replace("’", "'").replace("‘", "'").replace("…", "...").replace("≥", ">=")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    if all(ord(ch) < 256 for ch in text):
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ord(ch) < 256 and not unicodedata.combining(ch))


def _format(value: Any) -> str:
    """A key figure: rates to one decimal, counts grouped, as English writes them (the brief is in English)."""
    if value is None:
        return "withheld"
    if isinstance(value, float) and value <= 1:
        return numbers.format_percent(value, "#,##0.0%", locale="en")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_for("en")(round(value))
    return str(value)


def brief_pdf(report: ReportTables, chart_images: Mapping[str, tuple[str, bytes]]) -> bytes:
    """The brief: key figures and method on page 1, then one chart per page (title, image, one-line summary).

    `chart_images`: section name -> (title, PNG bytes), in page order; sections without a chart are left out.
    """
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_title(_latin1(f"Technology adoption: {report.survey.title}"))
    pdf.set_creator("cluster-survey")
    pdf.set_auto_page_break(auto=True, margin=15)
    width = pdf.w - pdf.l_margin - pdf.r_margin

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(width, 9, _latin1(f"Technology adoption: {report.survey.title}"))
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 8, "Key figures", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    facts = {key: value for key, _label, value in about_rows(report)}
    for label in ("Wave", "Opens", "Closes", "Filters", "Organisations invited", "Responses", "Response rate"):
        value = facts.get(label)
        shown = _format(value) if label in ("Organisations invited", "Responses", "Response rate") else (value or "-")
        pdf.multi_cell(width, 5.5, _latin1(f"{label}: {shown}"), new_x="LMARGIN", new_y="NEXT")
    top = _top_technologies(report)
    if top:
        pdf.ln(2)
        pdf.multi_cell(width, 5.5, _latin1("Most used technologies: " + "; ".join(top)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 8, "Method", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for label in ("Shares", "Intervals", "Suppression", "Clusters"):
        pdf.multi_cell(width, 5.5, _latin1(f"{label}: {facts[label]}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.multi_cell(
        width,
        5.5,
        _latin1(f"Minimum cell size k = {report.k}. Generated {facts['Generated (UTC)']} UTC."),
        new_x="LMARGIN",
        new_y="NEXT",
    )

    for _name, (title, png) in chart_images.items():
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(width, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.image(io.BytesIO(png), w=width, keep_aspect_ratio=True, h=pdf.h - pdf.get_y() - 25)
    return bytes(pdf.output())


def _top_technologies(report: ReportTables, count: int = 3) -> list[str]:
    table = report.tables["adoption"]
    shown = table[~table["suppressed"]]
    if shown.empty:
        return []
    ranked = shown.sort_values("share_using", ascending=False, kind="stable").head(count)
    percent = percent_for("en")  # the brief is in English until it is translated with the rest (issue 17)
    return [f"{row.item_label} {percent(row.share_using)}" for row in ranked.itertuples()]


def pack_zip(files: Mapping[str, bytes]) -> bytes:
    """The summary pack: the given files (name -> bytes) in one ZIP, compressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buffer.getvalue()
