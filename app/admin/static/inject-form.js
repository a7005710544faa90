// The event-injection form (POST /api/events): from a library template, or custom with its
// expected impact. The preview shows what will be sent; the API validates, and its errors are
// shown at the field they name.

import { get, post } from "./api.js";
import { loadStreams, fillStreamSelect } from "./catalog.js";
import {
  byId,
  el,
  errorText,
  formatSpan,
  formatTime,
  hoursToDuration,
  parseDuration,
  showMessage,
} from "./dom.js";
import { clearFieldErrors, showFieldError } from "./fields.js";
import { refreshState } from "./state-store.js";

const DIRECTIONS = ["increase", "decrease"];
const MAGNITUDES = ["low", "medium", "high"];

/** template id -> its library entry (from GET /api/events/templates), for the preview. */
const templates = new Map();
let streamList = [];
/** Rows get ids from a counter, so that removing one never makes two share an id. */
let rowSerial = 0;

export async function startInjectForm() {
  const form = byId("inject-form");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form);
  });
  form.addEventListener("input", () => updatePreview(form));
  form.addEventListener("change", () => updatePreview(form));
  byId("impact-add").addEventListener("click", () => {
    addImpactRow(form);
    updatePreview(form);
  });
  streamList = await loadStreams();
  addImpactRow(form);
  updatePreview(form);
  await loadTemplates();
  updatePreview(form);
}

/** The library's templates, for the datalist and the preview. */
async function loadTemplates() {
  const library = await get("/api/events/templates").catch(() => ({ templates: [] }));
  for (const template of library.templates) templates.set(template.template, template);
  byId("template-list").replaceChildren(
    ...library.templates.map((template) =>
      el("option", { value: template.template, label: `${template.title} (${template.type})` }),
    ),
  );
}

function addImpactRow(form) {
  const rows = byId("impact-rows");
  rowSerial += 1;
  const index = rowSerial;
  const row = el("div", { class: "impact-row" });
  const streamSelect = el("select", { id: `impact-stream-${index}`, name: "impact-stream" });
  fillStreamSelect(streamSelect, streamList);
  row.append(
    labelled(`impact-stream-${index}`, "Stream", streamSelect),
    labelled(
      `impact-direction-${index}`,
      "Direction",
      choice(`impact-direction-${index}`, "impact-direction", DIRECTIONS),
    ),
    labelled(
      `impact-magnitude-${index}`,
      "Magnitude",
      choice(`impact-magnitude-${index}`, "impact-magnitude", MAGNITUDES),
    ),
    el(
      "button",
      {
        type: "button",
        class: "secondary remove-row",
        onclick: () => {
          row.remove();
          renumberRows();
          updatePreview(form);
        },
      },
      "Remove",
    ),
  );
  rows.append(row);
  renumberRows();
}

function labelled(id, text, control) {
  return el("div", { class: "field" }, el("label", { for: id }, text), control);
}

function choice(id, name, values) {
  return el("select", { id, name }, ...values.map((value) => el("option", { value }, value)));
}

/** Keep each row's API path (`expectedImpact.streams.<i>.<field>`) and accessible names in
 * step with its place. */
function renumberRows() {
  const rows = [...byId("impact-rows").children];
  rows.forEach((row, index) => {
    const number = index + 1;
    row.querySelector("label").textContent = `Stream ${number}`;
    for (const part of ["stream", "direction", "magnitude"]) {
      const control = row.querySelector(`[name=impact-${part}]`);
      control.dataset.field = `expectedImpact.streams.${index}.${part}`;
      if (part !== "stream")
        control.setAttribute(
          "aria-label",
          `${part[0].toUpperCase()}${part.slice(1)} of stream ${number}`,
        );
    }
    const remove = row.querySelector(".remove-row");
    remove.setAttribute("aria-label", `Remove stream ${number}`);
    remove.disabled = rows.length === 1;
  });
}

