// A fake of the Excel JavaScript API (and of the bits of Office the pane touches), injected into the
// pane with Playwright's add_init_script. A test fixture, never shipped.
//
// It behaves like Excel where the pane could go wrong:
// - calls are queued and run only at context.sync(), in order; the first failing call rejects the
//   sync and the calls after it never run (calls before it stay applied, as in Excel);
// - reading a property before load() + sync() throws PropertyNotLoaded;
// - writing a 2-D array whose shape differs from the range rejects at sync() with InvalidArgument;
// - A1 addresses (sheet-qualified too), getCell, getOffsetRange, getResizedRange, getRange,
//   getSelectedRange, worksheets.add/getItem/getActiveWorksheet, number formats, fills, fonts,
//   clear() and charts.add follow the documented behaviour.
// window.__fake lets a test set cells, select a range, inject a failure and inspect everything.
(() => {
  const MAX_ROWS = 1048576;
  const MAX_COLUMNS = 16384;

  class RichApiError extends Error {
    constructor(code, message) {
      super(message);
      this.name = "RichApi.Error";
      this.code = code;
      this.debugInfo = { code, message };
    }
  }
  const invalid = (why) => new RichApiError("InvalidArgument", `The argument is invalid or missing or has an incorrect format. ${why}`);

  // ---- the workbook --------------------------------------------------------------------------
  const book = { sheets: [], active: null, selection: null };
  const fake = {
    book,
    runs: 0,
    syncs: 0,
    log: [], // {run, sync, op, target, props}: every call Excel ran, in order
    failOn: null, // {op: "charts.add", code: "GeneralException", message}
    syncDelayMs: 0,
    apiVersion: 1.9,
  };

  function newSheet(name) {
    const sheet = { name, cells: new Map(), charts: [], deleted: false };
    book.sheets.push(sheet);
    return sheet;
  }
  const findSheet = (name) => book.sheets.find((s) => s.name.toLowerCase() === String(name).toLowerCase());
  book.active = newSheet("Sheet1");

  const blankCell = () => ({ value: "", formula: null, numberFormat: "General", color: "#FFFFFF", pattern: "None", bold: false });
  const cellAt = (sheet, r, c) => sheet.cells.get(`${r},${c}`) ?? blankCell();
  function touch(sheet, r, c) {
    const key = `${r},${c}`;
    if (!sheet.cells.has(key)) sheet.cells.set(key, blankCell());
    return sheet.cells.get(key);
  }

  // ---- A1 addresses (an implementation independent of the pane's) ------------------------------
  const colIndex = (letters) => [...letters.toUpperCase()].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
  function colName(index) {
    let s = "";
    for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
    return s;
  }
  function parseA1(text) {
    const parts = String(text).trim().split(":");
    const one = (p) => {
      let m = /^\$?([A-Z]{1,3})\$?([0-9]+)$/i.exec(p);
      if (m) return { r: Number(m[2]) - 1, c: colIndex(m[1]) };
      m = /^\$?([A-Z]{1,3})$/i.exec(p);
      if (m && parts.length === 2) return { r: null, c: colIndex(m[1]) };
      m = /^\$?([0-9]+)$/.exec(p);
      if (m && parts.length === 2) return { r: Number(m[1]) - 1, c: null };
      throw invalid(`'${text}' is not an A1 address.`);
    };
    if (parts.length > 2) throw invalid(`'${text}' is not an A1 address.`);
    const a = one(parts[0]);
    const b = one(parts[parts.length - 1]);
    const box = {
      r0: Math.min(a.r ?? 0, b.r ?? 0), r1: Math.max(a.r ?? MAX_ROWS - 1, b.r ?? MAX_ROWS - 1),
      c0: Math.min(a.c ?? 0, b.c ?? 0), c1: Math.max(a.c ?? MAX_COLUMNS - 1, b.c ?? MAX_COLUMNS - 1),
    };
    checkBox(box);
    return box;
  }
  function checkBox(box) {
    if (box.r0 < 0 || box.c0 < 0 || box.r1 >= MAX_ROWS || box.c1 >= MAX_COLUMNS || box.r1 < box.r0 || box.c1 < box.c0) {
      throw invalid("The range would fall outside the worksheet.");
    }
    return box;
  }
  function splitSheet(address) {
    const i = address.lastIndexOf("!");
    if (i < 0) return { sheet: null, a1: address };
    let sheet = address.slice(0, i);
    if (/^'.*'$/.test(sheet)) sheet = sheet.slice(1, -1).replace(/''/g, "'");
    return { sheet, a1: address.slice(i + 1) };
  }
  const quoteSheet = (name) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `'${name.replace(/'/g, "''")}'`);
  function a1(box) {
    const first = `${colName(box.c0)}${box.r0 + 1}`;
    return box.r0 === box.r1 && box.c0 === box.c1 ? first : `${first}:${colName(box.c1)}${box.r1 + 1}`;
  }
  const fullAddress = (sheet, box) => `${quoteSheet(sheet.name)}!${a1(box)}`;

  function eachCell(box, fn) {
    for (let r = box.r0; r <= box.r1; r++) for (let c = box.c0; c <= box.c1; c++) fn(r, c, r - box.r0, c - box.c0);
  }
  function grid(sheet, box, read) {
    const out = [];
    for (let r = box.r0; r <= box.r1; r++) {
      const row = [];
      for (let c = box.c0; c <= box.c1; c++) row.push(read(cellAt(sheet, r, c)));
      out.push(row);
    }
    return out;
  }
  const uniform = (sheet, box, read) => {
    const all = grid(sheet, box, read).flat();
    return all.every((v) => v === all[0]) ? all[0] : null;
  };

  // What Excel stores when a value is written: numbers stay numbers, numeric text becomes a number,
  // a leading apostrophe forces text, a leading "=" is a formula.
  function storeValue(cell, v) {
    cell.formula = null;
    if (typeof v === "string" && v.startsWith("'")) cell.value = v.slice(1);
    else if (typeof v === "string" && v.startsWith("=")) [cell.formula, cell.value] = [v, "#NAME?"];
    else if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) cell.value = Number(v);
    else if (v === null || v === undefined) cell.value = "";
    else if (typeof v === "number" && !Number.isFinite(v)) throw invalid("A value is not a finite number.");
    else cell.value = v;
  }
  function writeGrid(sheet, box, data, what, store) {
    const rows = box.r1 - box.r0 + 1;
    const cols = box.c1 - box.c0 + 1;
    if (!Array.isArray(data)) return eachCell(box, (r, c) => store(touch(sheet, r, c), data));
    if (data.length !== rows || data.some((row) => !Array.isArray(row) || row.length !== cols)) {
      const found = Array.isArray(data[0]) ? `${data.length}x${data[0].length}` : `${data.length} (not 2-D)`;
      throw new RichApiError(
        "InvalidArgument",
        `The number of rows or columns in the input array doesn't match the size or dimensions of the range ` +
          `(${what}: range ${rows}x${cols}, array ${found}).`,
      );
    }
    eachCell(box, (r, c, i, j) => store(touch(sheet, r, c), data[i][j]));
  }
  const valueType = (cell) =>
    cell.value === "" ? "Empty" : typeof cell.value === "number" ? "Double" : typeof cell.value === "boolean" ? "Boolean"
      : /^#(N\/A|DIV\/0!|VALUE!|REF!|NAME\?|NUM!|NULL!)$/.test(cell.value) ? "Error" : "String";

  // ---- the request context and its queue -------------------------------------------------------
  let runId = 0;
  class RequestContext {
    constructor() {
      this.queue = [];
      this.run = ++runId;
      this.workbook = makeWorkbook(this);
    }
    enqueue(op, target, fn, props = null) {
      this.queue.push({ op, target, fn, props });
    }
    async sync() {
      const ops = this.queue;
      this.queue = [];
      fake.syncs += 1;
      const sync = fake.syncs;
      await new Promise((resolve) => setTimeout(resolve, fake.syncDelayMs));
      for (const { op, target, fn, props } of ops) {
        if (fake.failOn && fake.failOn.op === op) {
          const { code = "GeneralException", message = "There was an internal error while processing the request." } = fake.failOn;
          fake.failOn = null;
          throw new RichApiError(code, message);
        }
        fn();
        fake.log.push({ run: this.run, sync, op, target: typeof target === "function" ? target() : target, props });
      }
    }
  }

  const notLoaded = (name) =>
    new RichApiError(
      "PropertyNotLoaded",
      `The property '${name}' is not available. Before reading the property's value, call the load method on the ` +
        `containing object and call "context.sync()" on the associated request context.`,
    );

  function loadNames(spec, known) {
    if (spec === undefined) return known;
    const list = Array.isArray(spec) ? spec : typeof spec === "object" ? String(spec.select || "").split(",") : String(spec).split(",");
    return list.map((s) => s.trim()).filter(Boolean);
  }

  // An object whose scalar properties need load() + sync() before they can be read.
  function loadable(ctx, kind, obj, resolve, readers, writers = {}) {
    const loaded = {};
    obj.load = (spec) => {
      const names = loadNames(spec, Object.keys(readers));
      ctx.enqueue(`${kind}.load`, () => describe(resolve), () => {
        const target = resolve();
        for (const name of names) {
          if (!(name in readers)) throw invalid(`'${name}' is not a property of ${kind}.`);
          loaded[name] = readers[name](target);
        }
      }, names);
      return obj;
    };
    for (const name of Object.keys(readers)) {
      Object.defineProperty(obj, name, {
        enumerable: true,
        configurable: true,
        get() {
          if (!(name in loaded)) throw notLoaded(name);
          return loaded[name];
        },
        set(value) {
          if (!writers[name]) throw new RichApiError("InvalidOperation", `${kind}.${name} is read-only.`);
          loaded[name] = value;
          ctx.enqueue(`${kind}.${name}`, () => describe(resolve), () => writers[name](resolve(), value));
        },
      });
    }
    return obj;
  }
  function describe(resolve) {
    try {
      const t = resolve();
      return t.box ? fullAddress(t.sheet, t.box) : t.name;
    } catch {
      return null;
    }
  }

  function makeWorkbook(ctx) {
    const worksheets = makeWorksheets(ctx);
    return {
      worksheets,
      getSelectedRange() {
        return makeRange(ctx, () => {
          const { sheet, box } = book.selection ?? { sheet: book.active, box: parseA1("A1") };
          return { sheet, box };
        });
      },
    };
  }

  function liveSheet(sheet) {
    if (!sheet || sheet.deleted) throw new RichApiError("ItemNotFound", "The requested resource doesn't exist.");
    return sheet;
  }

  function makeWorksheets(ctx) {
    const coll = {
      getItem: (name) => makeWorksheet(ctx, () => liveSheet(findSheet(name))),
      getActiveWorksheet: () => makeWorksheet(ctx, () => liveSheet(book.active)),
      add(name) {
        let created = null;
        ctx.enqueue("worksheets.add", name, () => {
          let sheetName = name;
          if (sheetName === undefined) {
            for (let k = book.sheets.length + 1; findSheet((sheetName = `Sheet${k}`)); k++);
          }
          if (!sheetName || sheetName.length > 31 || /[\\/?*[\]:]/.test(sheetName)) throw invalid(`'${sheetName}' is not a valid sheet name.`);
          if (findSheet(sheetName)) throw new RichApiError("ItemAlreadyExists", "A resource with the same name or identifier already exists.");
          created = newSheet(sheetName);
        });
        return makeWorksheet(ctx, () => {
          if (!created) throw new RichApiError("InvalidObjectPath", "The object path isn't working for what you're trying to do.");
          return liveSheet(created);
        });
      },
    };
    let items = null;
    coll.load = (spec) => {
      const names = loadNames(spec, ["items"]);
      ctx.enqueue("worksheets.load", null, () => {
        if (!names.some((n) => n === "items" || n.startsWith("items/"))) throw invalid(`Cannot load '${names}'.`);
        items = book.sheets.filter((s) => !s.deleted).map((s) => {
          const ws = makeWorksheet(ctx, () => liveSheet(s));
          Object.defineProperty(ws, "name", { value: s.name, enumerable: true });
          return ws;
        });
      });
      return coll;
    };
    Object.defineProperty(coll, "items", {
      get() {
        if (!items) throw notLoaded("items");
        return items;
      },
    });
    return coll;
  }

  function makeWorksheet(ctx, resolve) {
    const ws = {
      getRange(address) {
        return makeRange(ctx, () => {
          const sheet = resolve();
          if (address === undefined) return { sheet, box: { r0: 0, c0: 0, r1: MAX_ROWS - 1, c1: MAX_COLUMNS - 1 } };
          const { sheet: named, a1: local } = splitSheet(address);
          if (named !== null && named.toLowerCase() !== sheet.name.toLowerCase()) throw invalid(`'${address}' is on another sheet.`);
          return { sheet, box: parseA1(local) };
        });
      },
      activate() {
        ctx.enqueue("worksheet.activate", () => describe(resolve), () => {
          book.active = resolve();
        });
      },
      delete() {
        ctx.enqueue("worksheet.delete", () => describe(resolve), () => {
          const sheet = resolve();
          if (book.sheets.filter((s) => !s.deleted).length === 1) throw new RichApiError("InvalidOperation", "A workbook must contain at least one visible worksheet.");
          sheet.deleted = true;
          book.sheets = book.sheets.filter((s) => s !== sheet);
          if (book.active === sheet) book.active = book.sheets[0];
        });
      },
      charts: makeCharts(ctx, resolve),
    };
    return loadable(ctx, "Worksheet", ws, resolve, { name: (s) => s.name, visibility: () => "Visible" }, {
      name: (s, v) => {
        s.name = v;
      },
    });
  }

  const CHART_TYPES = new Set(["Line", "LineMarkers", "LineStacked", "ColumnClustered", "Area", "XYScatterLines", "XYScatter"]);

  function rangeArg(ctx, value, sheetResolve) {
    if (typeof value === "string") return () => makeWorksheet(ctx, sheetResolve).getRange(value)._resolve();
    if (value && value._resolve) return value._resolve;
    throw invalid("Expected a Range or an address.");
  }

  function makeCharts(ctx, sheetResolve) {
    return {
      add(type, sourceData, seriesBy = "Auto") {
        let record = null;
        const source = rangeArg(ctx, sourceData, sheetResolve);
        ctx.enqueue("charts.add", type, () => {
          const sheet = sheetResolve();
          if (!CHART_TYPES.has(type)) throw invalid(`'${type}' is not a chart type.`);
          if (!["Auto", "Columns", "Rows"].includes(seriesBy)) throw invalid(`'${seriesBy}' is not a seriesBy value.`);
          const { sheet: srcSheet, box } = source();
          const header = grid(srcSheet, { ...box, r1: box.r0 }, (c) => c.value)[0];
          record = {
            name: `Chart ${sheet.charts.length + 1}`,
            type,
            seriesBy,
            source: fullAddress(srcSheet, box),
            series: seriesBy === "Rows" ? [] : header.map(String),
            title: "",
            categories: null,
            position: null,
          };
          sheet.charts.push(record);
        });
        const live = () => {
          if (!record) throw new RichApiError("InvalidObjectPath", "The chart was not created.");
          return record;
        };
        const chart = {
          title: loadable(ctx, "ChartTitle", {}, live, { text: (r) => r.title }, { text: (r, v) => (r.title = v) }),
          axes: {
            categoryAxis: {
              setCategoryNames(values) {
                const range = rangeArg(ctx, values, sheetResolve);
                ctx.enqueue("categoryAxis.setCategoryNames", null, () => {
                  const { sheet, box } = range();
                  live().categories = fullAddress(sheet, box);
                });
              },
            },
          },
          setPosition(start, end) {
            const a = rangeArg(ctx, start, sheetResolve);
            const b = end === undefined ? null : rangeArg(ctx, end, sheetResolve);
            ctx.enqueue("chart.setPosition", null, () => {
              live().position = { start: a1(a().box), end: b ? a1(b().box) : null };
            });
          },
          delete() {
            ctx.enqueue("chart.delete", null, () => {
              const r = live();
              const sheet = sheetResolve();
              sheet.charts = sheet.charts.filter((c) => c !== r);
            });
          },
        };
        return loadable(ctx, "Chart", chart, live, { name: (r) => r.name });
      },
    };
  }

  function makeRange(ctx, resolve) {
    const derive = (fn) => makeRange(ctx, () => {
      const { sheet, box } = resolve();
      return { sheet, box: checkBox(fn(box)) };
    });
    const cells = (fn) => () => {
      const { sheet, box } = resolve();
      eachCell(box, (r, c) => fn(touch(sheet, r, c)));
    };
    const fill = loadable(ctx, "RangeFill", {
      clear: () => ctx.enqueue("fill.clear", () => describe(resolve), cells((c) => Object.assign(c, { color: "#FFFFFF", pattern: "None" }))),
    }, resolve, {
      color: ({ sheet, box }) => uniform(sheet, box, (c) => c.color),
      pattern: ({ sheet, box }) => uniform(sheet, box, (c) => c.pattern),
    }, {
      color: ({ sheet, box }, v) => eachCell(box, (r, c) => Object.assign(touch(sheet, r, c), { color: String(v).toUpperCase(), pattern: "Solid" })),
      pattern: ({ sheet, box }, v) => eachCell(box, (r, c) => Object.assign(touch(sheet, r, c), { pattern: v })),
    });
    const font = loadable(ctx, "RangeFont", {}, resolve, { bold: ({ sheet, box }) => uniform(sheet, box, (c) => c.bold) }, {
      bold: ({ sheet, box }, v) => eachCell(box, (r, c) => (touch(sheet, r, c).bold = Boolean(v))),
    });
    const range = {
      _resolve: resolve,
      format: {
        fill,
        font,
        autofitColumns: () => ctx.enqueue("format.autofitColumns", () => describe(resolve), () => resolve()),
        autofitRows: () => ctx.enqueue("format.autofitRows", () => describe(resolve), () => resolve()),
      },
      worksheet: makeWorksheet(ctx, () => resolve().sheet),
      getCell: (row, column) => derive((b) => ({ r0: b.r0 + row, c0: b.c0 + column, r1: b.r0 + row, c1: b.c0 + column })),
      getOffsetRange: (rows, columns) => derive((b) => ({ r0: b.r0 + rows, c0: b.c0 + columns, r1: b.r1 + rows, c1: b.c1 + columns })),
      getResizedRange: (rows, columns) => derive((b) => ({ ...b, r1: b.r1 + rows, c1: b.c1 + columns })),
      getRow: (row) => derive((b) => ({ ...b, r0: b.r0 + row, r1: b.r0 + row })),
      getColumn: (column) => derive((b) => ({ ...b, c0: b.c0 + column, c1: b.c0 + column })),
      clear(applyTo = "All") {
        ctx.enqueue("range.clear", () => describe(resolve), cells((c) => {
          if (applyTo === "All" || applyTo === "Contents") Object.assign(c, { value: "", formula: null });
          if (applyTo === "All" || applyTo === "Formats") Object.assign(c, { numberFormat: "General", color: "#FFFFFF", pattern: "None", bold: false });
        }));
      },
    };
    return loadable(ctx, "Range", range, resolve, {
      address: ({ sheet, box }) => fullAddress(sheet, box),
      values: ({ sheet, box }) => grid(sheet, box, (c) => c.value),
      formulas: ({ sheet, box }) => grid(sheet, box, (c) => c.formula ?? c.value),
      numberFormat: ({ sheet, box }) => grid(sheet, box, (c) => c.numberFormat),
      valueTypes: ({ sheet, box }) => grid(sheet, box, valueType),
      rowCount: ({ box }) => box.r1 - box.r0 + 1,
      columnCount: ({ box }) => box.c1 - box.c0 + 1,
      rowIndex: ({ box }) => box.r0,
      columnIndex: ({ box }) => box.c0,
    }, {
      values: ({ sheet, box }, v) => writeGrid(sheet, box, v, "values", storeValue),
      formulas: ({ sheet, box }, v) => writeGrid(sheet, box, v, "formulas", storeValue),
      numberFormat: ({ sheet, box }, v) => writeGrid(sheet, box, v, "numberFormat", (c, f) => (c.numberFormat = String(f))),
    });
  }

  // ---- the globals the pane sees ---------------------------------------------------------------
  window.Excel = {
    async run(batch) {
      fake.runs += 1;
      const ctx = new RequestContext();
      const result = await batch(ctx);
      if (ctx.queue.length) await ctx.sync();
      return result;
    },
    RequestContext,
  };
  window.OfficeExtension = { Error: RichApiError };
  window.Office = {
    HostType: { Excel: "Excel" },
    PlatformType: { PC: "PC" },
    context: {
      requirements: {
        isSetSupported: (name, version) => name === "ExcelApi" && Number(version) <= fake.apiVersion,
      },
    },
    onReady(callback) {
      const info = { host: "Excel", platform: "PC" };
      const ready = new Promise((resolve) => setTimeout(() => resolve(info), 0));
      if (callback) ready.then(callback);
      return ready;
    },
  };

  // ---- what tests use ----------------------------------------------------------------------------
  function locate(address) {
    const { sheet: name, a1: local } = splitSheet(address);
    const sheet = name === null ? book.active : findSheet(name);
    if (!sheet) throw new Error(`fake: no sheet '${name}'`);
    return { sheet, box: parseA1(local) };
  }
  Object.assign(fake, {
    addSheet: (name) => newSheet(name).name,
    activate(name) {
      book.active = findSheet(name);
    },
    /** Set cells directly: values (2-D), optional number formats (2-D or one for all) and fill. */
    set(address, values, formats, color) {
      const { sheet, box } = locate(address);
      writeGrid(sheet, { ...box, r1: box.r0 + values.length - 1, c1: box.c0 + values[0].length - 1 }, values, "values", (c, v) => {
        c.value = v === null ? "" : v;
      });
      const area = { ...box, r1: box.r0 + values.length - 1, c1: box.c0 + values[0].length - 1 };
      if (formats !== undefined) writeGrid(sheet, area, formats, "numberFormat", (c, f) => (c.numberFormat = f));
      if (color) eachCell(area, (r, c) => Object.assign(touch(sheet, r, c), { color, pattern: "Solid" }));
    },
    select(address) {
      book.selection = locate(address);
      book.active = book.selection.sheet;
    },
    values: (address) => { const { sheet, box } = locate(address); return grid(sheet, box, (c) => c.value); },
    formats: (address) => { const { sheet, box } = locate(address); return grid(sheet, box, (c) => c.numberFormat); },
    fills: (address) => { const { sheet, box } = locate(address); return grid(sheet, box, (c) => (c.pattern === "None" ? null : c.color)); },
    bold: (address) => { const { sheet, box } = locate(address); return grid(sheet, box, (c) => c.bold); },
    sheetNames: () => book.sheets.map((s) => s.name),
    activeSheet: () => book.active.name,
    charts: (name) => findSheet(name).charts.map((c) => ({ ...c })),
    /** The address of the smallest box holding every non-empty cell of a sheet, or null. */
    usedRange(name) {
      const sheet = findSheet(name);
      let box = null;
      for (const [key, cell] of sheet.cells) {
        if (cell.value === "" && cell.formula === null) continue;
        const [r, c] = key.split(",").map(Number);
        box = box ? { r0: Math.min(box.r0, r), c0: Math.min(box.c0, c), r1: Math.max(box.r1, r), c1: Math.max(box.c1, c) }
          : { r0: r, c0: c, r1: r, c1: c };
      }
      return box && a1(box);
    },
    RichApiError,
  });
  window.__fake = fake;
})();
