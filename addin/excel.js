// Every Excel call of the pane. Each function is one Excel.run batch: load, sync, queue, sync.
/* global Excel, Office */

import { cellName, splitAddress } from "./a1.js";

export const HIGHLIGHT = "#FFC7CE"; // Excel's "Light red fill"
const CHART_COLUMNS = 8;
const CHART_ROWS = 15;

const patternSupported = () => Boolean(Office?.context?.requirements?.isSetSupported?.("ExcelApi", "1.9"));

function worksheet(book, sheet) {
  return sheet ? book.worksheets.getItem(sheet) : book.worksheets.getActiveWorksheet();
}

/** The address of the selected range, e.g. "Sheet1!A1:C145". */
export function selectionAddress() {
  return Excel.run(async (context) => {
    const range = context.workbook.getSelectedRange();
    range.load("address");
    await context.sync();
    return range.address;
  });
}

/** {address, values, numberFormat} of a range, read in one sync. */
export function readRange(address) {
  return Excel.run(async (context) => {
    const { sheet, range: a1 } = splitAddress(address);
    const range = worksheet(context.workbook, sheet).getRange(a1);
    range.load(["address", "values", "numberFormat"]);
    await context.sync();
    return { address: range.address, values: range.values, numberFormat: range.numberFormat };
  });
}

/** "Forecast", then "Forecast (2)", … : the first name no sheet has (Excel compares names case-blind). */
export function freeSheetName(base, names) {
  const taken = new Set(names.map((n) => n.toLowerCase()));
  for (let k = 1; ; k++) {
    const name = k === 1 ? base : `${base} (${k})`;
    if (!taken.has(name.toLowerCase())) return name;
  }
}

const box = (range, b) => range.getCell(b.row, b.column).getResizedRange(b.rows - 1, b.columns - 1);
const isEmpty = (formulas) => formulas.every((row) => row.every((v) => v === "" || v === null));

function putFill(fill, saved) {
  if (saved.pattern === "None" || (saved.pattern === null && saved.color === "#FFFFFF")) {
    fill.clear();
  } else {
    fill.color = saved.color;
    if (saved.pattern && saved.pattern !== "Solid") fill.pattern = saved.pattern;
  }
}

async function undo(context, written) {
  try {
    written.cells.forEach((cell, i) => putFill(cell.format.fill, written.saved[i]));
    if (written.created) {
      written.sheet.delete();
    } else {
      written.target.clear("Contents");
      written.target.numberFormat = written.formats;
      written.charts.forEach((chart) => chart.delete());
    }
    await context.sync();
  } catch {
    // Best effort: the error that made us undo is the one the user is shown.
  }
}

/**
 * Write a table (from tables.js) in one batch: to a new sheet named `kind`, or beside the data when
 * every target cell is empty. Highlights anomalous source cells and returns their previous fills.
 * Returns {written: true, address, sheet, saved} or {written: false, blocked: address}.
 */
export function writeTable(table, { kind, placement, data }) {
  return Excel.run(async (context) => {
    const book = context.workbook;
    const rows = table.values.length;
    const columns = table.values[0].length;
    const source = worksheet(book, data.sheet);
    let target;
    if (placement === "beside") {
      target = source
        .getRange(cellName(data.origin.row, data.origin.column))
        .getOffsetRange(0, data.columns + 1)
        .getResizedRange(rows - 1, columns - 1);
      target.load(["address", "formulas", "numberFormat"]);
    } else {
      book.worksheets.load("items/name");
    }
    const withPattern = patternSupported();
    const cells = table.highlights.map((h) => source.getRange(cellName(h.row, h.column)));
    cells.forEach((cell) => cell.format.fill.load(withPattern ? ["color", "pattern"] : ["color"]));
    await context.sync();

    if (placement === "beside" && !isEmpty(target.formulas)) return { written: false, blocked: target.address };
    const written = { created: placement !== "beside", target, charts: [], formats: target?.numberFormat };
    if (written.created) {
      written.sheet = book.worksheets.add(freeSheetName(kind, book.worksheets.items.map((s) => s.name)));
      written.target = target = written.sheet.getRange("A1").getResizedRange(rows - 1, columns - 1);
    }
    const sheet = written.created ? written.sheet : source;
    const saved = cells.map((cell, i) => ({
      sheet: data.sheet,
      address: cellName(table.highlights[i].row, table.highlights[i].column),
      color: cell.format.fill.color,
      pattern: withPattern ? cell.format.fill.pattern : null,
    }));
    Object.assign(written, { cells, saved });
    target.numberFormat = table.numberFormat;
    target.values = table.values;
    table.bold.forEach((b) => {
      box(target, b).format.font.bold = true;
    });
    target.format.autofitColumns();
    table.charts.forEach((spec, i) => {
      const chart = sheet.charts.add("Line", box(target, spec.data), "Columns");
      written.charts.push(chart);
      chart.title.text = spec.title;
      chart.axes.categoryAxis.setCategoryNames(box(target, spec.categories));
      const corner = target.getCell(0, 0).getOffsetRange(i * (CHART_ROWS + 1), columns + 1);
      chart.setPosition(corner, corner.getOffsetRange(CHART_ROWS - 1, CHART_COLUMNS - 1));
    });
    cells.forEach((cell) => {
      cell.format.fill.color = HIGHLIGHT;
    });
    if (written.created) written.sheet.activate();
    target.load("address");
    try {
      await context.sync();
    } catch (error) {
      await undo(context, written);
      throw error;
    }
    return { written: true, address: target.address, sheet: written.created ? "new" : "beside", saved };
  });
}

/** Put back the fills that highlighted cells had before (see writeTable's `saved`). */
export function restoreFills(saved) {
  return Excel.run(async (context) => {
    for (const f of saved) {
      putFill(context.workbook.worksheets.getItem(f.sheet).getRange(f.address).format.fill, f);
    }
    await context.sync();
  });
}
