// The admin console (/admin): wires the state store to the live feed and starts each part.

import { loadStreams } from "./catalog.js";
import { startClock } from "./clock.js";
import { Feed } from "./feed.js";
import { startInjectForm } from "./inject-form.js";
import { startModifierForm } from "./modifier-form.js";
import { startSaved } from "./saved.js";
import { startScenarios } from "./scenarios.js";
import { clearStateError, showFeedStatus, showStateError, startStatePanel } from "./state-panel.js";
import { refreshState } from "./state-store.js";

/** Modifiers and events leave their windows without a log event: re-read now and then. */
const REFRESH_MS = 15000;

function refresh() {
  return refreshState().then(clearStateError, showStateError);
}

/** Scenario, external and control notices reach every subscriber whatever its topics, so
 * the console subscribes to one quiet stream (a low-cadence one) and re-reads the state on
 * each notice. */
async function quietTopic() {
  const streams = await loadStreams();
  const quiet = streams.find((stream) => stream.cadence === "low" && stream.shape === "entity");
  return (quiet || streams[0]).name;
}

async function startFeed() {
  const feed = new Feed([await quietTopic()], {
    onSubscribed: refresh,
    onNotice: refresh,
    onStatus: showFeedStatus,
  });
  feed.start();
  return feed;
}

async function main() {
  startStatePanel();
  await refresh();
  window.setInterval(refresh, REFRESH_MS);
  await Promise.all([
    startScenarios(),
    startFeed(),
    Promise.resolve(startClock()),
    Promise.resolve(startSaved()),
    startInjectForm(),
    startModifierForm(),
  ]);
  document.body.dataset.ready = "true";
}

main();
