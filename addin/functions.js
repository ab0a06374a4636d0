// The CHRONOS.* worksheet functions. A classic script, not an ES module: Excel desktop runs custom
// functions in a JavaScript-only runtime with no page (no DOM, no modules, no localStorage).
//
// Calls that Excel makes within BATCH_MS go to the server as one request per endpoint and request-wide
// option (forecast horizon in whole patches, anomaly level, backtest horizon and windows): Microsoft's
// batching pattern for custom functions. Calls over the same data share one series. The server's URL and
// API key are the pane's: it writes them to OfficeRuntime.storage, where this script reads them.
/* global CustomFunctions, OfficeRuntime */

const BATCH_MS = 50;
const MAX_SERIES = 1000; // per request, the API's limit
const MAX_HORIZON = 1024;
// Chronos-2 forecasts in patches of 16 steps, and a forecast's first steps change slightly with the
// number of patches asked for. So every forecast request asks for whole patches: a cell's value depends
// on its own horizon only, never on which other cells recalculated with it.
const PATCH = 16;
const KEY_NAME = "chronos-excel.apiKey";
const URL_NAME = "chronos-excel.serverUrl";
const MS_PER_DAY = 86400000;
const EXCEL_EPOCH = Date.UTC(1899, 11, 30); // serial 0, for serials from 61 (1900-03-01) on
const METRICS = ["MASE", "MAE", "RMSE", "MAPE", "sMAPE", "WQL", "coverage", "skill"];

/** A #VALUE! error (or `code`) whose message Excel shows in the cell's tooltip. */
function fail(message, code = CustomFunctions.ErrorCode.invalidValue) {
  return new CustomFunctions.Error(code, message);
}

// ---- Reading the arguments ----------------------------------------------------------------------

/** A 2-D range as one list, or a #VALUE! naming `name` when it has several rows and columns. */
function flat(range, name) {
  const grid = Array.isArray(range) ? range.map((row) => (Array.isArray(row) ? row : [row])) : [[range]];
  const rows = grid.length;
  const cols = rows ? grid[0].length : 0;
  if (rows > 1 && cols > 1) {
    throw fail(`${name} must be a single row or column; found ${rows} rows × ${cols} columns.`);
  }
  return grid.flat();
}

const blank = (v) => v === null || v === undefined || v === "";

/** The Excel error a cell holds ("#N/A", "#DIV/0!" …), or null. With `allowErrorForDataTypeAny` in
 * functions.json, Excel passes error cells to `any` parameters instead of answering #N/A itself: as an
 * error object (a CustomFunctions.Error's `code`, or a data-types ErrorCellValue's `basicValue`). */
function errorOf(v) {
  if (v && typeof v === "object") {
    const code = v.code ?? (v.type === "Error" ? v.basicValue : undefined);
    if (typeof code === "string" && code.startsWith("#")) return code.toUpperCase();
    return v.type === "Error" || v.errorType !== undefined ? "an error" : null;
  }
  const text = typeof v === "string" ? v.trim().toUpperCase() : "";
  return /^#(N\/A|DIV\/0!|VALUE!|REF!|NAME\?|NUM!|NULL!|SPILL!|CALC!|BUSY!)$/.test(text) ? text : null;
}

/** A cell's number when it holds one: a plain number, or a data-types number value ({basicValue}). */
function numberOf(v) {
  if (typeof v === "number") return v;
  return v && typeof v === "object" && typeof v.basicValue === "number" ? v.basicValue : null;
}

/** The values as numbers and nulls: blank cells and #N/A are missing, as in the pane; any other error or
 * text is a #VALUE! naming its position. */
