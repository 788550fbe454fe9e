// Draws the dashboard charts from the JSON the page embeds (json_script "chart-data"); tooltips and
// axis labels use money.js, so an amount reads as it does in the page's tables.
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined" || typeof Money === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#14b8a6", "#f97316", "#64748b"];

  // The by-model and by-use-case series are USD; the daily series is SEK.
  function pie(id, series, format) {
    const el = document.getElementById(id);
    if (!el || !series.values.length) return;
    new Chart(el, {
      type: "doughnut",
      data: { labels: series.labels, datasets: [{ data: series.values, backgroundColor: palette }] },
      options: {
        maintainAspectRatio: false,
        plugins: {
          legend: { position: "right" },
          tooltip: { callbacks: { label: (ctx) => ctx.label + ": " + format(ctx.raw) } },
        },
      },
    });
  }

  pie("chart-by-model", data.by_model, Money.usd);
  pie("chart-by-use-case", data.by_use_case, Money.usd);
  const daily = document.getElementById("chart-by-day");
  if (daily) {
    new Chart(daily, {
      type: "line",
      data: {
        labels: data.by_day.labels,
        datasets: [{ data: data.by_day.values, fill: true, borderColor: "#4f46e5", backgroundColor: "rgba(79,70,229,.15)", tension: 0.3 }],
      },
      options: {
        maintainAspectRatio: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (ctx) => Money.sek(ctx.raw) } } },
        scales: { y: { beginAtZero: true, ticks: { callback: (value) => Money.sek(value) } } },
      },
    });
  }
})();
