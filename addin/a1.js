// A1 addresses: "Sheet1!A1:C145", "'My data'!$B$2", "A:C". Pure functions, no Excel calls.

export const MAX_ROWS = 1048576;
export const MAX_COLUMNS = 16384;

/** 0 -> "A", 27 -> "AB". */
export function columnName(index) {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) {
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  }
  return name;
}

/** "AB" -> 27. */
export function columnIndex(name) {
  let n = 0;
  for (const ch of name.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** Row and column are 0-based: cellName(6, 2) -> "C7". */
export function cellName(row, column) {
  return `${columnName(column)}${row + 1}`;
}

/** "A1:C3" for 0-based corners; a single cell collapses to "A1". */
export function rangeName(r0, c0, r1, c1) {
  const first = cellName(r0, c0);
  return r0 === r1 && c0 === c1 ? first : `${first}:${cellName(r1, c1)}`;
}

/** Quote a sheet name when Excel would: 'My data'!A1, 'It''s'!A1. */
export function qualify(sheet, range) {
  if (!sheet) return range;
  const plain = /^[A-Za-z_][A-Za-z0-9_.]*$/.test(sheet) && !/^[A-Za-z]{1,3}\d+$/.test(sheet);
  return `${plain ? sheet : `'${sheet.replace(/'/g, "''")}'`}!${range}`;
}

/** "'My data'!A1:B2" -> {sheet: "My data", range: "A1:B2"}; no sheet -> sheet null. */
export function splitAddress(address) {
  const text = address.trim();
  const bang = text.lastIndexOf("!");
  if (bang < 0) return { sheet: null, range: text };
  let sheet = text.slice(0, bang);
  if (sheet.startsWith("'") && sheet.endsWith("'") && sheet.length >= 2) {
    sheet = sheet.slice(1, -1).replace(/''/g, "'");
  }
  return { sheet, range: text.slice(bang + 1) };
}

const CELL = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})$/;
const COLUMN = /^\$?([A-Za-z]{1,3})$/;
const ROW = /^\$?(\d{1,7})$/;

function corner(part) {
  let m = CELL.exec(part);
  if (m) return { row: Number(m[2]) - 1, column: columnIndex(m[1]) };
  m = COLUMN.exec(part);
  if (m) return { row: null, column: columnIndex(m[1]) };
  m = ROW.exec(part);
  if (m) return { row: Number(m[1]) - 1, column: null };
  return null;
}

/** "B2:D10" -> {r0: 1, c0: 1, r1: 9, c1: 3}; "A:C" and "2:5" span the sheet; null when not an A1 range. */
export function parseRange(range) {
  const parts = range.split(":");
  if (parts.length > 2) return null;
  const a = corner(parts[0]);
  const b = corner(parts[parts.length - 1]);
  if (!a || !b) return null;
  if (parts.length === 1 && (a.row === null || a.column === null)) return null;
  if ((a.row === null) !== (b.row === null) || (a.column === null) !== (b.column === null)) return null;
  const r0 = a.row ?? 0;
  const r1 = b.row ?? MAX_ROWS - 1;
  const c0 = a.column ?? 0;
  const c1 = b.column ?? MAX_COLUMNS - 1;
  const box = { r0: Math.min(r0, r1), c0: Math.min(c0, c1), r1: Math.max(r0, r1), c1: Math.max(c0, c1) };
  if (box.r1 >= MAX_ROWS || box.c1 >= MAX_COLUMNS || box.r0 < 0 || box.c0 < 0) return null;
  return box;
}

/** Parse a full address; null when it is not "[Sheet!]A1[:B2]". */
export function parseAddress(address) {
  const { sheet, range } = splitAddress(address);
  if (sheet === "") return null;
  const box = parseRange(range);
  return box && { sheet, ...box };
}
