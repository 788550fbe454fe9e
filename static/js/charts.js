// Draws the dashboard charts from the JSON the page embeds (json_script "chart-data",
// "distribution-data"). Amounts are drawn in SEK; tooltips add USD and the share in %, formatted by
// money.js so an amount reads as it does in the page's tables. When htmx swaps in fresh data (live
// updates) the same charts are updated in place: no new canvas, no flicker.
(function () {
  "use strict";
  const palette = ["#4f46e5", "#0ea5e9", "#10b981", "#f59e0b", "#ef4444", "#8b5cf6", "#14b8a6", "#f97316", "#64748b"];
  const charts = {};

  function read(id) {
    const el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function tooltip(series) {
    return function (ctx) {
      const i = ctx.dataIndex;
      let text = `${ctx.label}: ${Money.sek(series.sek[i])}`;
      if (series.usd) text += ` (${Money.usd(series.usd[i])})`;
      text += ` · ${Money.percent(series.share[i])}`;
      if (series.notes && series.notes[i]) text += ` · ${series.notes[i]}`;
      return text;
    };
  }

  function draw(id, type, series) {
    const el = document.getElementById(id);
    if (!el || !series) return;
    const values = series.sek.map(Number);
    const existing = charts[id];
    if (existing && existing.canvas === el) {
      existing.data.labels = series.labels;
      existing.data.datasets[0].data = values;
      existing.options.plugins.tooltip.callbacks.label = tooltip(series);
      existing.update("none");
      return;
    }
    const line = type === "line";
    charts[id] = new Chart(el, {
      type: type,
      data: {
        labels: series.labels,
        datasets: [
          line
            ? { data: values, fill: true, borderColor: "#4f46e5", backgroundColor: "rgba(79,70,229,.15)", tension: 0.3 }
            : { data: values, backgroundColor: palette },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: line ? { display: false } : { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: tooltip(series) } },
        },
        scales: line ? { y: { beginAtZero: true, ticks: { callback: (v) => Money.sek(v) } } } : {},
      },
    });
  }

  function render() {
    if (typeof Chart === "undefined" || typeof Money === "undefined") return;
    const data = read("chart-data");
    if (data) {
      draw("chart-by-model", "doughnut", data.by_model);
      draw("chart-by-use-case", "doughnut", data.by_use_case);
      draw("chart-by-day", "line", data.by_day);
    }
    draw("chart-distribution", "doughnut", read("distribution-data"));
  }

  render();
  document.body.addEventListener("htmx:afterSwap", render);
})();