function readValues(range) {
  const cells = flat(range, "values");
  return cells.map((v, i) => {
    if (blank(v)) return null;
    const number = numberOf(v);
    if (number !== null) return number;
    if (typeof v === "boolean") return v ? 1 : 0;
    const error = errorOf(v);
    if (error === "#N/A") return null;
    if (error !== null) throw fail(`values must be numbers; found ${error} at position ${i + 1}.`);
    if (typeof v === "object") throw fail(`values must be numbers; found a ${v.type ?? "data"} value at position ${i + 1}.`);
    const n = Number(String(v).trim());
    if (String(v).trim() !== "" && Number.isFinite(n)) return n;
    throw fail(`values must be numbers; found the text '${v}' at position ${i + 1}.`);
  });
}

const ISO = /^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?(Z)?$/;

/** Date text -> Excel serial, as the pane reads it (dates.js parseDateText): "2024-01-31", "2024/01/31",
 * "2024-01", "2024-01-31T10:00[:00][Z]"; else null. */
function parseDateText(text) {
  const m = ISO.exec(String(text).trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 1 : Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = Date.UTC(year, month - 1, day, hour, minute, 0) + second * 1000;
  const date = new Date(ms);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59) return null;
  return (ms - EXCEL_EPOCH) / MS_PER_DAY;
}

/** A date argument (an Excel date, or date text) as an Excel serial; a #VALUE! naming it otherwise. */
function readDate(value, what) {
  if (numberOf(value) !== null) return numberOf(value);
  const serial = blank(value) || typeof value !== "string" ? null : parseDateText(value);
  if (serial === null) {
    const found = blank(value) ? "nothing" : (errorOf(value) ?? `'${value}'`);
    throw fail(`${what} must be a date (an Excel date, or text such as 2024-01-31); found ${found}.`);
  }
  return serial;
}

/** The timeline as Excel serial dates, or null when omitted. */
function readTimeline(range, count) {
  if (blank(range)) return null;
  const cells = flat(range, "timeline");
  if (cells.length === 1 && blank(cells[0])) return null;
  if (cells.length !== count) {
    throw fail(`timeline has ${cells.length} dates for ${count} values: give one date per value.`);
  }
  return cells.map((v, i) => readDate(v, `timeline at position ${i + 1}`));
}

/** An optional whole number in [min, max], or `fallback` when omitted. */
function readInteger(value, name, fallback, min, max) {
  if (blank(value)) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw fail(`${name} must be a whole number from ${min} to ${max}; got ${value}.`);
  }
  return value;
}

/** An optional level strictly between 0 and `max`, or `fallback` when omitted. */
function readLevel(value, name, fallback, max = 1) {
  if (blank(value)) return fallback;
  if (typeof value !== "number" || !(value > 0 && value < max)) {
    throw fail(`${name} must be a number between 0 and ${max}; got ${value}.`);
  }
  return value;
}

/** An optional TRUE/FALSE argument, or `fallback` when omitted. */
function readBoolean(value, name, fallback) {
  if (blank(value)) return fallback;
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  throw fail(`${name} must be TRUE or FALSE; got ${value}.`);
}

const ADAPTER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** The optional adapter argument as the request's {adapter: name}, or {} for the model as it is. */
function readAdapter(value) {
  if (blank(value)) return {};
  const name = String(value).trim();
  if (!ADAPTER_NAME.test(name)) {
    throw fail(`adapter must be the name of one of your adapted models (letters, digits, _ . -); got '${value}'.`);
  }
  return { adapter: name };
}

/** A timestamp (an Excel serial, or ISO text as the server writes it) as milliseconds since 1970 UTC. */
function toMs(stamp) {
  if (typeof stamp === "number") return EXCEL_EPOCH + Math.round(stamp * 86400) * 1000;
  const text = String(stamp).trim();
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(text) || text.length <= 10;
  return Date.parse(zoned ? text : `${text}Z`);
}

/** The shortest step of the timeline in days, or null without a readable timeline. */
function shortestStep(timeline) {
  if (!timeline || timeline.length < 2) return null;
  const ms = timeline.map(toMs);
  let step = Infinity;
  for (let i = 1; i < ms.length; i++) {
    const d = ms[i] - ms[i - 1];
    if (d > 0 && d < step) step = d;
  }
  return Number.isFinite(step) ? step / MS_PER_DAY : null;
}

