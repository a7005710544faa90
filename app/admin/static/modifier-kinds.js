// How a manual modifier changes its stream, in words: the form's preview and the state panel
// say it the same way.

/** The types that multiply a stream's rate (the only ones a chain stream takes, with missing). */
export const MULTIPLYING = ["multiplier", "spike", "trend"];

/** The types that take no value. */
export const VALUELESS = ["missing", "flatline"];

export function describeChange(type, value) {
  if (type === "multiplier") return `×${value}`;
  if (type === "spike") return `spikes to ×${value}`;
  if (type === "trend") return `drifts from ×1 to ×${value}`;
  if (type === "missing") return "stops (nothing arrives)";
  if (type === "variance") return `noise ×${value}, level unchanged`;
  if (type === "flatline") return "holds its last sample";
  if (type === "seasonality") {
    if (value === 1) return "loses its daily shape (a flat day, the same total)";
    if (value === 2) return "has its day turned over (the same total)";
    return `loses ${Math.round(value * 100)}% of its daily shape (the same total)`;
  }
  return `${type} ${value}`;
}
