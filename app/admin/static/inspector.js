// The data inspector (/inspect): streams by domain, a timeline per stream of the chosen
// domain, the window's external events and their measured impact, a stream's baseline
// statistics and live tail, and the relationship views.

import { get, query } from "./api.js";
import { byDomain, loadStreams } from "./catalog.js";
import { timelineChart } from "./charts.js";
import { byId, dottedName, el, errorText, formatNumber, plural, showMessage } from "./dom.js";
import { renderEventList, showImpact } from "./impact.js";
import { showRelations } from "./relations.js";
import { showStatistics } from "./stats.js";
import { startTailControls, tailStream } from "./tail.js";

const RANGES = { 7: "past 7 days", 30: "past 30 days" };

const view = {
  streams: [],
  domain: null,
  stream: null,
  days: 7,
  history: null,
  anomalyWindows: [],
};

function streamNav(groups) {
  return [...groups].map(([domain, members], index) =>
    el(
      "details",
      { open: index === 0 || undefined, "data-domain": domain },
      el("summary", {}, `${domain} (${members.length})`),
      el(
        "ul",
        {},
        el(
          "li",
          {},
          el(
            "button",
            {
              type: "button",
              "data-show-domain": domain,
              "aria-pressed": "false",
              onclick: () => chooseDomain(domain),
            },
            `All ${domain} timelines`,
          ),
        ),
        ...members.map((stream) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                "data-stream": stream.name,
                "aria-pressed": "false",
                onclick: () => chooseStream(stream),
              },
              dottedName(stream.name),
            ),
          ),
        ),
      ),
    ),
  );
}

function markPressed() {
  for (const button of document.querySelectorAll("[data-show-domain]")) {
    button.setAttribute("aria-pressed", String(button.dataset.showDomain === view.domain));
  }
  for (const button of document.querySelectorAll("[data-stream]")) {
    button.setAttribute(
      "aria-pressed",
      String(view.stream && button.dataset.stream === view.stream.name),
    );
  }
}

async function chooseDomain(domain) {
  view.domain = domain;
  markPressed();
  await loadTimelines();
}

async function chooseStream(stream) {
  view.stream = stream;
  markPressed();
  showStatistics(stream);
  tailStream(stream.name);
  if (view.domain !== stream.domain) await chooseDomain(stream.domain);
  const card = byId(chartId(stream.name));
  if (card) card.scrollIntoView({ block: "nearest" });
}

function chartId(name) {
  return `chart-${name.replaceAll(".", "-")}`;
}

async function loadTimelines() {
  const charts = byId("charts");
  const message = byId("timeline-message");
  byId("timeline-title").textContent = `${view.domain}, ${RANGES[view.days]}`;
  charts.setAttribute("aria-busy", "true");
  try {
    const parameters = { streams: `${view.domain}.*`, range: RANGES[view.days] };
    const path = `/api/simulation/history${query(parameters)}`;
    view.history = await get(path);
    view.anomalyWindows = [];
    drawTimelines();
    renderEventList(view.history.events);
    showMessage(message, "info", "");
    loadAnomalyWindows(parameters, view.history);
  } catch (error) {
    showMessage(message, "error", `Could not read the history: ${errorText(error)}`, error.hint);
  } finally {
    charts.setAttribute("aria-busy", "false");
  }
}

/** The ground-truth windows that name an anomaly's kind (a manual modifier's, a scenario
 * run's shapes and faults of delivery) on the shown streams, drawn once they are read
 * (the truth of a range takes a moment to compute; the timelines do not wait for it), unless
 * another domain, range or refresh has been drawn meanwhile. */
async function loadAnomalyWindows(parameters, history) {
  try {
    const truth = await get(`/api/ground-truth${query(parameters)}`);
    if (view.history !== history) return;
    view.anomalyWindows = truth.windows.filter((window) => window.kind);
    if (view.anomalyWindows.length) drawTimelines();
  } catch (error) {
    showMessage(
      byId("timeline-message"),
      "error",
      `Could not read the ground truth: ${errorText(error)}`,
      error.hint,
    );
  }
}