const HORIZONS = { hourly: 24, daily: 14, weekly: 13, monthly: 12, quarterly: 8, yearly: 6 };

/** Steps of whole months between the dates (ms), or null: the pane's rule (dates.js monthStep). */
function monthStep(ms) {
  const dates = ms.map((m) => new Date(m));
  const endOfMonth = (d) => new Date(d.getTime() + MS_PER_DAY).getUTCDate() === 1;
  const sameDay = dates.every((d) => d.getUTCDate() === dates[0].getUTCDate());
  if (!(sameDay || dates.every(endOfMonth)) || !ms.every((m) => m % MS_PER_DAY === 0)) return null;
  const index = dates.map((d) => d.getUTCFullYear() * 12 + d.getUTCMonth());
  const step = index[1] - index[0];
  return step > 0 && index.every((v, i) => i === 0 || v - index[i - 1] === step) ? step : null;
}

/** The pane's frequency names (dates.js detectFrequency) that have a default horizon, else "". */
function frequencyName(timeline) {
  const ms = timeline.map(toMs);
  if (ms.length < 2 || !ms.every(Number.isFinite)) return "";
  const diffs = ms.slice(1).map((m, i) => m - ms[i]);
  const step = diffs[0];
  if (step > 0 && diffs.every((d) => d === step)) {
    if (step === MS_PER_DAY) return "daily";
    if (step === 7 * MS_PER_DAY) return "weekly";
    if (step === 3600000) return "hourly";
  }
  return { 1: "monthly", 3: "quarterly", 12: "yearly" }[monthStep(ms)] ?? "";
}

/** The pane's default horizon for the timeline's frequency: 24 hourly … 6 yearly, else 10. */
function defaultHorizon(timeline) {
  return (timeline && HORIZONS[frequencyName(timeline)]) || 10;
}

// ---- Server, key, errors ------------------------------------------------------------------------

async function stored(name) {
  try {
    return globalThis.OfficeRuntime?.storage ? await OfficeRuntime.storage.getItem(name) : null;
  } catch {
    return null; // storage unavailable: no key is sent, and a 401 says to set one
  }
}

/** The API's base URL, ending in "/api/v1/": the one the pane stored, else the page's own server. String
 * work rather than URL objects: the JavaScript-only runtime documents fetch, not the URL class. */
