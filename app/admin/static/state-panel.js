// The console's state panel: status, the scenario in force, active external events, the
// streams being modified, simulated time and speed. It redraws on every state refresh and
// ticks the clock and the time remaining locally between refreshes.

import { post } from "./api.js";
import {
  byId,
  el,
  errorText,
  formatNumber,
  formatSpan,
  formatTime,
  showMessage,
} from "./dom.js";
import {
  manualModifiers,
  onState,
  refreshState,
  scenarioRuns,
  simulatedNow,
  simulatedSecondsSinceFetch,
} from "./state-store.js";
import { describeChange } from "./modifier-kinds.js";
import { eventTruth } from "./truth.js";

const FEED_LABELS = {
  connecting: "Connecting to the live feed…",
  live: "Live: updates as they happen",
  reconnecting: "Feed disconnected: reconnecting…",
  error: "Feed error",
};

export function startStatePanel() {
  onState(render);
  window.setInterval(tick, 1000);
}

/** Show the feed's connection status next to the panel's title. */
export function showFeedStatus(status, detail) {
  const node = byId("feed-status");
  node.dataset.status = status;
  node.textContent = detail ? `${FEED_LABELS[status]}: ${detail}` : FEED_LABELS[status];
}

function render(state) {
  const status = byId("state-status");
  status.textContent = state.status;
  status.dataset.status = state.status;
  byId("state-speed").textContent = `${formatNumber(state.speed, 2)}×`;
  byId("state-epoch").textContent = String(state.epoch);
  byId("state-baseline").textContent = state.baselineState === "normal" ? "normal" : "modified";
  renderScenario(state);
  renderEvents(state.activeEvents || []);
  renderStreams(state);
  renderAnomalies(state.recentAnomalies || []);
  tick();
}

function tick() {
  const now = simulatedNow();
  if (now) byId("state-time").textContent = formatTime(now.toISOString(), true);
  const elapsed = simulatedSecondsSinceFetch();
  for (const node of document.querySelectorAll("[data-remaining]")) {
    node.textContent = formatSpan(Number(node.dataset.remaining) - elapsed);
  }
}

function remaining(seconds) {
  if (seconds === null || seconds === undefined) return el("span", {}, "–");
  return el("span", { "data-remaining": seconds }, formatSpan(seconds));
}

function renderScenario(state) {
  const box = byId("state-scenario");
  const run = state.activeScenario;
  if (!run) {
    box.replaceChildren(el("p", { class: "empty" }, "No scenario in force."));
    return;
  }
  const until = run.status === "active" ? "Time remaining" : "Settled in";
  box.replaceChildren(
    el("p", { class: "scenario-name", id: "state-scenario-name" }, run.name),
    el(
      "dl",
      { class: "facts" },
      fact("Status", el("span", { class: `pill pill-${run.status}` }, run.status)),
      fact("Started", formatTime(run.startTime)),
      fact(until, remaining(run.timeRemaining)),
      fact("Active until", formatTime(run.endsAt)),
      run.settlingUntil ? fact("Settled by", formatTime(run.settlingUntil)) : null,
      fact("Strength", `${Math.round((run.strength ?? 0) * 100)}% of its change in force`),
    ),
  );
}

function fact(term, ...details) {
  return [el("dt", {}, term), el("dd", {}, ...details)];
}

function impactText(event) {
  const impact = event.expectedImpact || {};
  const details = impact.details || [];
  const streams = details.length
    ? details.map((detail) => `${detail.stream} ${arrow(detail.direction)} ${detail.magnitude}`)
    : (impact.streams || []).map((stream) => `${stream} ${arrow(impact.direction)}`);
  return streams.join(", ");
}

function arrow(direction) {
  return { increase: "↑", decrease: "↓" }[direction] || "↕";
}

