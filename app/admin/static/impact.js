// An external event's measured impact (GET /api/events/<id>/impact) and the list of the
// window's events to choose from.

import { get } from "./api.js";
import { eventTruth } from "./truth.js";
import {
  byId,
  el,
  errorText,
  formatNumber,
  formatPercent,
  formatTime,
  showMessage,
} from "./dom.js";

const TRUTH_DETAILS = {
  causal: "it really moved its streams",
  "red-herring": "recorded, moved nothing",
  "scenario-event": "its scenario's modifiers carry the effect",
};

function truthLabel(event) {
  const truth = eventTruth(event);
  return el(
    "span",
    { class: truth.className },
    `${truth.label} (${TRUTH_DETAILS[truth.className]})`,
  );
}

function scoreCell(score) {
  return el(
    "td",
    { class: "num" },
    el("span", {
      class: "score-bar",
      style: `width:${Math.round(score * 60)}px`,
      "aria-hidden": "true",
    }),
    ` ${formatNumber(score, 2)}`,
  );
}

function impactTable(rows) {
  if (!rows.length)
    return el("p", { class: "empty" }, "No stream moved measurably in the window (yet).");
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el(
        "caption",
        { class: "help" },
        "Each stream in the event's window against what the flow expected without it.",
      ),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, "Stream"),
          el("th", { scope: "col" }, "Named"),
          el("th", { scope: "col" }, "Expected"),
          el("th", { scope: "col", class: "num" }, "Effect"),
          el("th", { scope: "col", class: "num" }, "z"),
          el("th", { scope: "col", class: "num" }, "Score"),
        ),
      ),
      el(
        "tbody",
        {},
        ...rows.map((row) =>
          el(
            "tr",
            {},
            el("td", {}, el("code", {}, row.stream)),
            el("td", {}, row.named ? "yes" : "no"),
            el("td", {}, row.expectedDirection || "–"),
            el("td", { class: "num" }, formatPercent(row.effect)),
            el("td", { class: "num" }, formatNumber(row.zScore, 2)),
            scoreCell(row.score),
          ),
        ),
      ),
    ),
  );
}

/** Load and show one event's measured impact; focus moves to the result. */
export async function showImpact(event) {
  const box = byId("impact");
  const message = byId("impact-message");
  box.setAttribute("aria-busy", "true");
  showMessage(message, "info", `Measuring the impact of “${event.title}”…`);
  try {
    const answer = await get(`/api/events/${encodeURIComponent(event.id)}/impact`);
    const shown = answer.event;
    box.replaceChildren(
      el("h3", { id: "impact-title", tabindex: "-1" }, shown.title),
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, "Event"),
        el(
          "dd",
          {},
          `${shown.id}, ${shown.type}, ${shown.severity}, at ${formatTime(shown.timestamp)}`,
        ),
        el("dt", {}, "Ground truth"),
        el("dd", {}, truthLabel(answer.event)),
        el("dt", {}, "Measured over"),
        el("dd", {}, `${formatTime(answer.window.start)} to ${formatTime(answer.window.end)}`),
      ),
      impactTable(answer.streams),
    );
    box.dataset.eventId = shown.id;
    showMessage(message, "info", "");
    byId("impact-title").focus();
  } catch (error) {
    showMessage(message, "error", `Could not measure the impact: ${errorText(error)}`, error.hint);
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}

/** The window's external events as a table, each with a button to measure its impact. */
export function renderEventList(events) {
  const box = byId("event-list");
  if (!events.length) {
    box.replaceChildren(el("p", { class: "empty" }, "No external event in this window."));
    return;
  }
  const sorted = [...events].sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1));
  box.replaceChildren(
    el(
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
            ...["Time", "Event", "Severity", "Ground truth", "Streams", ""].map((name) =>
              el("th", { scope: "col" }, name),
            ),
          ),
        ),
        el("tbody", {}, ...sorted.map(eventRow)),
      ),
    ),
  );
}

function eventRow(event) {
  return el(
    "tr",
    { "data-event-id": event.id },
    el("td", {}, formatTime(event.timestamp)),
    el("td", {}, event.title),
    el("td", {}, event.severity),
    el("td", {}, el("span", { class: eventTruth(event).className }, eventTruth(event).label)),
    el("td", {}, (event.expectedImpact.streams || []).join(", ")),
    el(
      "td",
      {},
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Measured impact of ${event.title} (${formatTime(event.timestamp)})`,
          onclick: () => showImpact(event),
        },
        "Impact",
      ),
    ),
  );
}
