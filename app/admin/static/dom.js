// Small DOM and formatting helpers shared by both pages. Text always goes in as text nodes,
// never as HTML, so nothing the API returns can inject markup.

/** Build an element: el("p", {class: "hint", id: "x"}, "text", childElement). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attributes);
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Build an SVG element the same way. */
export function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttributes(node, attributes);
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function setAttributes(node, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/** A dotted name with a line-break opportunity after each dot ("customer.<wbr>app..."). */
export function dottedName(name) {
  const parts = name.split(".");
  return parts.flatMap((part, index) =>
    index < parts.length - 1 ? [`${part}.`, el("wbr")] : [part],
  );
}

export function byId(id) {
  return document.getElementById(id);
}

/** "2026-11-25 21:15 UTC" from an ISO time (times are simulated, always shown in UTC). */
export function formatTime(iso, withSeconds = false) {
  if (!iso) return "–";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString().replace("T", " ");
  return `${text.slice(0, withSeconds ? 19 : 16)} UTC`;
}

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const DURATION = new RegExp(
  `^P(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
);

/** Seconds from an ISO-8601 duration such as "PT3H", "P1DT2H" or "PT30M". */
export function parseDuration(text) {
  const match = DURATION.exec(text || "");
  if (!match) return null;
  const [weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part || 0));
  return (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + seconds;
}

/** "1 event", "3 events". */
export function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** "2 d 3 h", "3 h 5 min", "40 s": a span for people. */
export function formatSpan(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  const total = Math.max(0, Math.round(seconds));
  const days = Math.floor(total / 86400);
  const hours = Math.floor((total % 86400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  if (days) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours) return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  if (minutes) return `${minutes} min`;
  return `${total % 60} s`;
}

/** An ISO-8601 duration the API accepts, from a number of hours (whole minutes). */
export function hoursToDuration(hours) {
  return `PT${Math.round(hours * 60)}M`;
}

export function formatNumber(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function formatPercent(ratio, digits = 1) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return "–";
  const sign = ratio > 0 ? "+" : "";
  return `${sign}${(ratio * 100).toFixed(digits)}%`;
}

/** Put a short message in an element (role=status or role=alert), styled by its kind. */
export function showMessage(node, kind, text, hint = "") {
  node.replaceChildren(text);
  if (hint) node.append(el("span", { class: "hint" }, ` ${hint}`));
  node.dataset.kind = kind;
  node.hidden = !text;
}

/** The operator-facing text of an ApiError (or any error). */
export function errorText(error) {
  return error.code ? `${error.message} (${error.code})` : String(error.message || error);
}
