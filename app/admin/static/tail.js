// The live tail: the newest events of one stream from the `/ws` feed, newest first.

import { byId, el, formatNumber, formatTime } from "./dom.js";
import { Feed } from "./feed.js";

const ROWS = 25;
const RENDER_MS = 300;

let feed = null;
let stream = null;
let rows = [];
let paused = false;
let renderPending = false;

/** Start (or move) the tail to the stream `name`; the feed's snapshot fills it at once. */
export function tailStream(name) {
  stream = name;
  byId("tail-topic-name").textContent = name;
  rows = [];
  render();
  if (feed) {
    feed.setTopics([name]);
    return;
  }
  feed = new Feed([name], {
    onEvents: (events) => add(events),
    onStatus: (status, detail) => {
      byId("tail-status").textContent = detail ? `${status}: ${detail}` : status;
      byId("tail-status").dataset.status = status;
    },
  }).start();
}

export function startTailControls() {
  const button = byId("tail-pause");
  button.addEventListener("click", () => {
    paused = !paused;
    button.setAttribute("aria-pressed", String(paused));
    button.textContent = paused ? "Resume" : "Pause";
    if (!paused) render();
  });
}

function add(events) {
  // Frames of the previous stream may still arrive just after a switch: leave them out.
  const streamEvents = events.filter((event) => event.stream === stream);
  rows = [...streamEvents.reverse(), ...rows].slice(0, ROWS);
  if (paused || renderPending) return;
  renderPending = true;
  window.setTimeout(() => {
    renderPending = false;
    if (!paused) render();
  }, RENDER_MS);
}

function render() {
  const body = byId("tail-rows");
  if (!rows.length) {
    body.replaceChildren(
      el("tr", {}, el("td", { colspan: 5, class: "empty" }, "Waiting for events…")),
    );
    return;
  }
  body.replaceChildren(
    ...rows.map((event) =>
      el(
        "tr",
        { "data-position": event.position },
        el("td", {}, formatTime(event.occurredAt, true)),
        el("td", {}, el("code", {}, event.stream)),
        el("td", { class: "num" }, formatNumber(event.value, 2)),
        el("td", { class: "num" }, formatNumber(event.normalized)),
        el("td", { class: `flag-${event.flag}` }, event.flag || "–"),
      ),
    ),
  );
}
