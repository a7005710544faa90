// The scenario cards (from GET /api/simulation/scenarios), Stop and Reset to baseline.

import { get, post } from "./api.js";
import { byId, el, errorText, formatSpan, formatTime, parseDuration, showMessage } from "./dom.js";
import { describeChange } from "./modifier-kinds.js";
import {
  currentState,
  manualModifiers,
  onState,
  refreshState,
  scenarioIsActive,
} from "./state-store.js";

const busy = new Set();

export async function startScenarios() {
  byId("stop-button").addEventListener("click", stopScenario);
  byId("reset-button").addEventListener("click", openResetDialog);
  byId("reset-confirm").addEventListener("click", confirmReset);
  byId("reset-cancel").addEventListener("click", () => byId("reset-dialog").close());
  onState(updateControls);
  await loadCards();
}

async function loadCards() {
  const grid = byId("scenario-cards");
  try {
    const { scenarios, skipped } = await get("/api/simulation/scenarios");
    grid.replaceChildren(...scenarios.map(card));
    grid.setAttribute("aria-busy", "false");
    if (skipped.length) {
      showMessage(byId("scenario-skipped"), "error", `Skipped in config: ${skipped.join("; ")}`);
    }
    const state = currentState();
    if (state) updateControls(state);
  } catch (error) {
    grid.setAttribute("aria-busy", "false");
    showMessage(
      byId("scenario-skipped"),
      "error",
      `Could not list the scenarios: ${errorText(error)}`,
      error.hint,
    );
  }
}

function card(scenario) {
  const id = `scenario-${scenario.id}`;
  const message = el("p", { class: "message", id: `${id}-message`, role: "status", hidden: true });
  const button = el(
    "button",
    {
      type: "button",
      class: "activate",
      "data-scenario": scenario.id,
      "aria-describedby": `${id}-title ${id}-message`,
    },
    "Activate",
  );
  button.addEventListener("click", () => activate(scenario, button, message));
  const settling = scenario.settling;
  return el(
    "article",
    { class: "card scenario-card", id, "data-scenario": scenario.id },
    el("h3", { id: `${id}-title` }, scenario.name),
    el("p", {}, scenario.description),
    el(
      "dl",
      { class: "facts" },
      el("dt", {}, "Duration"),
      el("dd", {}, formatSpan(parseDuration(scenario.duration))),
      el("dt", {}, "Settles"),
      el("dd", {}, `${settling.curve}, over ${formatSpan(parseDuration(settling.duration))}`),
      scenario.events.length
        ? [el("dt", {}, "Events"), el("dd", {}, scenario.events.join(", "))]
        : null,
      anomalies(scenario),
    ),
    el("div", { class: "card-actions" }, button),
    message,
  );
}

/** What the scenario makes that a detector is scored on beyond its level changes: its shapes
 * and faults of delivery, each labelled in the ground truth with its kind. */
function anomalies(scenario) {
  const made = [...scenario.shapes, ...scenario.deliveries];
  if (!made.length) return null;
  return [
    el("dt", {}, "Anomalies"),
    ...made.map((one) =>
      el(
        "dd",
        { class: "scenario-anomaly", "data-kind": one.type },
        `${one.stream} ${describeChange(one.type, one.value)}`,
      ),
    ),
  ];
}

async function activate(scenario, button, message) {
  busy.add(scenario.id);
  button.textContent = "Activating…";
  button.setAttribute("aria-busy", "true");
  updateControls(currentState());
  showMessage(message, "info", "");
  message.setAttribute("role", "status");
  try {
    const answer = await post("/api/simulation/scenario", { scenarioId: scenario.id });
    showMessage(
      message,
      "success",
      `Activated. Settled by ${formatTime(answer.settledBy)} ` +
        `(about ${formatSpan(parseDuration(answer.estimatedDuration))} simulated).`,
    );
  } catch (error) {
    message.setAttribute("role", "alert");
    showMessage(message, "error", errorText(error), error.hint);
  } finally {
    busy.delete(scenario.id);
    button.removeAttribute("aria-busy");
    await refreshState().catch(() => {});
    updateControls(currentState());
  }
}

/** Activate and Stop follow the state: one scenario active at a time. */
function updateControls(state) {
  const active = scenarioIsActive(state);
  const activeId = active ? state.activeScenario.scenarioId : null;
  for (const button of document.querySelectorAll("button.activate")) {
    const id = button.dataset.scenario;
    button.disabled = active || busy.size > 0;
    if (!busy.has(id)) button.textContent = id === activeId ? "Active" : "Activate";
    button.closest(".scenario-card").classList.toggle("is-active", id === activeId);
  }
  byId("activate-note").hidden = !active;
  byId("stop-button").disabled = !active;
  describeSettling(state);
}

function describeSettling(state) {
  const note = byId("stop-note");
  const run = state && state.activeScenario;
  if (run && run.status === "settling") {
    note.textContent = `${run.name} is settling: settled by ${formatTime(run.settlingUntil)}.`;
  } else if (run) {
    const until = formatTime(run.endsAt);
    note.textContent = `${run.name} is active until ${until}; Stop starts its settling now.`;
  } else {
    note.textContent = "No scenario is active.";
  }
}

async function stopScenario() {
  const button = byId("stop-button");
  const message = byId("stop-message");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const answer = await post("/api/simulation/stop");
    showMessage(
      message,
      "success",
      `Stopped: settling, settled by ${formatTime(answer.settlingUntil)}.`,
    );
  } catch (error) {
    showMessage(message, "error", errorText(error), error.hint);
  } finally {
    button.removeAttribute("aria-busy");
    await refreshState().catch(() => {});
  }
}

/** What a reset clears, from the state as last read. */
function resetConsequences(state) {
  const items = [];
  if (state.activeScenario) {
    items.push(`the scenario ${state.activeScenario.name} (${state.activeScenario.status})`);
  }
  for (const modifier of manualModifiers(state)) {
    items.push(
      `the modifier ${modifier.id} on ${modifier.stream} (${modifier.type} ${modifier.value})`,
    );
  }
  const injected = (state.activeEvents || []).filter(
    (event) => event.source && event.source.kind === "api",
  );
  for (const event of injected) items.push(`the injected event “${event.title}”`);
  items.push("every injected or scheduled event of this epoch, and any history they changed");
  if (state.speed !== 1)
    items.push(`the clock speed (${state.speed}×): simulated time becomes wall time at 1×`);
  else items.push("simulated time: it becomes wall time again");
  items.push(
    `epoch ${state.epoch} ends and epoch ${state.epoch + 1} begins; earlier epochs stay in the log`,
  );
  return items;
}

function openResetDialog() {
  const state = currentState();
  const list = byId("reset-list");
  list.replaceChildren(
    ...(state ? resetConsequences(state) : ["everything of the current epoch"]).map((item) =>
      el("li", {}, item),
    ),
  );
  showMessage(byId("reset-message"), "info", "");
  byId("reset-dialog").showModal();
  byId("reset-cancel").focus();
}

async function confirmReset() {
  const button = byId("reset-confirm");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const answer = await post("/api/simulation/reset");
    byId("reset-dialog").close();
    showMessage(byId("stop-message"), "success", `Reset: epoch ${answer.epoch} began.`);
    await refreshState().catch(() => {});
  } catch (error) {
    showMessage(byId("reset-message"), "error", errorText(error), error.hint);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
