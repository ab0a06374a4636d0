// The words the pane shows: data summaries, results and errors. Pure functions.

import { columnName } from "./a1.js";
import { cellForLocation } from "./parse.js";

const MAX_DETAILS = 12;

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function capped(lines) {
  if (lines.length <= MAX_DETAILS) return lines;
  return [...lines.slice(0, MAX_DETAILS), `…and ${lines.length - MAX_DETAILS} more`];
}

/** The Data section's summary of what the range holds; drivers and future are "" when there are none. */
export function describeData(data) {
  const t = data.timeline;
  const top = data.origin.row + (data.hasHeader ? 1 : 0) + 1;
  return {
    timeline: t ? `${t.header} (column ${columnOf(data, t.column)})` : "none: steps are numbered 1, 2, 3…",
    series: data.series.map((s) => `${s.name} (${columnOf(data, s.column)})`).join(", ") || "none",
    drivers: data.drivers.map((d) => `${d.name} (${columnOf(data, d.column)})`).join(", "),
    points: String(data.points),
    future: data.future ? `${plural(data.future, "row")} (${top + data.points}–${top + data.points + data.future - 1})` : "",
    frequency: data.frequency ? data.frequency.label : t ? "not known: some dates are missing or not dates" : "steps",
  };
}

/** "numbers, known to row 49", "text, past only". */
export function driverKind(driver) {
  const type = driver.type === "categorical" ? "text" : "numbers";
  return driver.future ? `${type}, known to row ${driver.lastRow}` : `${type}, past only`;
}

const columnOf = (data, column) => columnName(data.origin.column + column);

/** ["a", "b", "c"] -> "a, b and c". */
export function listText(items) {
  return items.length < 2 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** " with drivers Price and Promo", " with driver Price", or "" without drivers. */
export function driversPhrase(drivers) {
  if (!drivers.length) return "";
  return ` with ${drivers.length === 1 ? "driver" : "drivers"} ${listText(drivers)}`;
}

/** Bad cells (and other problems of the data, listed first) found while reading the range. */
export function badCells(errors) {
  const isCell = (e) => /^[A-Z]+\d+(:[A-Z]+\d+)?: /.test(e);
  const cells = errors.filter(isCell).length;
  const others = errors.length - cells;
  let text = "The data needs fixing:";
  if (!others) text = cells === 1 ? "One cell needs fixing:" : `${cells} cells need fixing:`;
  else if (cells) text = `${plural(cells, "cell")} and ${plural(others, "other problem")} need fixing:`;
  return { kind: "error", text, details: capped([...errors.filter((e) => !isCell(e)), ...errors.filter(isCell)]) };
}

/** "3 anomalies found" — with the count of each series when there are several. */
export function anomalyText(counts) {
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const head = `${plural(total, "anomaly", "anomalies")} found`;
  if (counts.length < 2) return head;
  return `${head}: ${counts.map((c) => `${c.name} ${c.count}`).join(", ")}`;
}

const isExcelError = (error) => typeof error?.code === "string" && (error.name === "RichApi.Error" || "debugInfo" in error);

/** A 401: the server wants a key the pane did not send, or did not accept the one it sent. */
function keyError(error) {
  const text = error.keySent
    ? "The server did not accept the API key: check it in Settings (gear). It must be one of the keys the server was started with."
    : "This server needs an API key: open Settings (gear) and enter it.";
  return { kind: "error", text, details: [], settings: true };
}

/** Any failure as {kind, text, details} in plain words; `settings` when the fix is in the settings panel. */
export function describeError(error, data) {
  if (error?.name === "AbortError") return { kind: "info", text: "Cancelled. Nothing was written.", details: [] };
  if (error?.name === "ApiError" && error.status === 401) return keyError(error);
  if (error?.name === "ApiError") {
    const details = (error.problem.errors || []).map((e) => {
      const cell = cellForLocation(data, e.loc);
      return `${cell ?? (e.loc || []).join(".")}: ${e.msg}`;
    });
    return { kind: "error", text: error.message, details: capped(details) };
  }
  if (isExcelError(error)) {
    return { kind: "error", text: `Excel could not do this (${error.code}): ${error.message}`, details: [] };
  }
  return { kind: "error", text: error?.message || String(error), details: [] };
}
