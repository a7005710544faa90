// Hand-written SVG charts: a stream's normalized timeline (with the 30/70 band, anomalies,
// external-event markers and their impact windows), a multi-series line chart, and bars.
// Each draws at the pixel width it is given, so text stays readable on any screen.

import { formatNumber, formatTime, svg } from "./dom.js";
import { eventTruth } from "./truth.js";

const HEIGHT = 160;
const MARGIN = { left: 30, right: 10, top: 16, bottom: 22 };
const DAY_MS = 86400000;

function scaleTime(start, end, width) {
  const from = start.getTime();
  const span = end.getTime() - from || 1;
  const plot = width - MARGIN.left - MARGIN.right;
  return (time) => MARGIN.left + ((new Date(time).getTime() - from) / span) * plot;
}

function scaleValue(low, high) {
  const plot = HEIGHT - MARGIN.top - MARGIN.bottom;
  const span = high - low || 1;
  return (value) => MARGIN.top + (1 - (value - low) / span) * plot;
}

function linePath(points, x, y) {
  return points
    .map(
      (point, index) => `${index ? "L" : "M"}${x(point[0]).toFixed(1)},${y(point[1]).toFixed(1)}`,
    )
    .join("");
}

/** Midnight-UTC ticks, spaced so that labels never collide. */
function dayTicks(start, end, width) {
  const days = (end - start) / DAY_MS;
  const every = Math.max(1, Math.ceil(days / Math.max(1, Math.floor((width - MARGIN.left) / 64))));
  const first = new Date(
    Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1),
  );
  const ticks = [];
  for (let time = first.getTime(); time < end.getTime(); time += every * DAY_MS)
    ticks.push(new Date(time));
  return ticks;
}

function timeAxis(start, end, width, x) {
  const bottom = HEIGHT - MARGIN.bottom;
  return dayTicks(start, end, width).map((tick) =>
    svg(
      "g",
      {},
      svg("line", { class: "axis", x1: x(tick), x2: x(tick), y1: MARGIN.top, y2: bottom }),
      svg(
        "text",
        { x: x(tick), y: HEIGHT - 6, "text-anchor": "middle" },
        tick.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" }),
      ),
    ),
  );
}

function pointTitle(point, unit) {
  const flag = point.partial ? "hour in progress" : point.flag;
  const reading = `${formatNumber(point.value, 2)} ${unit}`;
  return `${formatTime(point.timestamp)}: ${reading}, score ${formatNumber(point.normalized)} (${flag})`;
}

function anomalyDots(points, x, y, unit) {
  return points
    .filter((point) => point.partial || point.flag !== "normal")
    .map((point) => {
      const kind = point.partial ? "partial" : point.flag;
      const radius = { critical: 3.5, warning: 2.2, partial: 3 }[kind];
      return svg(
        "circle",
        {
          class: `${kind}-point`,
          cx: x(point.timestamp),
          cy: y(point.normalized),
          r: radius,
          "data-flag": kind,
        },
        svg("title", {}, pointTitle(point, unit)),
      );
    });
}

function eventMarker(event, x, onSelect) {
  const at = x(event.timestamp);
  const truth = eventTruth(event);
  const label = `${event.title}, ${truth.label}, ${formatTime(event.timestamp)}: show its measured impact`;
  const marker = svg(
    "g",
    {
      class: `marker ${truth.className}`,
      tabindex: 0,
      role: "button",
      "aria-label": label,
      "data-event-id": event.id,
      "data-causal": String(Boolean(event.actualImpact)),
    },
    svg("title", {}, label),
    svg("line", { x1: at, x2: at, y1: MARGIN.top - 4, y2: HEIGHT - MARGIN.bottom }),
    svg("path", {
      d: `M${at - 5},${MARGIN.top - 12}L${at + 5},${MARGIN.top - 12}L${at},${MARGIN.top - 3}Z`,
    }),
  );
  marker.addEventListener("click", () => onSelect(event));
  marker.addEventListener("keydown", (key) => {
    if (key.key === "Enter" || key.key === " ") {
      key.preventDefault();
      onSelect(event);
    }
  });
  return marker;
}

function impactWindow(event, x, start, end) {
  const window = event.impactWindow;
  if (!window || !event.actualImpact) return null;
  const from = Math.max(new Date(window.start).getTime(), start.getTime());
  const to = Math.min(new Date(window.end).getTime(), end.getTime());
  if (to <= from) return null;
  return svg("rect", {
    class: "window",
    x: x(from),
    width: Math.max(1, x(to) - x(from)),
    y: MARGIN.top,
    height: HEIGHT - MARGIN.top - MARGIN.bottom,
  });
}

/** An anomaly's ground-truth window (a manual modifier's, a scenario run's shape or fault):
 * the hours it acts on, shaded and named by its kind. */
