// The pane: wires the buttons to reading the range, calling the server and writing the results.
/* global Office */

import * as api from "./api.js";
import { readRange, restoreFills, selectionAddress, writeTable } from "./excel.js";
import { defaultHorizon } from "./dates.js";
import { anomalyText, badCells, describeData, describeError, driverKind, driversPhrase } from "./messages.js";
import { columnName, parseAddress } from "./a1.js";
import { parseData, ROLES } from "./parse.js";
import {
  adaptRequest,
  adapterName,
  anomaliesRequest,
  backtestRequest,
  calibrationText,
  forecastRequests,
  horizonProblem,
  whatIfDrivers,
} from "./requests.js";
import { anomalyTable, backtestTable, captioned, forecastTable, modelCaption } from "./tables.js";
import { apiKey, followedJob, followJob, saveApiKey, shareWithFormulas, storageName } from "./settings.js";

/** The pane's element with this id: typed as an input, the widest of the pane's controls. */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const ACTION_BUTTONS = ["forecast", "anomalies", "backtest", "use-selection", "clear-highlights", "adapt"];
const POLL_MS = 1000;

const state = {
  data: null,
  range: null, // the cells last read, so that a role change needs no Excel call
  address: null, // roles and what-if changes stay while the address is this one
  roles: {}, // column index -> role the user chose
  whatIf: {}, // driver name -> the text of its % change field
  controller: null,
  timer: null,
  busy: false,
  horizonEdited: false,
  nameEdited: false,
  saved: new Map(),
  job: null, // the training job the pane follows: {id, name}
  pollTimer: null,
};

const seriesNames = (data) => (data.series.length === 1 ? data.series[0].name : `${data.series.length} series`);
const jointly = (data, o) => (o.joint && data.series.length > 1 ? ", jointly" : "");

/** How the server read each driver (the forecast's `covariates`), else how the pane sent them. */
function driversRead(data, forecast) {
  const read = forecast?.covariates ?? data.drivers.map((d) => ({ name: d.name, type: d.type, future: Boolean(d.future) }));
  return read.map((c) => `${c.name} (${c.type}, ${c.future ? "known ahead" : "past only"})`);
}

const ACTIONS = {
  forecast: {
    kind: "Forecast",
    busy: "Forecasting",
    check: (data, o) => horizonProblem(data, o.horizon),
    async call(data, o, signal) {
      const { bodies, scenario } = forecastRequests(data, o);
      const answers = [];
      for (const body of bodies) answers.push(await api.forecast(body, signal));
      return { model: answers[0].model, forecasts: answers.flatMap((a) => a.forecasts), scenario };
    },
    table: (data, response, o) => forecastTable(data, response.forecasts, o.level, response.scenario),
    summary: (data, response, table, o) =>
      `Forecast: ${o.horizon} steps ahead for ${seriesNames(data)}` +
      `${driversPhrase(driversRead(data, response.forecasts[0]))}${jointly(data, o)}` +
      `${response.scenario ? `, and what if ${response.scenario.label}` : ""}, ` +
      (calibrationText(response.forecasts.slice(0, data.series.length), o.level) || `${o.level}% interval`),
  },
  anomalies: {
    kind: "Anomalies",
    busy: "Scanning for anomalies",
    call: (data, o, signal) => api.anomalies(anomaliesRequest(data, o), signal),
    table: (data, response, o) => anomalyTable(data, response, o.level),
    summary: (data, response, table) => `${anomalyText(table.counts)}${driversPhrase(data.drivers.map((d) => d.name))}`,
  },
  backtest: {
    kind: "Backtest",
    busy: "Backtesting",
    call: (data, o, signal) => api.backtest(backtestRequest(data, o), signal),
    table: (data, response, o) => backtestTable(data, response, o.level),
    summary: (data, response, table, o) => {
      const skill = response.summary?.covariate_skill;
      const drivers = data.drivers.length
        ? `${driversPhrase(data.drivers.map((d) => d.name))} (drivers' skill ${typeof skill === "number" ? skill.toFixed(3) : "not defined"})`
        : "";
      const covered = response.summary?.metrics ?? {};
      const bands = typeof covered.coverage_calibrated === "number"
        ? `; the ${o.level}% band covered ${percent(covered.coverage)} raw, ${percent(covered.coverage_calibrated)} calibrated`
        : "";
      return `Backtest: ${o.windows} windows of ${o.horizon} steps for ${seriesNames(data)}${drivers}${jointly(data, o)}${bands}`;
    },
  },
};

