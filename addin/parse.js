// What a range holds: its timeline, its series, the bad cells. Pure functions, no Excel calls.

import { cellName, columnName, parseAddress, qualify, rangeName } from "./a1.js";
import { detectFrequency, isDateFormat, parseDateText } from "./dates.js";

const MISSING = new Set(["", "#N/A"]);

/** One cell as {kind, value}: number, date (serial), blank, text, bool. */
export function classify(value, format) {
  if (typeof value === "number") {
    return isDateFormat(format) ? { kind: "date", value } : { kind: "number", value };
  }
  if (typeof value === "boolean") return { kind: "bool", value };
  const text = value === null || value === undefined ? "" : String(value);
  if (MISSING.has(text.trim().toUpperCase())) return { kind: "blank", value: null };
  const serial = parseDateText(text);
  return serial === null ? { kind: "text", value: text } : { kind: "datetext", value: serial };
}

const isDate = (c) => c.kind === "date" || c.kind === "datetext";

function lastUsedRow(values) {
  for (let r = values.length - 1; r >= 0; r--) {
    if (values[r].some((v) => classify(v, "General").kind !== "blank")) return r;
  }
  return -1;
}

function isHeader(cells) {
  const used = cells.filter((c) => c.kind !== "blank");
  return used.length > 0 && used.every((c) => c.kind === "text");
}

function findTimeline(grid, width) {
  for (let col = 0; col < width; col++) {
    const used = grid.map((row) => row[col]).filter((c) => c.kind !== "blank");
    if (used.length && used.filter(isDate).length * 2 > used.length) return col;
  }
  return null;
}

function quoteCell(cell) {
  if (cell.kind === "bool") return cell.value ? "TRUE" : "FALSE";
  return `'${cell.value}'`;
}

function timelineFormat(grid, col, formats, offset) {
  const first = grid.findIndex((row) => row[col].kind === "date");
  if (first >= 0) return formats[first + offset][col];
  const serials = grid.map((row) => row[col].value).filter((v) => v !== null);
  return serials.some((s) => Math.abs(s - Math.round(s)) > 1e-9) ? "yyyy-mm-dd hh:mm" : "yyyy-mm-dd";
}

/**
 * Read a range's values and number formats into series.
 *
 * Returns {address, sheet, origin: {row, column}, rows, columns, hasHeader, timeline, series, points,
 * frequency, errors}; timeline is null or {column, header, serials, format}; each series is
 * {name, column, values (numbers or null), format}; errors lists bad cells as "C7: 'n/a' is not a number".
 */
export function parseData({ address, values, numberFormat }) {
  const where = parseAddress(address);
  if (!where) return { errors: [`'${address}' is not a range address such as Sheet1!A1:C145.`] };
  const at = (r, c) => cellName(where.r0 + r, where.c0 + c);
  const base = {
    address,
    sheet: where.sheet,
    origin: { row: where.r0, column: where.c0 },
    columns: where.c1 - where.c0 + 1,
    errors: [],
  };
  const rows = lastUsedRow(values) + 1;
  if (rows === 0) return { ...base, errors: [`The range ${address} is empty.`] };
  const cells = values.slice(0, rows).map((row, r) => row.map((v, c) => classify(v, numberFormat[r][c])));
  const hasHeader = rows > 1 && isHeader(cells[0]);
  const offset = hasHeader ? 1 : 0;
  const grid = cells.slice(offset);
  const header = (c) => (hasHeader && cells[0][c].kind === "text" ? cells[0][c].value.trim() : "");
  const errors = [];
  const timelineColumn = findTimeline(grid, base.columns);
  let timeline = null;
  if (timelineColumn !== null) {
    grid.forEach((row, r) => {
      const cell = row[timelineColumn];
      if (cell.kind === "blank") errors.push(`${at(r + offset, timelineColumn)}: the date is missing`);
      else if (!isDate(cell)) errors.push(`${at(r + offset, timelineColumn)}: ${quoteCell(cell)} is not a date`);
    });
    timeline = {
      column: timelineColumn,
      header: header(timelineColumn) || "Date",
      serials: grid.map((row) => (isDate(row[timelineColumn]) ? row[timelineColumn].value : null)),
      format: timelineFormat(grid, timelineColumn, numberFormat, offset),
    };
  }
  const series = [];
  for (let col = 0; col < base.columns; col++) {
    if (col === timelineColumn) continue;
    if (grid.every((row) => row[col].kind === "blank") && !header(col)) continue;
    const numbers = grid.map((row, r) => {
      const cell = row[col];
      if (cell.kind === "number" || cell.kind === "date") return cell.value;
      if (cell.kind !== "blank") errors.push(`${at(r + offset, col)}: ${quoteCell(cell)} is not a number`);
      return null;
    });
    const name = header(col) || `Series ${series.length + 1}`;
    const firstNumber = grid.findIndex((row) => row[col].kind === "number");
    const format = firstNumber >= 0 ? numberFormat[firstNumber + offset][col] : "General";
    if (numbers.every((v) => v === null)) errors.push(`${name} (column ${columnName(where.c0 + col)}) has no numbers`);
    series.push({ name, column: col, values: numbers, format });
  }
  if (!series.length && !errors.length) errors.push(`The range ${address} has a timeline but no value column.`);
  return {
    ...base,
    rows,
    hasHeader,
    timeline,
    series,
    points: grid.length,
    frequency: timeline?.serials.every((s) => s !== null) ? detectFrequency(timeline.serials) : null,
    errors,
  };
}

/** The `series` field of an API request. */
export function apiSeries(data) {
  return data.series.map((s) => {
    const item = { name: s.name, values: s.values };
    if (data.timeline) item.timestamps = data.timeline.serials;
    return item;
  });
}

/** The worksheet cell behind an API error location such as ["series", 0, "values", 17], or null. */
export function cellForLocation(data, loc) {
  if (!Array.isArray(loc) || loc[0] !== "series" || !data?.series) return null;
  const series = data.series[loc[1]];
  const index = loc[3];
  if (!series || !Number.isInteger(index) || index < 0 || index >= data.points) return null;
  const column = loc[2] === "timestamps" ? data.timeline?.column : loc[2] === "values" ? series.column : null;
  if (column === null || column === undefined) return null;
  return cellName(data.origin.row + (data.hasHeader ? 1 : 0) + index, data.origin.column + column);
}

/** The address of the data's used rows, e.g. "Sheet1!A1:C145". */
export function usedAddress(data) {
  const { row, column } = data.origin;
  return qualify(data.sheet, rangeName(row, column, row + data.rows - 1, column + data.columns - 1));
}
