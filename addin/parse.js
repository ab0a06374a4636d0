// What a range holds: its timeline, its columns and their roles, the future rows, the bad cells.
// Pure functions, no Excel calls.

import { cellName, columnName, parseAddress, qualify, rangeName } from "./a1.js";
import { dateText, detectFrequency, isDateFormat, nextStamp, parseDateText } from "./dates.js";

const MISSING = new Set(["", "#N/A"]);

/** The roles a column can have: a series to forecast, a driver (covariate) of them, or neither. */
export const ROLES = ["Forecast", "Driver", "Ignore"];

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
const isWord = (c) => c.kind === "text" || c.kind === "bool";

function lastUsedRow(values) {
  for (let r = values.length - 1; r >= 0; r--) {
    if (values[r].some((v) => classify(v, "General").kind !== "blank")) return r;
  }
  return -1;
}

/** Index of the last non-blank cell of a column's cells, -1 when all are blank. */
function lastUsed(cells) {
  for (let r = cells.length - 1; r >= 0; r--) if (cells[r].kind !== "blank") return r;
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

/** What most used cells of a column are: "text" (text or TRUE/FALSE), "dates" or "number". */
function columnKind(cells) {
  const used = cells.filter((c) => c.kind !== "blank");
  if (used.filter(isWord).length * 2 > used.length) return "text";
  if (used.length && used.filter(isDate).length * 2 > used.length) return "dates";
  return "number";
}

/**
 * Default roles: text columns are drivers; dates beside the timeline are ignored; a numeric column with
 * values in trailing rows where the other numeric columns are blank is a known-in-advance driver; the other
 * numeric columns are forecast. `columns` are [{kind, cells}]; returns one role per column.
 */
export function defaultRoles(columns) {
  const ends = columns.filter((c) => c.kind === "number").map((c) => lastUsed(c.cells)).filter((r) => r >= 0);
  const end = Math.min(...ends);
  return columns.map((c) => {
    if (c.kind === "text") return "Driver";
    if (c.kind === "dates") return "Ignore";
    return lastUsed(c.cells) > end ? "Driver" : "Forecast";
  });
}

/** A driver's cell as sent to the API: numbers, text (categorical), booleans, null. */
function driverValue(cell, raw, categorical) {
  if (cell.kind === "blank") return null;
  if (cell.kind === "bool") return categorical ? (cell.value ? "TRUE" : "FALSE") : cell.value;
  if (cell.kind === "text" || cell.kind === "datetext") return String(raw);
  return cell.value;
}

/** The first future date that does not continue the history's timeline, as an error line; or null. */
function futureDateError(history, future, frequency, at) {
  const stamps = [...history];
  for (let k = 0; k < future.length; k++) {
    const expected = nextStamp(stamps, frequency);
    if (expected === null || future[k] === null) return null;
    if (Math.abs(future[k] - expected) > 0.5 / 86400) {
      return `${at(k)}: ${dateText(future[k])} does not continue the ${frequency.label} timeline: ` +
        `expected ${dateText(expected)}`;
    }
    stamps.push(future[k]);
  }
  return null;
}

/**
 * Read a range's values and number formats into series to forecast and their drivers.
 *
 * `roles` maps a column's index in the range to a role of ROLES, overriding the defaults.
 * Returns {address, sheet, origin: {row, column}, rows, columns, hasHeader, timeline, fields, series,
 * drivers, points, future, frequency, errors}:
 * - timeline is null or {column, header, serials (points), future (future serials), format};
 * - fields lists every column but the timeline: {name, column, kind, role};
 * - series (the Forecast columns): {name, column, values (points numbers or null), format};
 * - drivers: {name, column, type ("numeric" | "categorical"), values (points), future (`future` values, or
 *   null when it has none: past-only), lastRow (its last future row, 1-based in the sheet), format};
 * - points: history rows; future: the trailing rows where every Forecast column is blank and some driver
 *   has a value;
 * - errors lists bad cells as "C7: 'n/a' is not a number".
 * @returns {Record<string, any>} the object above (only `errors` when the address is not a range)
 */
export function parseData({ address, values, numberFormat }, roles = {}) {
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
  const used = lastUsedRow(values) + 1;
  if (used === 0) return { ...base, errors: [`The range ${address} is empty.`] };
  const cells = values.slice(0, used).map((row, r) => row.map((v, c) => classify(v, numberFormat[r][c])));
  const hasHeader = used > 1 && isHeader(cells[0]);
  const offset = hasHeader ? 1 : 0;
  const grid = cells.slice(offset);
  const header = (c) => (hasHeader && cells[0][c].kind === "text" ? cells[0][c].value.trim() : "");
  const timelineColumn = findTimeline(grid, base.columns);

  /** @type {{name: string, column: number, kind: string, cells: object[], role?: string}[]} */
  const fields = [];
  for (let col = 0; col < base.columns; col++) {
    if (col === timelineColumn) continue;
    const column = grid.map((row) => row[col]);
    if (column.every((c) => c.kind === "blank") && !header(col)) continue;
    fields.push({ name: header(col) || `Series ${fields.length + 1}`, column: col, kind: columnKind(column), cells: column });
  }
  const defaults = defaultRoles(fields);
  fields.forEach((f, i) => (f.role = ROLES.includes(roles[f.column]) ? roles[f.column] : defaults[i]));
  const targets = fields.filter((f) => f.role === "Forecast");
  const drivers = fields.filter((f) => f.role === "Driver");

  // History rows end at the last Forecast value; driver values below it are the future.
  const lastTarget = Math.max(-1, ...targets.map((f) => lastUsed(f.cells)));
  const lastDriver = Math.max(-1, ...drivers.map((f) => lastUsed(f.cells)));
  const hasFuture = lastTarget >= 0 && lastDriver > lastTarget;
  const n = hasFuture ? lastTarget + 1 : grid.length;
  const rows = hasFuture ? lastDriver + 1 : grid.length;

  const errors = [];
  let timeline = null;
  if (timelineColumn !== null) {
    const serials = grid.slice(0, rows).map((row, r) => {
      const cell = row[timelineColumn];
      if (cell.kind === "blank") errors.push(`${at(r + offset, timelineColumn)}: the date is missing`);
      else if (!isDate(cell)) errors.push(`${at(r + offset, timelineColumn)}: ${quoteCell(cell)} is not a date`);
      return isDate(cell) ? cell.value : null;
    });
    timeline = {
      column: timelineColumn,
      header: header(timelineColumn) || "Date",
      serials: serials.slice(0, n),
      future: serials.slice(n),
      format: timelineFormat(grid, timelineColumn, numberFormat, offset),
    };
  }
  const frequency = timeline?.serials.every((s) => s !== null) ? detectFrequency(timeline.serials) : null;

  const series = targets.map((f) => {
    const numbers = f.cells.slice(0, n).map((cell, r) => {
      if (cell.kind === "number" || cell.kind === "date") return cell.value;
      if (cell.kind !== "blank") errors.push(`${at(r + offset, f.column)}: ${quoteCell(cell)} is not a number`);
      return null;
    });
    if (numbers.every((v) => v === null)) {
      errors.push(`${f.name} (column ${columnName(where.c0 + f.column)}) has no numbers`);
    }
    return { name: f.name, column: f.column, values: numbers, format: numberFormatOf(f, numberFormat, offset) };
  });
  const seen = new Map();
  const driverList = drivers.map((f) => {
    const letter = columnName(where.c0 + f.column);
    if (seen.has(f.name)) {
      errors.push(`${header(f.column) ? at(0, f.column) : letter}: two drivers are named '${f.name}' ` +
        `(columns ${seen.get(f.name)} and ${letter}); give each its own name`);
    }
    seen.set(f.name, letter);
    const categorical = f.cells.slice(0, rows).some((c) => c.kind === "text" || c.kind === "datetext");
    const read = (r) => driverValue(f.cells[r], values[r + offset][f.column], categorical);
    const history = Array.from({ length: n }, (_, r) => read(r));
    const future = Array.from({ length: rows - n }, (_, k) => read(n + k));
    const last = lastUsed(f.cells.slice(0, rows));
    return {
      name: f.name,
      column: f.column,
      type: categorical ? "categorical" : "numeric",
      values: history,
      future: future.some((v) => v !== null) ? future : null,
      lastRow: where.r0 + offset + last + 1,
      scalable: !categorical && f.cells.every((c) => c.kind !== "bool"),
      format: categorical ? "General" : numberFormatOf(f, numberFormat, offset),
    };
  });

  if (hasFuture && frequency) {
    const error = futureDateError(timeline.serials, timeline.future, frequency, (k) =>
      at(n + k + offset, timelineColumn),
    );
    if (error) errors.push(error);
  }
  if (!fields.length && !errors.length) errors.push(`The range ${address} has a timeline but no value column.`);
  else if (fields.length && !targets.length) {
    errors.push(`No column is to be forecast: set the role of at least one column to Forecast`);
  }
  return {
    ...base,
    rows: offset + rows,
    hasHeader,
    timeline,
    fields: fields.map(({ name, column, kind, role }) => ({ name, column, kind, role })),
    series,
    drivers: driverList,
    points: n,
    future: rows - n,
    frequency,
    errors,
  };
}

function numberFormatOf(field, numberFormat, offset) {
  const first = field.cells.findIndex((c) => c.kind === "number");
  return first >= 0 ? numberFormat[first + offset][field.column] : "General";
}

/** The worksheet cell (or column range) behind an API error location such as ["series", 0, "values", 17]. */
export function cellForLocation(data, loc) {
  if (!Array.isArray(loc) || loc[0] !== "series" || !data?.series?.length || !Number.isInteger(loc[1])) return null;
  const series = data.series[loc[1] % data.series.length]; // what-if series repeat the targets in order
  const top = data.origin.row + (data.hasHeader ? 1 : 0);
  if (loc[2] === "covariates") {
    const driver = data.drivers.find((d) => d.name === loc[3]);
    if (!driver) return null;
    const column = data.origin.column + driver.column;
    const index = loc[4];
    if (!Number.isInteger(index)) return rangeName(top, column, data.origin.row + data.rows - 1, column);
    return index >= 0 && index < data.points + data.future ? cellName(top + index, column) : null;
  }
  const index = loc[3];
  const column = loc[2] === "timestamps" ? data.timeline?.column : loc[2] === "values" ? series?.column : null;
  if (!series || column === null || column === undefined) return null;
  const at = data.origin.column + column;
  if (index === undefined) return rangeName(top, at, top + data.points - 1, at); // the whole column's history
  if (!Number.isInteger(index) || index < 0 || index >= data.points) return null;
  return cellName(top + index, at);
}

/** The address of the data's used rows, e.g. "Sheet1!A1:C145". */
export function usedAddress(data) {
  const { row, column } = data.origin;
  return qualify(data.sheet, rangeName(row, column, row + data.rows - 1, column + data.columns - 1));
}