function showMessage({ kind, text, details = [] }, actions = []) {
  const box = $("message");
  box.dataset.kind = kind;
  box.setAttribute("role", kind === "error" || kind === "warning" ? "alert" : "status");
  $("message-text").textContent = text;
  $("message-details").replaceChildren(...details.map((d) => Object.assign(document.createElement("li"), { textContent: d })));
  $("message-actions").replaceChildren(
    ...actions.map(({ label, run }) => {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: label });
      button.addEventListener("click", run);
      return button;
    }),
  );
  box.hidden = false;
}

const clearMessage = () => {
  $("message").hidden = true;
};

const element = (tag, props = {}, children = []) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

function showData(data) {
  const summary = describeData(data);
  for (const key of Object.keys(summary)) $(`summary-${key}`).textContent = summary[key];
  $("summary-drivers-row").hidden = !summary.drivers;
  $("summary-future-row").hidden = !summary.future;
  $("summary").hidden = false;
  showRoles(data);
  showWhatIf(data);
  $("joint-row").hidden = data.series.length < 2;
  if (!state.horizonEdited) {
    const horizon = data.future ? Math.min(data.future, 1024) : data.timeline ? defaultHorizon(data.frequency) : 10;
    $("horizon").value = String(horizon);
  }
  if (!state.nameEdited) $("adapter-name").value = adapterName(seriesNames(data));
}

const KINDS = { number: "numbers", text: "text", dates: "dates" };

/** One select per column but the timeline: Forecast, Driver or Ignore. */
function showRoles(data) {
  const rows = data.fields.map((f) => {
    const id = `role-${f.column}`;
    const driver = data.drivers.find((d) => d.column === f.column);
    const name = `${f.name} (${columnName(data.origin.column + f.column)})`;
    const select = element("select", { id }, ROLES.map((r) => element("option", { value: r, textContent: r })));
    select.value = f.role;
    select.addEventListener("change", () => changeRole(f.column, select.value));
    const hint = element("small", { textContent: driver ? driverKind(driver) : KINDS[f.kind] });
    return [element("div", {}, [element("label", { htmlFor: id, textContent: name }), hint]), select];
  });
  $("roles-list").replaceChildren(...rows.flat());
  $("roles").hidden = data.fields.length === 0;
}

/** A "% change" field per numeric driver known ahead. */
function showWhatIf(data) {
  const drivers = whatIfDrivers(data);
  const rows = drivers.map((d, i) => {
    const input = element("input", { id: `what-if-${i}`, type: "number", step: "any", value: state.whatIf[d.name] ?? "0" });
    input.dataset.driver = d.name;
    input.addEventListener("input", () => (state.whatIf[d.name] = input.value));
    return [element("label", { htmlFor: input.id, textContent: `${d.name} (% change)` }), input];
  });
  $("what-if-list").replaceChildren(...rows.flat());
  $("what-if").hidden = drivers.length === 0;
}

/** A role changed: read the same cells again with it, no Excel call. */
function changeRole(column, role) {
  state.roles[column] = role;
  try {
    const data = showRange(state.range);
    if (data.errors.length) showMessage(badCells(data.errors));
    else clearMessage();
  } catch (error) {
    showMessage(describeError(error, state.data));
  }
  $(`role-${column}`)?.focus();
}

