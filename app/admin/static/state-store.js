// The simulation state as GET /api/simulation/state last answered, shared by the console's
// parts. Refreshes coalesce: a burst of feed notices costs at most two requests.

import { get } from "./api.js";

let current = null;
let fetchedAt = 0;
let inFlight = null;
let again = false;
const listeners = new Set();

/** Call `listener(state)` now (if known) and after every refresh. */
export function onState(listener) {
  listeners.add(listener);
  if (current) listener(current);
}

export function currentState() {
  return current;
}

/** Simulated seconds elapsed since the state was read, by the clock's speed. */
export function simulatedSecondsSinceFetch() {
  if (!current) return 0;
  return ((Date.now() - fetchedAt) / 1000) * current.speed;
}

/** The simulated time now, carried forward from the last read at the clock's speed. */
export function simulatedNow() {
  if (!current) return null;
  const base = new Date(current.currentSimulationTime).getTime();
  return new Date(base + simulatedSecondsSinceFetch() * 1000);
}

/** Read the state again; concurrent calls share one request plus at most one more. */
export function refreshState() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = get("/api/simulation/state")
    .then((state) => {
      current = state;
      fetchedAt = Date.now();
      for (const listener of listeners) listener(state);
      return state;
    })
    .finally(() => {
      inFlight = null;
      if (again) {
        again = false;
        refreshState();
      }
    });
  return inFlight;
}

/** The manual modifiers in force (the state lists scenario runs first, then these). */
export function manualModifiers(state) {
  return (state.activeModifiers || []).filter((modifier) => modifier.type !== "scenario");
}

/** Scenario runs not yet settled: active or settling. */
export function scenarioRuns(state) {
  return (state.activeModifiers || []).filter((modifier) => modifier.type === "scenario");
}

/** Whether a scenario is active now (its duration not over, not stopped). */
export function scenarioIsActive(state) {
  return Boolean(state && state.activeScenario && state.activeScenario.status === "active");
}
