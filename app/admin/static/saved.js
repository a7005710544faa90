// Saved scenarios: the scenario, manual modifiers and injected events in force, kept under a
// name in this browser's localStorage as the request bodies that recreate them; applied
// again through the API, exported and imported as JSON files.

import { post } from "./api.js";
import { byId, el, errorText, formatTime, hoursToDuration, plural, showMessage } from "./dom.js";
import { currentState, manualModifiers, refreshState, scenarioIsActive } from "./state-store.js";

const STORAGE_KEY = "marketsim.savedScenarios";
const FORMAT = "marketsim.saved-scenarios";

export function startSaved() {
  const form = byId("saved-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveCurrent(form);
  });
  byId("saved-export-all").addEventListener("click", () =>
    download("marketsim-saved-scenarios.json", readAll()),
  );
  byId("saved-import").addEventListener("change", (event) => importFile(event.target));
  render();
}

function readAll() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) || "[]");
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

function writeAll(saved) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
  render();
}

function modifierBody(modifier) {
  const seconds = (new Date(modifier.endsAt) - new Date(modifier.startTime)) / 1000;
  return {
    stream: modifier.stream,
    type: modifier.type,
    value: modifier.value,
    duration: hoursToDuration(seconds / 3600),
  };
}

function eventBody(event) {
  const body = {
    title: event.title,
    description: event.description,
    actualImpact: event.actualImpact,
  };
  if (event.template) return { template: event.template, ...body };
  const impact = event.expectedImpact;
  return {
    type: event.type,
    severity: event.severity,
    ...body,
    expectedImpact: {
      streams: impact.details.map(({ stream, direction, magnitude }) => ({
        stream,
        direction,
        magnitude,
      })),
      delay: impact.delay,
      duration: impact.duration,
    },
  };
}

/** What is in force now, as request bodies. */
function snapshotOf(state, name) {
  const injected = (state.activeEvents || []).filter(
    (event) => event.source && event.source.kind === "api",
  );
  return {
    name,
    savedAt: new Date().toISOString(),
    scenarioId: scenarioIsActive(state) ? state.activeScenario.scenarioId : null,
    modifiers: manualModifiers(state).map(modifierBody),
    events: injected.map(eventBody),
  };
}

function saveCurrent(form) {
  const message = byId("saved-message");
  const name = form.elements.name.value.trim();
  const state = currentState();
  if (!name) {
    showMessage(message, "error", "Give the saved scenario a name.");
    form.elements.name.focus();
    return;
  }
  const entry = snapshotOf(state, name);
  if (!entry.scenarioId && !entry.modifiers.length && !entry.events.length) {
    showMessage(
      message,
      "error",
      "Nothing to save: no scenario, manual modifier or injected event is in force.",
    );
    return;
  }
  writeAll([...readAll().filter((saved) => saved.name !== name), entry]);
  showMessage(message, "success", `Saved “${name}”: ${summary(entry)}.`);
}

function summary(entry) {
  const parts = [];
  if (entry.scenarioId) parts.push(`scenario ${entry.scenarioId}`);
  parts.push(plural(entry.modifiers.length, "modifier"), plural(entry.events.length, "event"));
  return parts.join(", ");
}

function render() {
  const list = byId("saved-list");
  const saved = readAll();
  if (!saved.length) {
    list.replaceChildren(el("li", { class: "empty" }, "Nothing saved in this browser yet."));
    return;
  }
  list.replaceChildren(...saved.map(savedItem));
}

function savedItem(entry) {
  return el(
    "li",
    { class: "saved-item" },
    el("strong", {}, entry.name),
    el(
      "span",
      { class: "meta" },
      ` ${summary(entry)}; saved ${formatTime(entry.savedAt)} (wall time)`,
    ),
    el(
      "div",
      { class: "row-actions" },
      el(
        "button",
        { type: "button", onclick: () => apply(entry), "aria-label": `Apply ${entry.name}` },
        "Apply",
      ),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => download(`${slug(entry.name)}.json`, [entry]),
          "aria-label": `Export ${entry.name}`,
        },
        "Export",
      ),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => remove(entry.name),
          "aria-label": `Delete ${entry.name}`,
        },
        "Delete",
      ),
    ),
  );
}

function remove(name) {
  writeAll(readAll().filter((saved) => saved.name !== name));
  showMessage(byId("saved-message"), "success", `Deleted “${name}”.`);
}

/** Recreate a saved scenario through the API; every request's outcome is reported. */
async function apply(entry) {
  const message = byId("saved-message");
  const requests = [];
  if (entry.scenarioId)
    requests.push(["/api/simulation/scenario", { scenarioId: entry.scenarioId }]);
  for (const body of entry.modifiers) requests.push(["/api/simulation/modifiers", body]);
  for (const body of entry.events) requests.push(["/api/events", body]);
  const failures = [];
  for (const [path, body] of requests) {
    try {
      await post(path, body);
    } catch (error) {
      failures.push(`${path}: ${errorText(error)}`);
    }
  }
  await refreshState().catch(() => {});
  const applied = requests.length - failures.length;
  const text = `Applied “${entry.name}”: ${applied} of ${requests.length} requests succeeded.`;
  showMessage(message, failures.length ? "error" : "success", text, failures.join("; "));
}

function slug(name) {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-|-$/g, "") || "saved-scenario"
  );
}

function download(filename, scenarios) {
  const blob = new Blob([JSON.stringify({ format: FORMAT, version: 1, scenarios }, null, 2)], {
    type: "application/json",
  });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

/** The saved scenarios of an exported file, or an Error saying what is wrong with it. */
export function parseExport(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error("the file is not JSON");
  }
  if (!body || body.format !== FORMAT || !Array.isArray(body.scenarios)) {
    throw new Error(
      `the file is not an export of saved scenarios (expected "format": "${FORMAT}")`,
    );
  }
  body.scenarios.forEach((entry, index) => {
    const valid =
      entry &&
      typeof entry.name === "string" &&
      entry.name.trim() &&
      Array.isArray(entry.modifiers) &&
      Array.isArray(entry.events);
    if (!valid)
      throw new Error(
        `scenario ${index + 1} needs a name, a list of modifiers and a list of events`,
      );
  });
  return body.scenarios;
}

async function importFile(input) {
  const message = byId("saved-message");
  const [file] = input.files;
  if (!file) return;
  try {
    const imported = parseExport(await file.text());
    const names = new Set(imported.map((entry) => entry.name));
    writeAll([...readAll().filter((saved) => !names.has(saved.name)), ...imported]);
    showMessage(
      message,
      "success",
      `Imported ${plural(imported.length, "saved scenario")} from ${file.name}.`,
    );
  } catch (error) {
    showMessage(message, "error", `Could not import ${file.name}: ${error.message}.`);
  } finally {
    input.value = "";
  }
}