/** The what-if changes as {driver: percent}; an empty field is 0. */
function whatIf() {
  const changes = {};
  if ($("what-if").hidden) return changes;
  for (const input of $("what-if-list").querySelectorAll("input")) {
    const text = input.value.trim();
    const pct = text === "" ? 0 : Number(text);
    if (!Number.isFinite(pct) || pct < -100) {
      throw new Error(`What if ${input.dataset.driver}: the % change must be a number from -100 up, such as -10; found '${input.value}'.`);
    }
    changes[input.dataset.driver] = pct;
  }
  return changes;
}

function options() {
  const horizon = Number($("horizon").value);
  const windows = Number($("windows").value);
  if (!Number.isInteger(horizon) || horizon < 1 || horizon > 1024) {
    throw new Error(`Horizon must be a whole number from 1 to 1024, found '${$("horizon").value}'.`);
  }
  if (!Number.isInteger(windows) || windows < 1 || windows > 100) {
    throw new Error(`Backtest windows must be a whole number from 1 to 100, found '${$("windows").value}'.`);
  }
  const placement = /** @type {HTMLInputElement} */ (document.querySelector('input[name="placement"]:checked')).value;
  const joint = !$("joint-row").hidden && $("joint").checked;
  const adapter = $("model").value || null;
  const calibrate = $("calibrate").checked;
  return { horizon, windows, level: Number($("level").value), placement, joint, whatIf: whatIf(), adapter, calibrate };
}

function setBusy(label) {
  state.busy = Boolean(label);
  ACTION_BUTTONS.forEach((id) => ($(id).disabled = state.busy));
  $("adapt").disabled = state.busy || !$("adapt-progress").hidden; // one training job at a time
  $("cancel").disabled = !state.controller;
  clearInterval(state.timer);
  $("progress").hidden = !label;
  if (!label) return;
  const started = performance.now();
  const tick = () => {
    $("progress-text").textContent = `${label}… ${((performance.now() - started) / 1000).toFixed(1)} s`;
  };
  tick();
  state.timer = setInterval(tick, 100);
}

/** Read the range in the address box (or the selection when it is empty) and show what it holds. */
async function readData() {
  if (!$("address").value.trim()) $("address").value = await selectionAddress();
  const address = $("address").value.trim();
  if (!parseAddress(address)) throw new Error(`'${address}' is not a range address such as Sheet1!A1:C145.`);
  const range = await readRange(address);
  if (range.address !== state.address) Object.assign(state, { address: range.address, roles: {}, whatIf: {} });
  return showRange(range);
}

/** Parse cells with the roles chosen so far and show what they hold. */
function showRange(range) {
  const data = parseData(range, state.roles);
  if (!data.series) throw new Error(data.errors[0]);
  state.range = range;
  $("address").value = data.address;
  showData(data);
  state.data = data;
  return data;
}

function remember(saved) {
  for (const fill of saved) {
    const key = `${fill.sheet}!${fill.address}`;
    if (!state.saved.has(key)) state.saved.set(key, fill);
  }
  $("clear-highlights").hidden = state.saved.size === 0;
}

async function deliver(action, data, table, summary, placement) {
  setBusy("Writing to the workbook");
  const result = await writeTable(table, { kind: action.kind, placement, data });
  if (!result.written) {
    showMessage(
      { kind: "warning", text: `The cells ${result.blocked} beside the data are not empty, so nothing was written.` },
      [{ label: "Write to a new sheet", run: () => guard(() => deliver(action, data, table, summary, "sheet"), data) }],
    );
    return;
  }
  remember(result.saved);
  showMessage({ kind: "success", text: `${summary}. Written to ${result.address}.` });
}

