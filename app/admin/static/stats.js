// A stream's baseline statistics (GET /api/baseline/statistics), as a table and its
// hour-of-day profile.

import { loadStatistics } from "./catalog.js";
import { hourBars } from "./charts.js";
import { byId, el, errorText, formatNumber, formatPercent, showMessage } from "./dom.js";

function row(name, value) {
  return el("tr", {}, el("th", { scope: "row" }, name), el("td", { class: "num" }, value));
}

function figures(stats, unit) {
  const patterns = stats.patterns;
  const trend = patterns.trend;
  const seasonality = patterns.seasonality;
  const p = stats.percentiles;
  return [
    row(`Mean (${unit})`, formatNumber(stats.mean, 2)),
    row("Median", formatNumber(stats.median, 2)),
    row("Standard deviation", formatNumber(stats.stdDev, 2)),
    row("Min / max", `${formatNumber(stats.min, 2)} / ${formatNumber(stats.max, 2)}`),
    row(
      "p25 / p75 / p95",
      `${formatNumber(p.p25, 2)} / ${formatNumber(p.p75, 2)} / ${formatNumber(p.p95, 2)}`,
    ),
    row(
      "Weekday / weekend mean",
      `${formatNumber(patterns.weekdayAvg, 2)} / ${formatNumber(patterns.weekendAvg, 2)}`,
    ),
    row("Weekend uplift", formatPercent(patterns.weekendUplift)),
    row("Growth", `${trend.direction}, ${formatNumber(trend.percentPerMonth, 1)}% a month`),
    ...(patterns.rawTrend
      ? [row("Raw trend", `${formatNumber(patterns.rawTrend.percentPerMonth, 1)}% a month`)]
      : []),
    row(
      "Seasonality",
      `${seasonality.found} (daily ${formatNumber(seasonality.daily, 2)}, ` +
        `weekly ${formatNumber(seasonality.weekly, 2)})`,
    ),
  ];
}

export async function showStatistics(stream) {
  const box = byId("stats");
  byId("stats-stream").textContent = stream.name;
  box.setAttribute("aria-busy", "true");
  try {
    const stats = await loadStatistics(stream.name);
    const width = Math.max(240, box.clientWidth || 300);
    box.replaceChildren(
      el(
        "div",
        { class: "table-wrap" },
        el("table", {}, el("tbody", {}, ...figures(stats, stream.unit))),
      ),
      el("h3", {}, "Mean by hour of day (UTC)"),
      hourBars({
        values: stats.patterns.hourOfDay,
        width,
        label: `${stream.name}: mean by hour of day`,
      }),
    );
    showMessage(byId("stats-message"), "info", "");
  } catch (error) {
    showMessage(
      byId("stats-message"),
      "error",
      `Could not read the statistics: ${errorText(error)}`,
      error.hint,
    );
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}
