// Calls to the Chronos server's /api/v1 (same origin as the pane). Every response is checked; every call
// but health sends the saved API key as Authorization: Bearer <key>.

import { apiKey } from "./settings.js";

const BASE = new URL("../api/v1/", import.meta.url);

/** The server answered with an error: `problem` is its problem+json body (or a stand-in); `keySent`
 * says whether the request carried an API key (a 401 then means a wrong key rather than a missing one). */
export class ApiError extends Error {
  constructor(status, problem, keySent = false) {
    super(problem.detail || problem.title || `The server answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
    this.keySent = keySent;
  }
}

/** The server could not be reached at all. */
export class UnreachableError extends Error {
  constructor(url) {
    super(`Cannot reach the Chronos server at ${url.origin}. Is \`chronos-excel serve\` running?`);
    this.name = "UnreachableError";
  }
}

async function problemOf(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      // fall through: a broken body still gets a message
    }
  }
  return { title: response.statusText, detail: `The server answered ${response.status} ${response.statusText}.` };
}

async function call(path, init = {}, { auth = true } = {}) {
  const url = new URL(path, BASE);
  const key = auth ? apiKey() : "";
  const headers = { Accept: "application/json", ...(key && { Authorization: `Bearer ${key}` }), ...init.headers };
  let response;
  try {
    response = await fetch(url, { ...init, headers });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new UnreachableError(url);
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response), Boolean(key));
  return response.json();
}

/** GET /health: {status, version, model, fallback, fallback_reason}. Open to all: no key sent. */
export function health() {
  return call("health", { cache: "no-store" }, { auth: false });
}

function post(path, body, signal) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

/** POST /forecast with {series, horizon, quantile_levels}. */
export const forecast = (body, signal) => post("forecast", body, signal);

/** POST /anomalies with {series, level}. */
export const anomalies = (body, signal) => post("anomalies", body, signal);

/** POST /backtest with {series, horizon, windows, level, quantile_levels}. */
export const backtest = (body, signal) => post("backtest", body, signal);

/** POST /adapters with {name, series, horizon, …}: the training job it started (202). */
export const startAdapter = (body, signal) => post("adapters", body, signal);

/** GET /jobs/{id}: a training job's state, progress and result. */
export const job = (id, signal) => call(`jobs/${encodeURIComponent(id)}`, { cache: "no-store", signal });

/** DELETE /jobs/{id}: cancel a training job; the job as it is then. */
export const cancelJob = (id) => call(`jobs/${encodeURIComponent(id)}`, { method: "DELETE" });

/** GET /adapters: {adapters: [...]}, the caller's, newest first. */
export const adapters = () => call("adapters", { cache: "no-store" });