/** Run a step with the pane busy; every failure ends in the message bar. */
async function guard(step, data) {
  try {
    clearMessage();
    await step();
  } catch (error) {
    if (error?.name === "UnreachableError") {
      setStatus("offline", "Server unreachable");
      scheduleHealth(5000);
    }
    const message = describeError(error, data ?? state.data);
    showMessage(message, message.settings ? [{ label: "Open settings", run: openSettings }] : []);
  } finally {
    state.controller = null;
    setBusy(null);
  }
}

function runAction(name) {
  const action = ACTIONS[name];
  return guard(async () => {
    setBusy("Reading the data");
    const data = await readData();
    if (data.errors.length) return showMessage(badCells(data.errors));
    const o = options(); // after reading: the horizon's default follows the data's frequency
    const problem = action.check?.(data, o);
    if (problem) return showMessage({ kind: "error", text: problem });
    state.controller = new AbortController();
    setBusy(action.busy);
    const response = await action.call(data, o, state.controller.signal);
    state.controller = null;
    setStatus("ok");
    const table = captioned(action.table(data, response, o), modelCaption(response.model));
    await deliver(action, data, table, action.summary(data, response, table, o), o.placement);
  });
}

async function useSelection() {
  await guard(async () => {
    $("address").value = "";
    const data = await readData();
    if (data.errors.length) showMessage(badCells(data.errors));
  });
}

/** After the address box is edited: show what the range holds, without making the pane busy. */
async function previewAddress() {
  if (state.busy || !$("address").value.trim()) return;
  try {
    const data = await readData();
    if (data.errors.length) showMessage(badCells(data.errors));
    else clearMessage();
  } catch (error) {
    showMessage(describeError(error, state.data));
  }
}

async function clearHighlights() {
  await guard(async () => {
    setBusy("Restoring fills");
    await restoreFills([...state.saved.values()]);
    const n = state.saved.size;
    state.saved.clear();
    $("clear-highlights").hidden = true;
    showMessage({ kind: "success", text: `Restored the fill of ${n} ${n === 1 ? "cell" : "cells"}.` });
  });
}

// ---- settings: the server's API key ----------------------------------------------------------------

function openSettings() {
  $("api-key").value = apiKey();
  showKey(false);
  $("api-key-store").textContent = storageName();
  $("settings-error").hidden = true;
  $("settings").hidden = false;
  $("settings-button").setAttribute("aria-expanded", "true");
  $("api-key").focus();
}

function closeSettings() {
  $("settings").hidden = true;
  $("settings-button").setAttribute("aria-expanded", "false");
  $("settings-button").focus();
}

function showKey(shown) {
  $("api-key").type = shown ? "text" : "password";
  $("api-key-show").textContent = shown ? "Hide" : "Show";
}

/** Save the key; the panel closes and the message bar says so, or the panel says why it could not. */
async function saveSettings(event) {
  event.preventDefault();
  try {
    const key = await saveApiKey($("api-key").value);
    closeSettings();
    showMessage({
      kind: "success",
      text: key ? "API key saved: the pane sends it with every request." : "API key removed: the pane sends none.",
    });
  } catch (error) {
    $("settings-error").textContent = error.message;
    $("settings-error").hidden = false;
    $("api-key").focus();
  }
}

function wireSettings() {
  $("settings-button").addEventListener("click", () => ($("settings").hidden ? openSettings() : closeSettings()));
  $("settings-close").addEventListener("click", closeSettings);
  $("api-key-show").addEventListener("click", () => showKey($("api-key").type === "password"));
  $("settings").addEventListener("submit", saveSettings);
  $("settings").addEventListener("keydown", (event) => event.key === "Escape" && closeSettings());
}

let lastHealth = null;
let healthTimer = null;

function scheduleHealth(ms) {
  clearTimeout(healthTimer);
  healthTimer = setTimeout(checkHealth, ms);
}

