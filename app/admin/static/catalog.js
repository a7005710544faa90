// The stream catalog (GET /api/streams) and baseline statistics, read once per page.

import { get, query } from "./api.js";
import { el } from "./dom.js";

let streams = null;
const statistics = new Map();

/** Every stream's summary, in the catalog's order. */
export function loadStreams() {
  if (!streams) streams = get("/api/streams").then((body) => body.streams);
  return streams;
}

/** Streams grouped by domain, in first-seen order: Map(domain -> [stream]). */
export function byDomain(list) {
  const groups = new Map();
  for (const stream of list) {
    if (!groups.has(stream.domain)) groups.set(stream.domain, []);
    groups.get(stream.domain).push(stream);
  }
  return groups;
}

/** Fill a <select> with every stream, grouped by domain. */
export function fillStreamSelect(select, list, chosen = "") {
  const groups = [...byDomain(list)].map(([domain, members]) =>
    el(
      "optgroup",
      { label: domain },
      ...members.map((stream) =>
        el("option", { value: stream.name, selected: stream.name === chosen }, stream.name),
      ),
    ),
  );
  select.replaceChildren(...groups);
}

/** One stream's baseline statistics (GET /api/baseline/statistics?streams=name). */
export function loadStatistics(name) {
  if (!statistics.has(name)) {
    const request = get(`/api/baseline/statistics${query({ streams: name })}`).then(
      (body) => body.streams[name],
    );
    request.catch(() => statistics.delete(name));
    statistics.set(name, request);
  }
  return statistics.get(name);
}
