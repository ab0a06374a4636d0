// The pane: wires the buttons to reading the range, calling the server and writing the results.
/* global Office */

import * as api from "./api.js";
import { readRange, restoreFills, selectionAddress, writeTable } from "./excel.js";
import { defaultHorizon } from "./dates.js";
import { anomalyText, badCells, describeData, describeError } from "./messages.js";
import { parseAddress } from "./a1.js";
import { apiSeries, parseData } from "./parse.js";
import { anomalyTable, backtestTable, forecastTable, INTERVALS } from "./tables.js";

const $ = (id) => document.getElementById(id);
const ACTION_BUTTONS = ["forecast", "anomalies", "backtest", "use-selection", "clear-highlights"];

const state = { data: null, controller: null, timer: null, busy: false, horizonEdited: false, saved: new Map() };

const seriesNames = (data) => (data.series.length === 1 ? data.series[0].name : `${data.series.length} series`);

const ACTIONS = {
  forecast: {
    kind: "Forecast",
    busy: "Forecasting",
    call: (data, o, signal) =>
      api.forecast({ series: apiSeries(data), horizon: o.horizon, quantile_levels: INTERVALS[o.level] }, signal),
    table: (data, response, o) => forecastTable(data, response, o.level),
    summary: (data, table, o) => `Forecast: ${o.horizon} steps ahead for ${seriesNames(data)}, ${o.level}% interval`,
  },
  anomalies: {
    kind: "Anomalies",
    busy: "Scanning for anomalies",
    call: (data, o, signal) => api.anomalies({ series: apiSeries(data), level: o.level / 100 }, signal),
    table: (data, response, o) => anomalyTable(data, response, o.level),
    summary: (data, table) => anomalyText(table.counts),
  },
  backtest: {
    kind: "Backtest",
    busy: "Backtesting",
    call: (data, o, signal) =>
      api.backtest(
        { series: apiSeries(data), horizon: o.horizon, windows: o.windows, level: o.level / 100,
          quantile_levels: INTERVALS[o.level] },
        signal,
      ),
    table: (data, response, o) => backtestTable(data, response, o.level),
    summary: (data, table, o) => `Backtest: ${o.windows} windows of ${o.horizon} steps for ${seriesNames(data)}`,
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

function showData(data) {
  const summary = describeData(data);
  for (const key of Object.keys(summary)) $(`summary-${key}`).textContent = summary[key];
  $("summary").hidden = false;
  if (!state.horizonEdited) $("horizon").value = String(data.timeline ? defaultHorizon(data.frequency) : 10);
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
  const placement = document.querySelector('input[name="placement"]:checked').value;
  return { horizon, windows, level: Number($("level").value), placement };
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
  const data = parseData(await readRange(address));
  if (!data.series) throw new Error(data.errors[0]);
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

async function deliver(action, data, table, o, placement) {
  setBusy("Writing to the workbook");
  const result = await writeTable(table, { kind: action.kind, placement, data });
  if (!result.written) {
    showMessage(
      { kind: "warning", text: `The cells ${result.blocked} beside the data are not empty, so nothing was written.` },
      [{ label: "Write to a new sheet", run: () => guard(() => deliver(action, data, table, o, "sheet"), data) }],
    );
    return;
  }
  remember(result.saved);
  showMessage({ kind: "success", text: `${action.summary(data, table, o)}. Written to ${result.address}.` });
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
    showMessage(describeError(error, data ?? state.data));
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
    state.controller = new AbortController();
    setBusy(action.busy);
    const response = await action.call(data, o, state.controller.signal);
    state.controller = null;
    setStatus("ok");
    await deliver(action, data, action.table(data, response, o), o, o.placement);
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
  if (info.host === Office.HostType.Excel) {
    start();
  } else {
    ACTION_BUTTONS.forEach((id) => ($(id).disabled = true));
    showMessage({ kind: "warning", text: "Open this pane from Excel: Data tab › Chronos Forecast." });
  }
});
