// Copies the browser builds of npm dependencies into static/vendor/ (served by Django/whitenoise).
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const target = path.join(root, "static", "vendor");
const files = [["chart.js/dist/chart.umd.min.js", "chart.umd.min.js"]];

fs.mkdirSync(target, { recursive: true });
for (const [from, to] of files) {
  fs.copyFileSync(path.join(root, "node_modules", from), path.join(target, to));
}
console.log(`copied ${files.length} vendor file(s) to static/vendor/`);
