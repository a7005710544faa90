// How a manual modifier changes its stream, in words: the form's preview and the state panel
// say it the same way.

/** The types that multiply a stream's rate (the only ones a chain stream takes, with missing). */
export const MULTIPLYING = ["multiplier", "spike", "trend"];

/** The types whose change can be given in the stream's standard deviations instead. */
export const SIGMA_TYPES = ["multiplier", "spike", "trend"];

/** The faults of delivery: what happened is unchanged, what arrives is not. */
export const DELIVERY_FAULTS = ["late", "out-of-order", "duplicate", "clock-skew"];

/** The types that take no value. */
export const VALUELESS = ["missing", "flatline", "correlation-break"];

/** A change given in the stream's standard deviations, before the service works out its
 * multiplier; `applied` (the modifier as the service lists it) shows both. */
export function describeSigma(type, sigma) {
  const signed = `${sigma > 0 ? "+" : ""}${sigma}σ`;
  if (type === "spike") return `spikes by ${signed} at that hour`;
  if (type === "trend") return `drifts to ${signed} at that hour`;
  return `moves by ${signed} at that hour`;
}

export function describeChange(type, value, sigma = null) {
  if (sigma !== null && sigma !== undefined) {
    return `${describeChange(type, value)} (${sigma > 0 ? "+" : ""}${sigma}σ)`;
  }
  if (type === "multiplier") return `×${value}`;
  if (type === "spike") return `spikes to ×${value}`;
  if (type === "trend") return `drifts from ×1 to ×${value}`;
  if (type === "missing") return "stops (nothing arrives)";
  if (type === "variance") return `noise ×${value}, level unchanged`;
  if (type === "flatline") return "holds its last sample";
  if (type === "correlation-break") return "stops following its causes (arrives as the calendar expects)";
  if (type === "late") return `arrives ${value} min late (what happened unchanged)`;
  if (type === "out-of-order") return `arrives up to ${value} min late, out of order`;
  if (type === "duplicate") return `has ${Math.round(value * 100)}% of its events delivered twice`;
  if (type === "clock-skew") return `is stamped ${Math.abs(value)} min ${value < 0 ? "behind" : "ahead"}`;
  if (type === "seasonality") {
    if (value === 1) return "loses its daily shape (a flat day, the same total)";
    if (value === 2) return "has its day turned over (the same total)";
    return `loses ${Math.round(value * 100)}% of its daily shape (the same total)`;
  }
  return `${type} ${value}`;
}