/** The datetime-local value read as UTC, or undefined for "now". */
function timestampOf(value) {
  if (!value) return undefined;
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

function numberOrRaw(raw) {
  const number = Number(raw);
  return raw === "" || Number.isNaN(number) ? raw : number;
}

/** The request body the form stands for. */
export function injectionBody(form) {
  const fields = form.elements;
  const body = {};
  const template = fields.template.value.trim();
  if (template) body.template = template;
  else {
    if (fields.type.value) body.type = fields.type.value;
    body.severity = fields.severity.value;
  }
  if (fields.title.value.trim()) body.title = fields.title.value.trim();
  if (fields.description.value.trim()) body.description = fields.description.value.trim();
  const timestamp = timestampOf(fields.timestamp.value);
  if (timestamp) body.timestamp = timestamp;
  body.actualImpact = fields.actualImpact.checked;
  if (!template) body.expectedImpact = impactOf(form);
  return body;
}

function impactOf(form) {
  const streams = [...byId("impact-rows").children].map((row) => ({
    stream: row.querySelector("[name=impact-stream]").value,
    direction: row.querySelector("[name=impact-direction]").value,
    magnitude: row.querySelector("[name=impact-magnitude]").value,
  }));
  const delay = numberOrRaw(form.elements.delay.value.trim());
  const duration = numberOrRaw(form.elements.duration.value.trim());
  return {
    streams,
    delay: typeof delay === "number" ? hoursToDuration(delay) : delay,
    duration: typeof duration === "number" ? hoursToDuration(duration) : duration,
  };
}

function arrow(direction) {
  return { increase: "↑", decrease: "↓" }[direction] || "↕";
}

function describeImpact(impact) {
  const streams = (impact.details || impact.streams || []).map((item) =>
    typeof item === "string" ? item : `${item.stream} ${arrow(item.direction)} ${item.magnitude}`,
  );
  const delay = parseDuration(impact.delay || "PT0S");
  const duration = formatSpan(parseDuration(impact.duration));
  const start = delay ? `after ${formatSpan(delay)}` : "at once";
  return `${streams.join(", ") || "no stream"}; ${start}, for ${duration}`;
}

function describe(body) {
  const when = body.timestamp ? formatTime(body.timestamp) : "now";
  const truth = body.actualImpact
    ? "causal: it will move its streams"
    : "a red herring: recorded, moves nothing";
  if (body.template) {
    const template = templates.get(body.template);
    const what = template
      ? `${template.title} (${template.severity}): ${describeImpact(template.expectedImpact)}`
      : "not a template of the library (the list offers them)";
    return `From template “${body.template}” at ${when}: ${what}. ${truth}.`;
  }
  const what = `${body.type || "(no type)"} event “${body.title || "(no title)"}” (${body.severity})`;
  return `${what} at ${when}: ${describeImpact(body.expectedImpact)}. ${truth}.`;
}

function updatePreview(form) {
  const usesTemplate = Boolean(form.elements.template.value.trim());
  byId("inject-custom").disabled = usesTemplate;
  const body = injectionBody(form);
  byId("inject-preview").textContent = describe(body);
  byId("inject-body").textContent = JSON.stringify(body, null, 2);
}

function outcome(event) {
  if (event.scheduled) return `Scheduled ${event.id} for ${formatTime(event.timestamp)}.`;
  if (event.retroactive) {
    const when = formatTime(event.timestamp);
    return `Injected ${event.id} in the past (${when}): history now includes it.`;
  }
  const from = formatTime(event.impactWindow.start);
  return `Injected ${event.id}: “${event.title}”, in force from ${from}.`;
}

async function submit(form) {
  const message = byId("inject-message");
  const button = form.querySelector("button[type=submit]");
  clearFieldErrors(form);
  showMessage(message, "info", "");
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const answer = await post("/api/events", injectionBody(form));
    showMessage(message, "success", outcome(answer.event));
    await refreshState().catch(() => {});
  } catch (error) {
    if (showFieldError(form, error))
      showMessage(message, "error", "The simulator refused the event: see the field marked above.");
    else showMessage(message, "error", errorText(error), error.hint);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
