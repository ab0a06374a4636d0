// The words the pane shows: data summaries, results and errors. Pure functions.

import { columnName } from "./a1.js";
import { cellForLocation } from "./parse.js";

const MAX_DETAILS = 12;

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function capped(lines) {
  if (lines.length <= MAX_DETAILS) return lines;
  return [...lines.slice(0, MAX_DETAILS), `…and ${lines.length - MAX_DETAILS} more`];
}

/** The Data section's summary of what the range holds. */
export function describeData(data) {
  const t = data.timeline;
  return {
    timeline: t ? `${t.header} (column ${columnOf(data, t.column)})` : "none: steps are numbered 1, 2, 3…",
    series: data.series.map((s) => `${s.name} (${columnOf(data, s.column)})`).join(", ") || "none",
    points: String(data.points),
    frequency: data.frequency ? data.frequency.label : t ? "not known: some dates are missing or not dates" : "steps",
  };
}

const columnOf = (data, column) => columnName(data.origin.column + column);

/** Bad cells found while reading the range. */
export function badCells(errors) {
  const text = errors.length === 1 ? "One cell needs fixing:" : `${errors.length} cells need fixing:`;
  return { kind: "error", text, details: capped(errors) };
}

/** "3 anomalies found" — with the count of each series when there are several. */
export function anomalyText(counts) {
  const total = counts.reduce((sum, c) => sum + c.count, 0);
  const head = `${plural(total, "anomaly", "anomalies")} found`;
  if (counts.length < 2) return head;
  return `${head}: ${counts.map((c) => `${c.name} ${c.count}`).join(", ")}`;
}

const isExcelError = (error) => typeof error?.code === "string" && (error.name === "RichApi.Error" || "debugInfo" in error);

/** Any failure as {kind, text, details} in plain words. */
export function describeError(error, data) {
  if (error?.name === "AbortError") return { kind: "info", text: "Cancelled. Nothing was written.", details: [] };
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