function setStatus(kind, text) {
  $("status").dataset.state = kind;
  if (kind === "ok" && lastHealth) {
    const m = lastHealth.model;
    const id = m.source === "local" ? m.id.split(/[\\/]/).filter(Boolean).pop() : m.id;
    $("status-text").textContent = `Connected · ${id} · ${m.device}, ${m.dtype}`;
  } else if (text) {
    $("status-text").textContent = text;
  }
  const notice = $("notice");
  if (kind === "offline") {
    notice.textContent = "The Chronos server is unreachable. Start it with `chronos-excel serve`; the pane retries.";
  } else if (kind === "ok" && lastHealth?.fallback) {
    notice.textContent = `Offline demo model in use: ${lastHealth.fallback_reason || "the real model could not be loaded"}. ` +
      "Its forecasts are for trying the add-in, not for decisions.";
  }
  notice.hidden = !(kind === "offline" || (kind === "ok" && lastHealth?.fallback));
}

async function checkHealth() {
  let retry = 5000;
  try {
    const first = lastHealth === null;
    lastHealth = await api.health();
    setStatus("ok");
    retry = 0;
    if (first) resumeAdapting();
  } catch (error) {
    if (error.name === "ApiError" && error.status === 503) {
      setStatus("loading", `Loading the model… ${error.problem.detail || ""}`.trim());
      retry = 2000;
    } else {
      setStatus("offline", error.name === "UnreachableError" ? "Server unreachable" : error.message);
    }
  }
  if (retry) scheduleHealth(retry);
}

// ---- adapting the model to the data: a training job on the server ------------------------------------

const percent = (x) => `${Math.round(x * 100)}%`;
const metric = (x) => (typeof x === "number" ? x.toFixed(2) : "undefined");

/** The adapters in the model select: "name · skill 14% · 2026-12-04", the chosen one kept. */
async function refreshAdapters(choose = null) {
  const { adapters } = await api.adapters();
  const select = $("model");
  const keep = choose ?? select.value;
  const options = adapters.map((a) => {
    const skill = typeof a.validation.skill === "number" ? `skill ${percent(a.validation.skill)}` : "skill unknown";
    return element("option", { value: a.name, textContent: `${a.name} · ${skill} · ${a.created.slice(0, 10)}` });
  });
  select.replaceChildren(element("option", { value: "", textContent: "Chronos-2 as it is" }), ...options);
  select.value = adapters.some((a) => a.name === keep) ? keep : "";
  $("use-adapted").checked = Boolean(state.job && select.value === state.job.name);
}

function showProgress(job) {
  const { step, steps, loss, eta_s: eta } = job.progress;
  $("adapt-bar").max = steps;
  $("adapt-bar").value = step;
  const parts = job.state === "queued" ? ["Waiting for a free training slot"] : [`Step ${step} of ${steps}`];
  if (typeof loss === "number") parts.push(`loss ${loss.toFixed(3)}`);
  if (job.state === "running" && typeof eta === "number") parts.push(`${Math.max(1, Math.round(eta))} s left`);
  if (job.state === "running" && step >= steps) parts.push("checking it on the held-out windows");
  $("adapt-text").textContent = `Adapting ${job.name}: ${parts.join(" · ")}`;
  $("adapt-progress").hidden = false;
  $("adapt").disabled = true;
}

/** Follow a job until it ends: progress every second, then the result (also after the pane reopens). */
function follow(job) {
  state.job = { id: job.id, name: job.name };
  followJob(job.id);
  $("adapt-result").hidden = true;
  clearTimeout(state.pollTimer);
  const poll = async () => {
    try {
      const current = await api.job(job.id);
      state.job.name = current.name;
      if (current.state === "queued" || current.state === "running") {
        showProgress(current);
        state.pollTimer = setTimeout(poll, POLL_MS);
      } else {
        await finish(current);
      }
    } catch (error) {
      if (error?.name === "ApiError" && error.status === 404) {
        stopFollowing();
        return showMessage({ kind: "warning", text: `The server no longer has the training job of ${job.name}.` });
      }
      state.pollTimer = setTimeout(poll, 5 * POLL_MS); // the server may be restarting: keep trying
    }
  };
  showProgress(job);
  poll();
}