function eventsNaming(name, events) {
  return events.filter((event) => (event.expectedImpact.streams || []).includes(name));
}

function chartSummary(name, points, events) {
  const full = points.filter((point) => !point.partial);
  const critical = full.filter((point) => point.flag === "critical").length;
  const warning = full.filter((point) => point.flag === "warning").length;
  const causal = events.filter((event) => event.actualImpact).length;
  const hours = `${critical} critical and ${plural(warning, "warning hour")}`;
  const truths = `${causal} causal, ${plural(events.length - causal, "red herring")}`;
  return `${hours}; ${plural(events.length, "external event")} (${truths})`;
}

function lastHour(points, unit) {
  const last = [...points].reverse().find((point) => !point.partial);
  if (!last) return "";
  return `last full hour ${formatNumber(last.value, 2)} ${unit}, score ${formatNumber(last.normalized)}`;
}

function chartCard(stream, points, width) {
  const history = view.history;
  const events = eventsNaming(stream.name, history.events);
  const summaryId = `${chartId(stream.name)}-summary`;
  return el(
    "article",
    { class: "chart-card", id: chartId(stream.name), "data-stream": stream.name },
    el(
      "header",
      {},
      el("h3", {}, dottedName(stream.name)),
      el("span", { class: "meta" }, lastHour(points, stream.unit)),
      el(
        "button",
        {
          type: "button",
          class: "secondary",
          "aria-label": `Statistics and live tail of ${stream.name}`,
          onclick: () => chooseStream(stream),
        },
        "Details",
      ),
    ),
    el(
      "figure",
      {
        "aria-describedby": summaryId,
        "aria-label": `${stream.name}: normalized score over ${RANGES[view.days]}`,
      },
      timelineChart({
        points,
        events,
        windows: view.anomalyWindows.filter((window) => window.stream === stream.name),
        start: new Date(history.timeRange.start),
        end: new Date(history.timeRange.end),
        liveSince: history.coverage.live ? history.coverage.live.start : null,
        unit: stream.unit,
        width,
        onSelectEvent: showImpact,
      }),
      el("figcaption", { class: "help", id: summaryId }, chartSummary(stream.name, points, events)),
    ),
  );
}

function drawTimelines() {
  const charts = byId("charts");
  const width = Math.max(260, charts.clientWidth - 26);
  const members = view.streams.filter((stream) => stream.domain === view.domain);
  charts.replaceChildren(
    ...members.map((stream) => chartCard(stream, view.history.streams[stream.name] || [], width)),
  );
}

function redrawOnResize() {
  let lastWidth = byId("charts").clientWidth;
  let timer = null;
  new ResizeObserver(() => {
    const width = byId("charts").clientWidth;
    if (Math.abs(width - lastWidth) < 8 || !view.history) return;
    lastWidth = width;
    window.clearTimeout(timer);
    timer = window.setTimeout(drawTimelines, 150);
  }).observe(byId("charts"));
}

async function chooseRange(days) {
  view.days = days;
  await Promise.all([loadTimelines(), showRelations(RANGES[days])]);
}

async function main() {
  view.streams = await loadStreams();
  const groups = byDomain(view.streams);
  byId("stream-nav").replaceChildren(...streamNav(groups));
  byId("range-select").addEventListener("change", (event) =>
    chooseRange(Number(event.target.value)),
  );
  byId("timeline-refresh").addEventListener("click", () => chooseRange(view.days));
  startTailControls();
  redrawOnResize();
  const [, members] = [...groups][0];
  await Promise.all([chooseStream(members[0]), showRelations(RANGES[view.days])]);
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  showMessage(
    byId("timeline-message"),
    "error",
    `The inspector could not start: ${errorText(error)}`,
    error.hint,
  );
});
