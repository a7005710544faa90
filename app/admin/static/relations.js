// The relationship views: booking requests against their outcomes (confirmed, declined,
// expired), and completed sessions against the ratings they received, per 12 hours.

import { get, query } from "./api.js";
import { seriesChart } from "./charts.js";
import { byId, el, errorText, formatNumber, showMessage } from "./dom.js";

const VIEWS = [
  {
    box: "rel-bookings",
    title: "Booking requests and their outcomes",
    base: "customer.booking.requested",
    outcomes: [
      "customer.booking.confirmed",
      "customer.booking.declined",
      "customer.booking.expired",
    ],
  },
  {
    box: "rel-ratings",
    title: "Completed sessions and their ratings",
    base: "session.completed",
    outcomes: ["session.rating.submitted"],
  },
];
const CLASSES = ["line", "line-b", "line-c", "line-d"];

function total(points) {
  return points.filter((point) => !point.partial).reduce((sum, point) => sum + point.value, 0);
}

function legend(names) {
  return el(
    "ul",
    { class: "legend" },
    ...names.map((name, index) =>
      el(
        "li",
        {},
        el("span", {
          class: "swatch",
          style: `border-top: 3px solid ${swatchColour(index)}; height: 0`,
        }),
        name,
      ),
    ),
  );
}

function swatchColour(index) {
  return ["#1f5fbf", "#c05621", "#2f855a", "#6a3fa0"][index];
}

function totalsTable(view, streams) {
  const requested = total(streams[view.base]);
  const rows = [view.base, ...view.outcomes].map((name) => {
    const sum = total(streams[name]);
    const share = name === view.base ? "" : `${formatNumber((sum / (requested || 1)) * 100, 1)}%`;
    return el(
      "tr",
      {},
      el("th", { scope: "row" }, el("code", {}, name)),
      el("td", { class: "num" }, formatNumber(sum, 0)),
      el("td", { class: "num" }, share),
    );
  });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, "Stream"),
          el("th", { scope: "col", class: "num" }, "Events"),
          el("th", { scope: "col", class: "num" }, `Share of ${view.base.split(".").pop()}`),
        ),
      ),
      el("tbody", {}, ...rows),
    ),
  );
}

function renderView(view, answer) {
  const box = byId(view.box);
  const names = [view.base, ...view.outcomes];
  const start = new Date(answer.timeRange.start);
  const end = new Date(answer.timeRange.end);
  const width = Math.max(260, box.clientWidth || 320);
  box.replaceChildren(
    el("h3", {}, view.title),
    legend(names),
    el(
      "figure",
      { "aria-label": `${view.title}, per 12 hours` },
      seriesChart({
        series: names.map((name, index) => ({
          label: name,
          points: answer.streams[name],
          className: CLASSES[index],
        })),
        start,
        end,
        width,
      }),
    ),
    totalsTable(view, answer.streams),
  );
}

/** Draw both views over `range` ("past 7 days" or "past 30 days"). */
export async function showRelations(range) {
  const message = byId("relations-message");
  const names = VIEWS.flatMap((view) => [view.base, ...view.outcomes]);
  try {
    const answer = await get(
      `/api/simulation/history${query({ streams: names.join(","), resolution: "12h", range })}`,
    );
    for (const view of VIEWS) renderView(view, answer);
    showMessage(message, "info", "");
  } catch (error) {
    showMessage(
      message,
      "error",
      `Could not read the relationships: ${errorText(error)}`,
      error.hint,
    );
  }
}