function anomalyWindow(window, x, start, end) {
  const from = Math.max(new Date(window.start).getTime(), start.getTime());
  const to = Math.min(new Date(window.end).getTime(), end.getTime());
  if (to <= from) return null;
  const cause = window.source ? window.source.id : window.id.split(":")[0];
  const label = `${window.kind} (${cause}), ${formatTime(window.start)} to ${formatTime(window.end)}`;
  return svg(
    "rect",
    {
      class: "truth-window",
      x: x(from),
      width: Math.max(2, x(to) - x(from)),
      y: MARGIN.top,
      height: HEIGHT - MARGIN.top - MARGIN.bottom,
      "data-kind": window.kind,
      "data-window-id": window.id,
    },
    svg("title", {}, label),
  );
}

/**
 * One stream over a window, on the normalized 0-100 scale.
 * @param {object} options points (history points), events (external events naming the
 *   stream), windows (its anomalies' ground-truth windows), start, end (Date),
 *   liveSince (ISO or null), unit, width, onSelectEvent(event)
 */
export function timelineChart({
  points,
  events,
  windows = [],
  start,
  end,
  liveSince,
  unit,
  width,
  onSelectEvent,
}) {
  const x = scaleTime(start, end, width);
  const y = scaleValue(0, 100);
  const right = width - MARGIN.right;
  const inRange = (time) => new Date(time) >= start && new Date(time) <= end;
  const live = liveSince && inRange(liveSince) ? liveSince : null;
  return svg(
    "svg",
    {
      class: "chart",
      width,
      height: HEIGHT,
      viewBox: `0 0 ${width} ${HEIGHT}`,
      focusable: "false",
    },
    svg("rect", {
      class: "band",
      x: MARGIN.left,
      width: right - MARGIN.left,
      y: y(70),
      height: y(30) - y(70),
    }),
    ...events.map((event) => impactWindow(event, x, start, end)),
    ...windows.map((window) => anomalyWindow(window, x, start, end)),
    ...timeAxis(start, end, width, x),
    svg("line", { class: "mid", x1: MARGIN.left, x2: right, y1: y(50), y2: y(50) }),
    ...[0, 30, 70, 100].map((tick) =>
      svg("text", { x: MARGIN.left - 4, y: y(tick) + 4, "text-anchor": "end" }, String(tick)),
    ),
    live
      ? svg("line", {
          class: "live-line",
          x1: x(live),
          x2: x(live),
          y1: MARGIN.top,
          y2: HEIGHT - MARGIN.bottom,
        })
      : null,
    live ? svg("text", { x: x(live) + 3, y: HEIGHT - MARGIN.bottom - 4 }, "live") : null,
    svg("path", {
      class: "line",
      d: linePath(
        points.map((point) => [point.timestamp, point.normalized]),
        x,
        y,
      ),
    }),
    ...anomalyDots(points, x, y, unit),
    ...events
      .filter((event) => inRange(event.timestamp))
      .map((event) => eventMarker(event, x, onSelectEvent)),
  );
}

/**
 * Several series of raw values on one time axis (from 0 to the largest value).
 * @param {object} options series [{label, points, className}], start, end, width
 */
export function seriesChart({ series, start, end, width }) {
  const x = scaleTime(start, end, width);
  const top = Math.max(1, ...series.flatMap((one) => one.points.map((point) => point.value)));
  const y = scaleValue(0, top);
  return svg(
    "svg",
    {
      class: "chart",
      width,
      height: HEIGHT,
      viewBox: `0 0 ${width} ${HEIGHT}`,
      focusable: "false",
    },
    ...timeAxis(start, end, width, x),
    svg("line", { class: "axis", x1: MARGIN.left, x2: width - MARGIN.right, y1: y(0), y2: y(0) }),
    svg("text", { x: MARGIN.left - 4, y: y(top) + 4, "text-anchor": "end" }, compact(top)),
    svg("text", { x: MARGIN.left - 4, y: y(0) + 4, "text-anchor": "end" }, "0"),
    ...series.map((one) =>
      svg(
        "path",
        {
          class: one.className,
          d: linePath(
            one.points.map((point) => [point.timestamp, point.value]),
            x,
            y,
          ),
        },
        svg("title", {}, one.label),
      ),
    ),
  );
}

function compact(value) {
  return Number(value).toLocaleString("en-US", { notation: "compact", maximumFractionDigits: 1 });
}

/** 24 bars: a mean per hour of day (UTC). */
export function hourBars({ values, width, label }) {
  const height = 110;
  const plotTop = 8;
  const plotBottom = height - 18;
  const left = 6;
  const step = (width - left * 2) / values.length;
  const top = Math.max(1e-9, ...values);
  const bars = values.map((value, hour) => {
    const barHeight = ((plotBottom - plotTop) * value) / top;
    return svg(
      "rect",
      {
        x: left + hour * step + 1,
        y: plotBottom - barHeight,
        width: Math.max(1, step - 2),
        height: barHeight,
        fill: "#1f5fbf",
      },
      svg("title", {}, `${String(hour).padStart(2, "0")}:00 UTC: ${formatNumber(value, 2)}`),
    );
  });
  const labels = [0, 6, 12, 18].map((hour) =>
    svg(
      "text",
      { x: left + hour * step + step / 2, y: height - 4, "text-anchor": "middle" },
      `${hour}h`,
    ),
  );
  return svg(
    "svg",
    {
      class: "chart",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": label,
    },
    ...bars,
    ...labels,
  );
}
