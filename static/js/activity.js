// Draws the Activity history's stacked bar chart (json_script "activity-chart-data") whenever
// the section is loaded or swapped in by htmx.
(function () {
  "use strict";
  const palette = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#14b8a6", "#f97316", "#64748b"];
  let chart = null;

  function draw() {
    const source = document.getElementById("activity-chart-data");
    const canvas = document.getElementById("chart-activity");
    if (!source || !canvas || typeof Chart === "undefined") return;
    const data = JSON.parse(source.textContent);
    if (chart) chart.destroy();
    chart = new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map(function (set, i) {
          return { label: set.label, data: set.data, backgroundColor: palette[i % palette.length] };
        }),
      },
      options: {
        maintainAspectRatio: false,
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      },
    });
  }

  // Redraw only when a swap brought the chart's data (the section itself), not on every htmx
  // swap on the page (the live metrics poll, a day of the table opening), which would flicker.
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.target;
    if (target && target.querySelector && target.querySelector("#activity-chart-data")) draw();
  });
  document.addEventListener("DOMContentLoaded", draw);
})();