function stopFollowing() {
  clearTimeout(state.pollTimer);
  followJob("");
  $("adapt-progress").hidden = true;
  $("adapt").disabled = state.busy;
}

/** A job ended: say how the adapter did (and offer it), or why it failed. */
async function finish(job) {
  stopFollowing();
  if (job.state === "cancelled") {
    state.job = null;
    return showMessage({ kind: "info", text: `Adapting ${job.name} was cancelled; nothing was kept.` });
  }
  if (job.state !== "succeeded") {
    state.job = null;
    return showMessage({ kind: "error", text: `Adapting ${job.name} failed: ${job.error}` });
  }
  const v = job.result.validation;
  const windows = v.windows === 1 ? "the last window" : `the last ${v.windows} windows`;
  const skill = typeof v.skill === "number" ? `skill ${percent(v.skill)}` : "skill not defined";
  $("adapt-summary").textContent =
    `Adapted ${job.name}: MASE ${metric(v.adapted.MASE)} vs ${metric(v.zero_shot.MASE)} zero-shot on ${windows} (${skill}).` +
    (v.recommended ? "" : " It does not beat the model as it is, so it is not used unless you tick the box.");
  $("adapt-result").hidden = false;
  await refreshAdapters(v.recommended ? job.name : "");
  $("use-adapted").checked = v.recommended;
}

function startAdapting() {
  return guard(async () => {
    setBusy("Reading the data");
    const data = await readData();
    if (data.errors.length) return showMessage(badCells(data.errors));
    const o = options();
    const name = adapterName($("adapter-name").value || seriesNames(data));
    $("adapter-name").value = name;
    setBusy("Starting the training job");
    follow(await api.startAdapter(adaptRequest(data, o, name)));
  });
}

async function cancelAdapting() {
  if (!state.job) return;
  const { id } = state.job;
  $("adapt-cancel").disabled = true;
  try {
    await finish(await api.cancelJob(id));
  } catch (error) {
    showMessage(describeError(error, state.data));
  } finally {
    $("adapt-cancel").disabled = false;
  }
}

function useAdapted() {
  $("model").value = $("use-adapted").checked && state.job ? state.job.name : "";
}

/** Once the server answers: its adapters in the select, and the job the pane followed before it closed. */
async function resumeAdapting() {
  try {
    await refreshAdapters();
    const id = followedJob();
    if (id && !state.job) follow({ id, name: "the model", progress: { step: 0, steps: 1, loss: null }, state: "queued" });
  } catch (error) {
    showMessage(describeError(error, state.data));
  }
}

function start() {
  for (const name of Object.keys(ACTIONS)) $(name).addEventListener("click", () => runAction(name));
  $("adapt").addEventListener("click", startAdapting);
  $("adapt-cancel").addEventListener("click", cancelAdapting);
  $("use-adapted").addEventListener("change", useAdapted);
  $("adapter-name").addEventListener("input", () => (state.nameEdited = true));
  $("use-selection").addEventListener("click", useSelection);
  $("clear-highlights").addEventListener("click", clearHighlights);
  $("cancel").addEventListener("click", () => state.controller?.abort());
  $("horizon").addEventListener("input", () => (state.horizonEdited = true));
  $("address").addEventListener("change", previewAddress);
  checkHealth();
}

Office.onReady((info) => {
  wireSettings();
  shareWithFormulas().catch((error) => showMessage({ kind: "warning", text: error.message }));
  if (info.host === Office.HostType.Excel) {
    start();
  } else {
    ACTION_BUTTONS.forEach((id) => ($(id).disabled = true));
    showMessage({ kind: "warning", text: "Open this pane from Excel: Data tab › Chronos Forecast." });
  }
});
