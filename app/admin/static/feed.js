// A client of the `/ws` feed (API.md, "The WebSocket feed"): subscribes, answers the server's
// pings, keeps the position of the last frame and, when the connection drops, reconnects
// with a backoff and resumes from that position.

const EVENT_FRAMES = new Set(["snapshot", "catchup", "events"]);
const NOTICE_FRAMES = new Set(["scenario", "external", "control"]);
const MAX_BACKOFF_MS = 15000;

function feedUrl() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws`;
}

export class Feed {
  /**
   * @param {string[]} topics what to subscribe to (see API.md's topic table)
   * @param {object} handlers onEvents(events, frame), onNotice(event, frame),
   *   onSubscribed(frame), onStatus(status, detail) with status "connecting" | "live" |
   *   "reconnecting" | "error"
   */
  constructor(topics, handlers = {}) {
    this.topics = topics;
    this.handlers = handlers;
    this.position = null;
    this.socket = null;
    this.backoff = 500;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close();
  }

  /** Replace the subscription; the new topics start with the server's snapshot. */
  setTopics(topics) {
    const previous = this.topics;
    this.topics = topics;
    if (!this.isOpen()) return;
    this.send({ type: "unsubscribe", topics: previous });
    this.send({ type: "subscribe", topics });
  }

  isOpen() {
    return this.socket && this.socket.readyState === WebSocket.OPEN;
  }

  connect() {
    this.status("connecting");
    const socket = new WebSocket(feedUrl());
    this.socket = socket;
    socket.addEventListener("open", () => this.subscribe());
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", () => this.reconnectLater(socket));
  }

  subscribe() {
    const message = { type: "subscribe", topics: this.topics };
    if (this.position !== null) message.lastEventId = this.position;
    this.send(message);
  }

  reconnectLater(socket) {
    if (this.stopped || socket !== this.socket) return;
    this.status("reconnecting");
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    window.setTimeout(() => this.connect(), delay);
  }

  send(message) {
    if (this.isOpen()) this.socket.send(JSON.stringify(message));
  }

  receive(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    this.dispatch(frame);
  }

  dispatch(frame) {
    const { handlers } = this;
    if (typeof frame.position === "number") this.position = frame.position;
    if (frame.type === "subscribed") {
      this.backoff = 500;
      this.status("live");
      if (handlers.onSubscribed) handlers.onSubscribed(frame);
    } else if (EVENT_FRAMES.has(frame.type)) {
      if (handlers.onEvents) handlers.onEvents(frame.events || [], frame);
    } else if (NOTICE_FRAMES.has(frame.type)) {
      if (handlers.onNotice) handlers.onNotice(frame.event, frame);
    } else if (frame.type === "ping") {
      this.send({ type: "pong" });
    } else if (frame.type === "overflow") {
      this.position = frame.lastPosition;
    } else if (frame.type === "error") {
      this.status("error", `${frame.code}: ${frame.message}`);
    }
  }

  status(status, detail = "") {
    if (this.handlers.onStatus) this.handlers.onStatus(status, detail);
  }
}
