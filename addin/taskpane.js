// The pane: wires the buttons to reading the range, calling the server and writing the results.
/* global Office */

import * as api from "./api.js";
import { readRange, restoreFills, selectionAddress, writeTable } from "./excel.js";
import { defaultHorizon } from "./dates.js";
import { anomalyText, badCells, describeData, describeError, driverKind, driversPhrase } from "./messages.js";
import { columnName, parseAddress } from "./a1.js";
import { parseData, ROLES } from "./parse.js";
import { anomaliesRequest, backtestRequest, forecastRequests, horizonProblem, whatIfDrivers } from "./requests.js";
import { anomalyTable, backtestTable, forecastTable } from "./tables.js";
import { apiKey, saveApiKey, shareWithFormulas, storageName } from "./settings.js";

/** The pane's element with this id: typed as an input, the widest of the pane's controls. */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));
const ACTION_BUTTONS = ["forecast", "anomalies", "backtest", "use-selection", "clear-highlights"];

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
  saved: new Map(),
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
      return { forecasts: answers.flatMap((a) => a.forecasts), scenario };
    },
    table: (data, response, o) => forecastTable(data, response.forecasts, o.level, response.scenario),
    summary: (data, response, table, o) =>
      `Forecast: ${o.horizon} steps ahead for ${seriesNames(data)}` +
      `${driversPhrase(driversRead(data, response.forecasts[0]))}${jointly(data, o)}` +
      `${response.scenario ? `, and what if ${response.scenario.label}` : ""}, ${o.level}% interval`,
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
      return `Backtest: ${o.windows} windows of ${o.horizon} steps for ${seriesNames(data)}${drivers}${jointly(data, o)}`;
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
  return { horizon, windows, level: Number($("level").value), placement, joint, whatIf: whatIf() };
}

function setBusy(label) {
  state.busy = Boolean(label);
  ACTION_BUTTONS.forEach((id) => ($(id).disabled = state.busy));
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
    const table = action.table(data, response, o);
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
    lastHealth = await api.health();
    setStatus("ok");
    retry = 0;
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

function start() {
  for (const name of Object.keys(ACTIONS)) $(name).addEventListener("click", () => runAction(name));
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
