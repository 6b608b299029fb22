/* Draws the report page's charts with Vega-Embed (served by the app itself, see /reports/vega.js).
 *
 * Each chart's Vega-Lite spec sits in a <script type="application/json"> block; parsing it as data (never
 * as code) and running Vega's expression interpreter (ast: true) keeps the page working under a
 * Content-Security-Policy without 'unsafe-inline' or 'unsafe-eval'. Default styles are off because they
 * would be injected as inline <style>; reports.css has what the charts need. If anything fails, the
 * server-drawn SVG is shown instead, as it is when JavaScript is off.
 */
(function () {
  "use strict";

  var OPTIONS = {
    actions: false,
    ast: true,
    defaultStyle: false,
    renderer: "svg",
    tooltip: { disableDefaultStyle: true }
  };

  function showImage(target) {
    var image = document.createElement("img");
    image.className = "chart-svg";
    image.alt = "";  // the figure's caption and table carry the numbers
    image.src = target.getAttribute("data-svg");
    target.replaceChildren(image);
  }

  function draw(target) {
    var source = document.getElementById(target.getAttribute("data-spec"));
    if (!source || typeof window.vegaEmbed !== "function") {
      showImage(target);
      return;
    }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      showImage(target);
      return;
    }
    window.vegaEmbed(target, spec, OPTIONS).catch(function () { showImage(target); });
  }

  function start() {
    var charts = document.querySelectorAll(".chart[data-spec]");
    for (var i = 0; i < charts.length; i += 1) {
      draw(charts[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
