// How an external event's ground truth reads to an operator. `actualImpact` says whether the
// event itself moved its streams; a scenario's own events are recorded with `false` because
// the scenario's modifiers carry their effect, so they are named as such, not as red herrings.

/** {label, className} for an external event. */
export function eventTruth(event) {
  if (event.actualImpact) return { label: "causal", className: "causal" };
  const scenario = event.source && event.source.kind === "scenario" && event.source.scenarioId;
  if (scenario) return { label: `part of scenario ${scenario}`, className: "scenario-event" };
  return { label: "red herring", className: "red-herring" };
}