function renderEvents(events) {
  const list = byId("state-events");
  if (!events.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No external event in its impact window."));
    return;
  }
  list.replaceChildren(
    ...events.map((event) =>
      el(
        "li",
        { class: "event-item", "data-event-id": event.id },
        el("span", { class: `pill pill-${event.severity}` }, event.severity),
        " ",
        el("strong", {}, event.title),
        el("span", { class: "meta" }, ` ${formatTime(event.timestamp)}`),
        el("span", { class: eventTruth(event).className }, ` ${eventTruth(event).label}`),
        el("div", { class: "impact" }, impactText(event)),
      ),
    ),
  );
}

/** Every stream something is changing now, with what changes it and, for a manual
 * modifier, the id that ends it. */
function modifiedStreams(state) {
  const rows = [];
  for (const run of scenarioRuns(state)) {
    for (const stream of run.affectedStreams || []) {
      rows.push([stream.replace(/^rate:/, "rate "), `${run.name} (scenario, ${run.status})`]);
    }
  }
  for (const modifier of manualModifiers(state)) {
    const change = describeChange(modifier.type, modifier.value, modifier.sigma);
    rows.push([
      modifier.stream,
      `${change} ${scheduledFrom(modifier)}until ${formatTime(modifier.endsAt)} (${modifier.id})`,
      modifier.id,
    ]);
  }
  for (const event of state.activeEvents || []) {
    if (!event.actualImpact) continue;
    for (const stream of (event.expectedImpact || {}).streams || []) {
      rows.push([stream, `${event.title} (external event)`]);
    }
  }
  return rows;
}

function renderStreams(state) {
  const list = byId("state-streams");
  const rows = modifiedStreams(state);
  if (!rows.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No stream is being modified."));
    return;
  }
  list.replaceChildren(
    ...rows.map(([stream, why, modifierId]) =>
      el(
        "li",
        {},
        el("code", {}, stream),
        el("span", { class: "meta" }, ` ${why}`),
        modifierId ? endButton(modifierId, stream) : "",
      ),
    ),
  );
}

function scheduledFrom(modifier) {
  return modifier.status === "scheduled" ? `from ${formatTime(modifier.startTime)} ` : "";
}

function endButton(modifierId, stream) {
  const label = `End ${modifierId} on ${stream} now`;
  const button = el(
    "button",
    { type: "button", class: "secondary small", "aria-label": label },
    "End now",
  );
  button.addEventListener("click", () => endModifier(button, modifierId));
  return button;
}

async function endModifier(button, modifierId) {
  const message = byId("modifier-end-message");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const answer = await post(`/api/simulation/modifiers/${modifierId}/end`);
    const modifier = answer.modifier;
    showMessage(
      message,
      "success",
      `Ended ${modifier.id} on ${modifier.stream} at ${formatTime(modifier.endsAt, true)}.`,
    );
  } catch (error) {
    showMessage(message, "error", errorText(error), error.hint);
    button.disabled = false;
  } finally {
    button.removeAttribute("aria-busy");
    await refreshState().catch(() => {});
  }
}

function renderAnomalies(anomalies) {
  const list = byId("state-anomalies");
  const recent = anomalies.slice(0, 5);
  if (!recent.length) {
    list.replaceChildren(el("li", { class: "empty" }, "No critical reading in this epoch."));
    return;
  }
  list.replaceChildren(
    ...recent.map((anomaly) =>
      el(
        "li",
        {},
        el("code", {}, anomaly.stream),
        el(
          "span",
          { class: "meta" },
          ` ${formatNumber(anomaly.value, 2)} at ${formatTime(anomaly.occurredAt)}` +
            ` (score ${formatNumber(anomaly.normalized)})`,
        ),
      ),
    ),
  );
}

/** Report a failed state read in the panel (the last good state stays shown). */
export function showStateError(error) {
  showMessage(
    byId("state-error"),
    "error",
    `Could not read the state: ${error.message}`,
    error.hint,
  );
}

export function clearStateError() {
  showMessage(byId("state-error"), "error", "");
}
