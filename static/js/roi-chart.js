// The ROI report's chart: revenue per month against costs, the AI part of the costs stacked on
// the fixed costs so its share is visible. Data comes from the page (json_script "roi-chart-data").
(function () {
  "use strict";
  const source = document.getElementById("roi-chart-data");
  const canvas = document.getElementById("roi-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  // Tooltips read like the page's figures (static/js/money.js mirrors the server's money format).
  const sek = window.Money ? window.Money.sek : (value) => String(value);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.names.revenue, data: data.revenue, backgroundColor: "#10b981", stack: "revenue" },
        { label: data.names.fixed, data: data.fixed, backgroundColor: "#64748b", stack: "costs" },
        { label: data.names.ai, data: data.ai, backgroundColor: "#4f46e5", stack: "costs" },
      ],
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
      plugins: {
        tooltip: {
          callbacks: {
            label: (ctx) => `${ctx.dataset.label}: ${sek(ctx.parsed.y)}`,
          },
        },
      },
    },
  });
})();
