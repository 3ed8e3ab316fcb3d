/* The admin's analytics dashboard: draws the figures embedded in the page (#analytics-figures,
   the same JSON as GET /api/v1/analytics/dashboard/) with the vendored Chart.js. Charts are kept
   in window.__analyticsCharts by canvas id, for people debugging and for the browser test. */
(function () {
  "use strict";

  var COLOURS = ["#417690", "#d35f5f", "#5aa469", "#d99a3e", "#8c6bb1", "#4fa3a5", "#b5b5b5", "#e377c2", "#7f7f7f", "#bcbd22"];

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    window.__analyticsCharts[id] = new window.Chart(canvas, config);
  }

  function line(label, values, colour, axis) {
    return { label: label, data: values, borderColor: colour, backgroundColor: colour, spanGaps: true, yAxisID: axis || "y" };
  }

  function render() {
    var figures = JSON.parse(document.getElementById("analytics-figures").textContent);
    var series = figures.series;
    var days = series.map(function (p) { return p.day; });
    var pick = function (key) { return series.map(function (p) { return p[key]; }); };
    window.__analyticsCharts = {};

    draw("chart-activity", {
      type: "line",
      data: { labels: days, datasets: [line("conversations", pick("conversations"), COLOURS[0]), line("answers", pick("answers"), COLOURS[2])] }
    });
    draw("chart-ttft", {
      type: "line",
      data: { labels: days, datasets: [line("p50", pick("ttft_p50_ms"), COLOURS[0]), line("p95", pick("ttft_p95_ms"), COLOURS[1])] }
    });
    draw("chart-errors", {
      type: "bar",
      data: { labels: days, datasets: [
        { label: "errors", data: pick("errors"), backgroundColor: COLOURS[1] },
        { label: "stopped", data: pick("stopped_answers"), backgroundColor: COLOURS[3] },
        { label: '"not found"', data: pick("not_found_answers"), backgroundColor: COLOURS[6] }
      ] }
    });
    draw("chart-quality", {
      type: "line",
      data: { labels: days, datasets: [line("average score", pick("average_score"), COLOURS[4]), line("tokens/s", pick("tokens_per_s"), COLOURS[5], "y1")] },
      options: { scales: { y: { min: 0, max: 10, position: "left" }, y1: { position: "right", grid: { drawOnChartArea: false } } } }
    });
    draw("chart-cost", {
      type: "bar",
      data: { labels: days, datasets: [{ label: "USD", data: pick("cost_usd"), backgroundColor: COLOURS[0] }] }
    });
    draw("chart-topics", {
      type: "doughnut",
      data: {
        labels: figures.topics.map(function (t) { return t.topic || "(not analysed)"; }),
        datasets: [{ data: figures.topics.map(function (t) { return t.conversations; }), backgroundColor: COLOURS }]
      }
    });
    draw("chart-scores", {
      type: "bar",
      data: {
        labels: figures.scores.map(function (s) { return String(s.score); }),
        datasets: [{ label: "conversations", data: figures.scores.map(function (s) { return s.conversations; }), backgroundColor: COLOURS[4] }]
      }
    });
    var resolution = ["confirmed", "assumed", "unresolved", "open"];
    draw("chart-resolution", {
      type: "bar",
      data: {
        labels: resolution.concat(["rated up", "rated down"]),
        datasets: [{
          label: "conversations / ratings",
          data: resolution.map(function (r) { return figures.resolution[r].value; }).concat([figures.ratings.up.value, figures.ratings.down.value]),
          backgroundColor: [COLOURS[2], COLOURS[5], COLOURS[1], COLOURS[6], COLOURS[2], COLOURS[1]]
        }]
      }
    });
    draw("chart-flows", {
      type: "bar",
      data: {
        labels: figures.flows.map(function (f) { return f.flow; }),
        datasets: [
          { label: "answers", data: figures.flows.map(function (f) { return f.answers; }), backgroundColor: COLOURS[0], yAxisID: "y" },
          { label: "TTFT p95 (ms)", data: figures.flows.map(function (f) { return f.ttft_p95_ms; }), backgroundColor: COLOURS[1], yAxisID: "y1" }
        ]
      },
      options: { scales: { y: { position: "left" }, y1: { position: "right", grid: { drawOnChartArea: false } } } }
    });
    var outcomes = Object.keys(figures.order_lookups);
    draw("chart-lookups", {
      type: "bar",
      data: {
        labels: outcomes,
        datasets: [{ label: "lookups", data: outcomes.map(function (o) { return figures.order_lookups[o].value; }), backgroundColor: COLOURS[3] }]
      }
    });
    document.documentElement.dataset.analyticsCharts = "ready";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
