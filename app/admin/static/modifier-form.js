// The stream-modifier form (POST /api/simulation/modifiers), with a preview of what the
// stream will do against its baseline mean.

import { post } from "./api.js";
import { fillStreamSelect, loadStatistics, loadStreams } from "./catalog.js";
import {
  byId,
  errorText,
  formatNumber,
  formatSpan,
  formatTime,
  hoursToDuration,
  showMessage,
} from "./dom.js";
import { clearFieldErrors, showFieldError } from "./fields.js";
import {
  DELIVERY_FAULTS,
  MULTIPLYING,
  SIGMA_TYPES,
  VALUELESS,
  describeChange,
  describeSigma,
} from "./modifier-kinds.js";
import { refreshState, simulatedNow } from "./state-store.js";

let streamsByName = new Map();

export async function startModifierForm() {
  const form = byId("modifier-form");
  const streams = await loadStreams();
  streamsByName = new Map(streams.map((stream) => [stream.name, stream]));
  fillStreamSelect(form.elements.stream, streams);
  form.addEventListener("input", () => updatePreview(form));
  form.addEventListener("change", () => updatePreview(form));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(form);
  });
  updatePreview(form);
}

/** The request body the form stands for (raw text is sent as typed: the API judges it). */
export function modifierBody(form) {
  const fields = form.elements;
  const value = Number(fields.value.value);
  const hours = Number(fields.duration.value);
  const body = {
    stream: fields.stream.value,
    type: fields.type.value,
    value: fields.value.value === "" || Number.isNaN(value) ? fields.value.value : value,
    duration:
      fields.duration.value === "" || Number.isNaN(hours)
        ? fields.duration.value
        : hoursToDuration(hours),
  };
  if (VALUELESS.includes(body.type)) delete body.value; // it stops, or holds: no value
  if (fields.unit.value === "sigma" && SIGMA_TYPES.includes(body.type)) {
    body.sigma = body.value; // the service works out the multiplier
    delete body.value;
  }
  return body;
}

function when(body) {
  return body.type === "trend" ? "by its end" : "while in force";
}

function expectedValue(body, mean) {
  if (MULTIPLYING.includes(body.type)) return mean * body.value;
  if (body.type === "additive") return mean + body.value;
  if (body.type === "missing") return 0;
  if (["variance", "flatline", "seasonality", "correlation-break"].includes(body.type)) return mean;
  if (DELIVERY_FAULTS.includes(body.type)) return mean;
  return body.value;
}

async function updatePreview(form) {
  const body = modifierBody(form);
  const preview = byId("modifier-preview");
  const stream = streamsByName.get(body.stream);
  if (!stream) return;
  const change =
    "sigma" in body ? describeSigma(body.type, body.sigma) : describeChange(body.type, body.value);
  form.elements.value.disabled = VALUELESS.includes(body.type);
  form.elements.unit.disabled = !SIGMA_TYPES.includes(body.type);
  const hours = Number(form.elements.duration.value);
  const now = simulatedNow();
  const until =
    now && !Number.isNaN(hours)
      ? ` until about ${formatTime(new Date(now.getTime() + hours * 3600000).toISOString())}`
      : "";
  const parts = [`${body.stream} ${change} for ${formatSpan(hours * 3600)}${until}.`];
  const chainTypes = [...MULTIPLYING, "missing", "correlation-break", ...DELIVERY_FAULTS];
  if (stream.model === "chain" && !chainTypes.includes(body.type)) {
    parts.push(
      "This stream is produced by other streams' events: only a multiplier, spike, trend, " +
        "missing or correlation break can change it.",
    );
  }
  if (stream.model !== "chain" && body.type === "correlation-break") {
    parts.push("This stream follows no cause: a correlation break needs a stream of model chain.");
  }
  preview.textContent = parts.join(" ");
  byId("modifier-body").textContent = JSON.stringify(body, null, 2);
  try {
    const statistics = await loadStatistics(body.stream);
    if ("sigma" in body) return; // its multiplier is the service's to work out
    if (typeof body.value !== "number" && !VALUELESS.includes(body.type)) return;
    if (body.type === "missing" && stream.model === "gauge") return; // a gap: no value at all
    const expected = expectedValue(body, statistics.mean);
    parts.splice(
      1,
      0,
      `Baseline mean ${formatNumber(statistics.mean, 2)} ${stream.unit} → ` +
        `about ${formatNumber(expected, 2)} ${stream.unit} ${when(body)}.`,
    );
    if (modifierBody(form).stream === body.stream) preview.textContent = parts.join(" ");
  } catch {
    // The preview keeps its text without the baseline figures.
  }
}

async function submit(form) {
  const message = byId("modifier-message");
  const button = form.querySelector("button[type=submit]");
  clearFieldErrors(form);
  showMessage(message, "info", "");
  button.disabled = true;
  try {
    const answer = await post("/api/simulation/modifiers", modifierBody(form));
    const modifier = answer.modifier;
    showMessage(
      message,
      "success",
      `Applied ${modifier.id} on ${modifier.stream} until ${formatTime(modifier.endsAt)}.`,
    );
    await refreshState().catch(() => {});
  } catch (error) {
    if (showFieldError(form, error))
      showMessage(
        message,
        "error",
        "The simulator refused the modifier: see the field marked above.",
      );
    else showMessage(message, "error", errorText(error), error.hint);
  } finally {
    button.disabled = false;
  }
}