async function apiBase() {
  const saved = await stored(URL_NAME);
  if (saved) return `${String(saved).replace(/\/+$/, "")}/api/v1/`;
  const href = globalThis.location?.href;
  if (href && /^https?:/.test(href)) return href.replace(/\/addin\/[^/]*([?#].*)?$/, "/api/v1/");
  throw fail(
    "The formulas do not know the Chronos server's address yet: open the Chronos pane once.",
    CustomFunctions.ErrorCode.notAvailable,
  );
}

/** "https://host:port" of a URL. */
const originOf = (url) => url.match(/^[a-z]+:\/\/[^/]+/i)?.[0] ?? url;

/** The message of a problem+json body: each error's location and message, else its detail. */
function problemMessage(problem, status) {
  const errors = Array.isArray(problem?.errors) ? problem.errors : [];
  if (errors.length) {
    return errors.map((e) => (e.loc?.length ? `${e.loc.join(".")}: ${e.msg}` : e.msg)).join("; ");
  }
  return problem?.detail || problem?.title || `The Chronos server answered ${status}.`;
}

/** POST `body` to `path`; resolves to the JSON answer, rejects with an Excel error or {status, problem}. */
async function post(path, body) {
  const key = await stored(KEY_NAME);
  // Excel's JavaScript-only runtime allows only "simple" CORS requests: JSON goes as text/plain, and the
  // key as a query parameter (the server accepts both and never logs query strings).
  const url = (await apiBase()) + path + (key ? `?key=${encodeURIComponent(key)}` : "");
  const headers = { "Content-Type": "text/plain;charset=utf-8", Accept: "application/json" };
  let response;
  try {
    response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
  } catch {
    throw fail(`Chronos server unreachable at ${originOf(url)}.`, CustomFunctions.ErrorCode.notAvailable);
  }
  if (response.ok) return response.json();
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  throw { status: response.status, problem, keySent: Boolean(key) };
}

/** An Excel error for a failed request (`error` from post, or anything thrown). */
function excelError(error) {
  if (error instanceof CustomFunctions.Error) return error;
  if (error && typeof error.status === "number") {
    const message = problemMessage(error.problem, error.status);
    if (error.status === 401) {
      const fix = error.keySent ? "check the API key" : "set the server's API key";
      return fail(`${message} In the Chronos pane's settings, ${fix}.`, CustomFunctions.ErrorCode.notAvailable);
    }
    const code = error.status === 422 ? "invalidValue" : "notAvailable";
    return fail(message, CustomFunctions.ErrorCode[code]);
  }
  return fail(`Chronos formula failed: ${error?.message ?? error}`, CustomFunctions.ErrorCode.notAvailable);
}

// ---- Batching -----------------------------------------------------------------------------------

/** Calls waiting for the next flush: {endpoint, group, series, need, resolve, reject}. */
let pending = [];
let timer = null;

/** Queue one series for `endpoint`; resolves to its part of the server's answer. */
function enqueue(endpoint, group, series, need) {
  return new Promise((resolve, reject) => {
    pending.push({ endpoint, group, series, need, resolve, reject });
    if (timer === null) timer = setTimeout(flush, BATCH_MS);
  });
}

function flush() {
  const calls = pending;
  pending = [];
  timer = null;
  const batches = new Map();
  for (const call of calls) {
    const key = `${call.endpoint} ${JSON.stringify(call.group)}${call.need?.raw ? " raw" : ""}`;
    if (!batches.has(key)) batches.set(key, []);
    batches.get(key).push(call);
  }
  for (const batch of batches.values()) send(batch);
}

/** Send one endpoint's calls: identical series once, request-wide options merged from every call. */
async function send(batch) {
  const { endpoint, group } = batch[0];
  const bySeries = new Map();
  for (const call of batch) {
    const key = JSON.stringify(call.series);
    if (!bySeries.has(key)) bySeries.set(key, { series: call.series, calls: [] });
    bySeries.get(key).calls.push(call);
  }
  const entries = [...bySeries.values()];
  try {
    for (let i = 0; i < entries.length; i += MAX_SERIES) {
      await sendChunk(endpoint, group, entries.slice(i, i + MAX_SERIES));
    }
  } catch (error) {
    batch.forEach((call) => call.reject(excelError(error))); // settled calls ignore it; none is left hanging
  }
}

/** The request body for `entries` (distinct series with their calls); forecasts get every level asked. */
function requestBody(endpoint, group, entries) {
  const body = { series: entries.map((e) => e.series), ...group };
  if (endpoint === "forecast") {
    const levels = new Set(entries.flatMap((e) => e.calls.flatMap((c) => c.need.levels)));
    body.quantile_levels = [...levels].sort((a, b) => a - b);
    if (entries.some((e) => e.calls.some((c) => c.need.calibrate))) body.calibrate = true;
  }
  return body;
}

/** What a forecast call needs of its band: calibrated (the default), or the model's own (`raw`: such calls go
 * in requests of their own). A median needs neither: calibration never moves it, so it rides with either. */
function bands(levels, calibrated) {
  if (!levels.length) return {};
  return calibrated ? { calibrate: true } : { raw: true };
}

/** A forecast's horizon as the request asks it: whole patches (see PATCH). */
const patches = (h) => ({ horizon: Math.min(MAX_HORIZON, Math.ceil(h / PATCH) * PATCH) });

/** Send a chunk; a 422 naming some series fails their calls and sends the rest again. */
async function sendChunk(endpoint, group, entries) {
  let answer;
  try {
    answer = await post(endpoint, requestBody(endpoint, group, entries));
  } catch (error) {
    const bad = badSeries(error, entries.length);
    if (bad.size && bad.size < entries.length) {
      entries.forEach((e, i) => bad.has(i) && e.calls.forEach((c) => c.reject(excelError(seriesError(error, i)))));
      return sendChunk(endpoint, group, entries.filter((_, i) => !bad.has(i)));
    }
    entries.forEach((e, i) => e.calls.forEach((c) => c.reject(excelError(bad.size ? seriesError(error, i) : error))));
    return;
  }
  const list = answer[{ forecast: "forecasts", anomalies: "anomalies", backtest: "backtests" }[endpoint]];
  entries.forEach((e, i) => e.calls.forEach((c) => c.resolve(list[i])));
}

/** Indexes of the series a 422 blames (loc ["series", i, …]); empty when it blames the request. */
function badSeries(error, count) {
  const errors = error?.status === 422 ? error.problem?.errors : null;
  if (!Array.isArray(errors) || !errors.length) return new Set();
  const indexes = errors.map((e) => (e.loc?.[0] === "series" && Number.isInteger(e.loc[1]) ? e.loc[1] : -1));
  return indexes.every((i) => i >= 0 && i < count) ? new Set(indexes) : new Set();
}

/** The 422 narrowed to series `index`'s errors, their locations made relative to that series. */
function seriesError(error, index) {
  const errors = error.problem.errors
    .filter((e) => e.loc[1] === index)
    .map((e) => ({ ...e, loc: e.loc.slice(2) }));
  return { ...error, problem: { ...error.problem, errors } };
}

/** The series of a call, as the API takes it. */
function apiSeries(values, timeline) {
  return timeline ? { values, timestamps: timeline } : { values };
}

/** Level key as the API writes it (Python's str(float)). */
function levelKey(q) {
  const text = String(q);
  return text.includes(".") || text.includes("e") ? text : `${text}.0`;
}

/** Run `work`, turning anything thrown into an Excel error. */
async function guarded(work) {
  try {
    return await work();
  } catch (error) {
    throw excelError(error);
  }
}

// ---- The functions ------------------------------------------------------------------------------

/**
 * Forecasts of a series with Chronos-2: a column of `horizon` values (the median, or the given quantile).
 * @customfunction FORECAST
 * @param {any[][]} values The history: one row or column of numbers (blank cells are missing values).
 * @param {any[][]} [timeline] Dates of the values (Excel dates or date text), as many as values.
 * @param {number} [horizon] Number of steps to forecast (default by frequency: 12 monthly, 14 daily…).
 * @param {number} [quantile] Quantile level between 0 and 1 (default 0.5, the median).
 * @param {string} [adapter] The name of one of your adapted models (from the pane's Adapt section); default none.
 * @param {boolean} [calibrate] Calibrate the band on the series' own history (default TRUE).
 * @returns {Promise<number[][]>} The forecasts, one per row.
 */
function forecast(values, timeline, horizon, quantile, adapter, calibrate) {
  return guarded(async () => {
    const v = readValues(values);
    const t = readTimeline(timeline, v.length);
    const h = readInteger(horizon, "horizon", defaultHorizon(t), 1, MAX_HORIZON);
    const q = readLevel(quantile, "quantile", 0.5);
    const answer = await enqueue("forecast", { ...patches(h), ...readAdapter(adapter) }, apiSeries(v, t), {
      levels: [q],
      ...bands(q === 0.5 ? [] : [q], readBoolean(calibrate, "calibrate", true)),
    });
    return answer.quantiles[levelKey(q)].slice(0, h).map((x) => [x]);
  });
}

/**
 * The forecast at a future date, like FORECAST.ETS: a range of target dates gives the same shape back.
 * @customfunction FORECAST.AT FORECAST.AT
 * @param {any[][]} target_date The date (or dates) to forecast, after the timeline's end, on its frequency.
 * @param {any[][]} values The history: one row or column of numbers (blank cells are missing values).
 * @param {any[][]} timeline Dates of the values (Excel dates or date text), as many as values.
 * @param {number} [quantile] Quantile level between 0 and 1 (default 0.5, the median).
 * @param {string} [adapter] The name of one of your adapted models (from the pane's Adapt section); default none.
 * @returns {Promise<any[][]>} The forecast at each target date.
 */
function forecastAt(target_date, values, timeline, quantile, adapter) {
  return guarded(async () => {
    const v = readValues(values);
    const t = readTimeline(timeline, v.length);
    if (!t) throw fail("timeline is required: FORECAST.AT finds the target date on it.");
    const q = readLevel(quantile, "quantile", 0.5);
    const grid = (Array.isArray(target_date) ? target_date : [[target_date]]).map((r) => (Array.isArray(r) ? r : [r]));
    const last = Math.max(...t.map(toMs));
    const days = shortestStep(t);
    const targets = grid.map((row) =>
      row.map((d) => {
        const ms = toMs(readDate(d, "target_date"));
        const text = new Date(ms).toISOString().slice(0, 16).replace("T00:00", "").replace("T", " ");
        if (ms <= last) {
          throw fail(`target_date ${text} is not after the timeline's end.`, CustomFunctions.ErrorCode.invalidNumber);
        }
        return { text, ms };
      }),
    );
    const farthest = Math.max(...targets.flat().map((x) => x.ms));
    const h = days ? Math.ceil((farthest - last) / MS_PER_DAY / days + 1e-9) : 1;
    if (h > MAX_HORIZON) {
      throw fail(`target_date is ${h} steps past the timeline's end; at most ${MAX_HORIZON}.`, CustomFunctions.ErrorCode.invalidNumber);
    }
    const need = { levels: [q], ...bands(q === 0.5 ? [] : [q], false) }; // the model's own quantile, as documented
    const answer = await enqueue("forecast", { ...patches(h), ...readAdapter(adapter) }, apiSeries(v, t), need);
    const stamps = (answer.timestamps ?? []).map(toMs);
    const forecasts = answer.quantiles[levelKey(q)];
    return targets.map((row) =>
      row.map(({ text, ms }) => {
        const at = stamps.findIndex((s) => Math.abs(s - ms) < 1000);
        if (at < 0) {
          const freq = answer.frequency ? ` (${answer.frequency})` : "";
          throw fail(`target_date ${text} is not on the timeline's frequency${freq}.`, CustomFunctions.ErrorCode.invalidNumber);
        }
        return forecasts[at];
      }),
    );
  });
}

/**
 * Forecast with its central interval: `horizon` rows of forecast, lower, upper.
 * @customfunction INTERVAL
 * @param {any[][]} values The history: one row or column of numbers (blank cells are missing values).
 * @param {any[][]} [timeline] Dates of the values (Excel dates or date text), as many as values.
 * @param {number} [horizon] Number of steps to forecast (default by frequency).
 * @param {number} [level] Central interval level between 0 and 1 (default 0.8: lower 0.1, upper 0.9).
 * @param {string} [adapter] The name of one of your adapted models (from the pane's Adapt section); default none.
 * @param {boolean} [calibrate] Calibrate the band on the series' own history (default TRUE).
 * @returns {Promise<number[][]>} One row per step: forecast, lower, upper.
 */
function interval(values, timeline, horizon, level, adapter, calibrate) {
  return guarded(async () => {
    const v = readValues(values);
    const t = readTimeline(timeline, v.length);
    const h = readInteger(horizon, "horizon", defaultHorizon(t), 1, MAX_HORIZON);
    const l = readLevel(level, "level", 0.8);
    const lo = Number(((1 - l) / 2).toFixed(6));
    const hi = Number(((1 + l) / 2).toFixed(6));
    const answer = await enqueue("forecast", { ...patches(h), ...readAdapter(adapter) }, apiSeries(v, t), {
      levels: [lo, 0.5, hi],
      ...bands([lo, hi], readBoolean(calibrate, "calibrate", true)),
    });
    const q = answer.quantiles;
    return q["0.5"].slice(0, h).map((m, i) => [m, q[levelKey(lo)][i], q[levelKey(hi)][i]]);
  });
}

/**
 * Anomalies: TRUE where a value falls outside the band forecast from the values before it.
 * @customfunction ANOMALIES
 * @param {any[][]} values The series: one row or column of numbers (blank cells are missing values).
 * @param {any[][]} [timeline] Dates of the values (Excel dates or date text), as many as values.
 * @param {number} [level] Share of ordinary points inside their band (default 0.95, at most 0.98).
 * @param {string} [adapter] The name of one of your adapted models (from the pane's Adapt section); default none.
 * @returns {Promise<any[][]>} TRUE/FALSE per value, same shape as values; blank where not scored.
 */
function anomalies(values, timeline, level, adapter) {
  return guarded(async () => {
    const v = readValues(values);
    const t = readTimeline(timeline, v.length);
    const l = readLevel(level, "level", 0.95); // the server says its own limit (0.98)
    const answer = await enqueue("anomalies", { level: l, ...readAdapter(adapter) }, apiSeries(v, t), null);
    const flags = answer.is_anomaly.map((f) => (f === null || f === undefined ? "" : f));
    const isRow = Array.isArray(values) && values.length === 1 && values[0].length > 1;
    return isRow ? [flags] : flags.map((f) => [f]);
  });
}

/**
 * Backtest: a metric of Chronos-2's forecasts over rolling windows at the end of the series.
 * @customfunction BACKTEST
 * @param {any[][]} values The series: one row or column of numbers (blank cells are missing values).
 * @param {any[][]} [timeline] Dates of the values (Excel dates or date text); leave it out to number the steps.
 * @param {number} [horizon] Steps forecast by each window (required).
 * @param {number} [windows] Number of rolling windows (default 3).
 * @param {string} [metric] MASE (default), MAE, RMSE, MAPE, sMAPE, WQL, coverage or skill.
 * @param {string} [adapter] The name of one of your adapted models (from the pane's Adapt section); default none.
 * @returns {Promise<number>} The metric over the windows.
 */
function backtest(values, timeline, horizon, windows, metric, adapter) {
  return guarded(async () => {
    const v = readValues(values);
    const t = readTimeline(timeline, v.length);
    const h = readInteger(horizon, "horizon", null, 1, MAX_HORIZON);
    if (h === null) throw fail("horizon is required: the steps each backtest window forecasts.");
    const w = readInteger(windows, "windows", 3, 1, 100);
    const name = blank(metric) ? "MASE" : METRICS.find((m) => m.toLowerCase() === String(metric).toLowerCase());
    if (!name) throw fail(`metric must be one of ${METRICS.join(", ")}; got '${metric}'.`);
    const group = { horizon: h, windows: w, ...readAdapter(adapter) };
    const answer = await enqueue("backtest", group, apiSeries(v, t), null);
    const value = name === "skill" ? answer.skill : answer.metrics[name];
    if (value === null || value === undefined) {
      throw fail(`${name} is undefined for this series (e.g. MAPE with zero actuals).`, CustomFunctions.ErrorCode.divisionByZero);
    }
    return value;
  });
}

CustomFunctions.associate("FORECAST", forecast);
CustomFunctions.associate("FORECAST.AT", forecastAt);
CustomFunctions.associate("INTERVAL", interval);
CustomFunctions.associate("ANOMALIES", anomalies);
CustomFunctions.associate("BACKTEST", backtest);
