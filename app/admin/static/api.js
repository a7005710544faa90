// The one way the pages talk to the JSON API: JSON in and out, errors as ApiError.
//
// With ADMIN_TOKEN set, an operator signed in at /login has a session cookie, and every change
// sends the page's CSRF token (`<meta name="csrf-token">`) in `X-CSRF-Token`. When the server
// still answers 401 (no session, or it expired), the page asks for the token once, keeps it in
// sessionStorage for the tab's session and retries; later requests send it as
// `Authorization: Bearer <token>`.

const TOKEN_KEY = "marketsim.adminToken";

let tokenRequest = null;

/** An API failure in the API's error shape: `code`, `message`, `hint`, and the `field` the
 * message names ("field 'title': ..." or "parameter 'start': ..."), when it names one. */
export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `the server answered ${status}`);
    this.status = status;
    this.code = error.code || "http_error";
    this.hint = error.hint || "";
    this.field = error.field || fieldNamedIn(this.message);
  }
}

function fieldNamedIn(message) {
  const match = /^(?:field|parameter) '([^']+)'/.exec(message || "");
  return match ? match[1] : null;
}

function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Ask for the token at most once at a time, however many requests were refused together. */
function askForToken() {
  if (!tokenRequest) {
    tokenRequest = Promise.resolve().then(() => {
      const token = window.prompt("This simulator needs its admin token (ADMIN_TOKEN):");
      if (token) sessionStorage.setItem(TOKEN_KEY, token.trim());
      return Boolean(token);
    });
    tokenRequest.finally(() => {
      tokenRequest = null;
    });
  }
  return tokenRequest;
}

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function headersFor(method, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = storedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (method !== "GET" && csrfToken()) headers["X-CSRF-Token"] = csrfToken();
  return headers;
}

async function readJson(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("application/json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

async function send(path, method, body, retried) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headersFor(method, body),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, {
      error: {
        code: "network_error",
        message: "the simulator did not answer",
        hint: "check that marketsim is running, then retry",
      },
    });
  }
  const payload = await readJson(response);
  if (response.status === 401 && payload && !retried && (await askForToken())) {
    return send(path, method, body, true);
  }
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload;
}

/** GET a path under the API; resolves to the parsed JSON body. */
export function get(path) {
  return send(path, "GET", undefined, false);
}

/** POST a JSON body (an empty object when none is given). */
export function post(path, body = {}) {
  return send(path, "POST", body, false);
}

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
