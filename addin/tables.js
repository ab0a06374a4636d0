// The tables the actions write: 2-D values and number formats, charts and highlights. Pure functions.
// Boxes ({row, column, rows, columns}) are relative to the table's top-left cell.

import { parseDateText } from "./dates.js";
import { futureValues, INTERVALS, percentText } from "./requests.js";

const METRICS = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "WQL", "coverage"];
const METRIC_FORMATS = {
  MAPE: "0.0%",
  sMAPE: "0.0%",
  coverage: "0.0%",
  MASE: "0.000",
  WQL: "0.000",
  coverage_calibrated: "0.0%",
  WQL_calibrated: "0.000",
};
const CALIBRATED = ["WQL_calibrated", "coverage_calibrated"];
const CALIBRATED_NAMES = { WQL_calibrated: "WQL (calibrated)", coverage_calibrated: "coverage (calibrated)" };

/** A header string Excel must keep as text (not a formula, number or date). */
export function asText(text) {
  const s = String(text);
  const risky = /^[=+\-@']/.test(s) || (s.trim() !== "" && !Number.isNaN(Number(s))) || parseDateText(s) !== null;
  return risky ? `'${s}` : s;
}

/** The series' own number format, or one that suits its magnitude when it is General. */
export function valueFormat(series) {
  if (series.format && series.format !== "General") return series.format;
  const largest = Math.max(0, ...series.values.filter((v) => v !== null).map(Math.abs));
  if (largest >= 1000) return "#,##0";
  return largest >= 1 ? "#,##0.00" : "0.0000";
}

const blank = (v) => (v === null || v === undefined ? "" : v);

function grid(rows, columns) {
  return {
    values: Array.from({ length: rows }, () => new Array(columns).fill("")),
    numberFormat: Array.from({ length: rows }, () => new Array(columns).fill("General")),
  };
}

/** Give a whole column of the table, below its header, one number format (blank cells included). */
function formatColumn(table, column, format, fromRow = 1) {
  for (let r = fromRow; r < table.numberFormat.length; r++) table.numberFormat[r][column] = format;
}

function put(table, row, column, value, format = "General") {
  table.values[row][column] = blank(value);
  table.numberFormat[row][column] = format;
}

/** History timeline: Excel serials, or steps numbered from 1. */
function historyTimes(data) {
  return data.timeline ? data.timeline.serials : data.series[0].values.map((_, i) => i + 1);
}

const timeFormat = (data) => (data.timeline ? data.timeline.format : "0");
const timeHeader = (data) => (data.timeline ? data.timeline.header : "Step");

/** A driver's cell: text kept as text, numbers and TRUE/FALSE as they are. */
const driverCell = (v) => (typeof v === "string" ? asText(v) : v);

/**
 * Excel's Forecast Sheet layout: history rows then `horizon` future rows. First the drivers (their history
 * and the future values the forecast assumed, then each what-if driver's changed future values), then per
 * series the columns name, forecast, lower, upper (and the what-if forecast, lower, upper); the last history
 * row repeats the last value so the chart's lines join. `forecasts` holds the series' forecasts, then the
 * what-if ones; `scenario` is null or {label, changes} (see requests.forecastRequests).
 */
export function forecastTable(data, forecasts, level, scenario = null) {
  const [lo, , hi] = INTERVALS[level];
  const n = data.points;
  const h = forecasts[0].median.length;
  const drivers = data.drivers;
  const changed = scenario ? drivers.filter((d) => d.name in scenario.changes) : [];
  const block = scenario ? 7 : 4;
  const first = 1 + drivers.length + changed.length;
  const table = { ...grid(1 + n + h, first + block * data.series.length), bold: [], charts: [], highlights: [] };
  const times = historyTimes(data);
  const future = forecasts[0].timestamps ?? Array.from({ length: h }, (_, k) => n + k + 1);
  put(table, 0, 0, asText(timeHeader(data)));
  times.forEach((t, i) => put(table, 1 + i, 0, t, timeFormat(data)));
  future.forEach((t, k) => put(table, 1 + n + k, 0, t, timeFormat(data)));

  const ahead = futureValues(data, h);
  const whatIf = scenario ? futureValues(data, h, scenario.changes) : {};
  const driverColumns = [
    ...drivers.map((d) => [d.name, d, d.values, ahead[d.name] ?? []]),
    ...changed.map((d) => [`${d.name} (${percentText(scenario.changes[d.name])})`, d, [], whatIf[d.name]]),
  ];
  driverColumns.forEach(([name, d, history, next], c) => {
    put(table, 0, 1 + c, asText(name));
    formatColumn(table, 1 + c, d.format);
    history.forEach((v, i) => put(table, 1 + i, 1 + c, driverCell(v), d.format));
    next.forEach((v, k) => put(table, 1 + n + k, 1 + c, driverCell(v), d.format));
  });

  data.series.forEach((s, j) => {
    const col = first + block * j;
    const format = valueFormat(s);
    const names = [s.name, `${s.name} forecast`, `${s.name} lower ${level}%`, `${s.name} upper ${level}%`];
    const runs = [forecasts[j]];
    if (scenario) {
      names.push(...names.slice(1).map((name) => `${name} (${scenario.label})`));
      runs.push(forecasts[data.series.length + j]);
    }
    names.forEach((name, k) => {
      put(table, 0, col + k, asText(name));
      formatColumn(table, col + k, format);
    });
    s.values.forEach((v, i) => put(table, 1 + i, col, v, format));
    const last = s.values[n - 1];
    for (let k = 1; k < block; k++) put(table, n, col + k, last, format);
    runs.forEach((fc, r) => {
      const at = col + 1 + 3 * r;
      fc.median.forEach((v, k) => {
        put(table, 1 + n + k, at, v, format);
        put(table, 1 + n + k, at + 1, fc.quantiles[String(lo)][k], format);
        put(table, 1 + n + k, at + 2, fc.quantiles[String(hi)][k], format);
      });
    });
    table.charts.push({
      title: `${s.name}: forecast and ${level}% interval${scenario ? `, and what if ${scenario.label}` : ""}`,
      data: { row: 0, column: col, rows: 1 + n + h, columns: block },
      categories: { row: 1, column: 0, rows: n + h, columns: 1 },
    });
  });
  table.bold.push({ row: 0, column: 0, rows: 1, columns: table.values[0].length });
  return table;
}

/** Per series: timeline, value, expected, lower, upper, anomaly (TRUE/FALSE), score; blocks a column apart. */
export function anomalyTable(data, response, level) {
  const n = data.points;
  const width = 8 * data.series.length - 1;
  const table = { ...grid(1 + n, width), bold: [], charts: [], highlights: [], counts: [] };
  const times = historyTimes(data);
  const firstRow = data.origin.row + (data.hasHeader ? 1 : 0);
  data.series.forEach((s, j) => {
    const col = 8 * j;
    const a = response.anomalies[j];
    const format = valueFormat(s);
    const names = [timeHeader(data), s.name, `${s.name} expected`, `${s.name} lower ${level}%`,
      `${s.name} upper ${level}%`, `${s.name} anomaly`, `${s.name} score`];
    names.forEach((name, k) => put(table, 0, col + k, asText(name)));
    times.forEach((t, i) => {
      const row = [[t, timeFormat(data)], [s.values[i], format], [a.expected[i], format], [a.lower[i], format],
        [a.upper[i], format], [a.is_anomaly[i], "General"], [a.score[i], "0.00"]];
      row.forEach(([v, f], k) => put(table, 1 + i, col + k, v, f));
      if (a.is_anomaly[i] === true) table.highlights.push({ row: firstRow + i, column: data.origin.column + s.column });
    });
    table.counts.push({ name: s.name, count: a.is_anomaly.filter((x) => x === true).length });
    table.bold.push({ row: 0, column: col, rows: 1, columns: 7 });
  });
  return table;
}

/**
 * Per series: the metrics table (Chronos-2, Chronos-2 without drivers when it had drivers, seasonal naive;
 * then the skill score and the drivers' skill) above the per-window table.
 */
export function backtestTable(data, response, level) {
  const [lo, , hi] = INTERVALS[level];
  const results = response.backtests;
  const drivers = results.some((b) => b.without_covariates);
  const windowRows = Math.max(...results.map((b) => b.windows.reduce((sum, w) => sum + w.actual.length, 0)));
  const calibrated = results.some((b) => typeof b.metrics.coverage_calibrated === "number");
  const metricRows = calibrated ? [...METRICS, ...CALIBRATED] : METRICS;
  const top = metricRows.length + (drivers ? 4 : 3); // header, metrics, skill, drivers' skill, blank row
  const table = { ...grid(top + 1 + windowRows, 9 * results.length - 1), bold: [], charts: [], highlights: [] };
  data.series.forEach((s, j) => {
    const b = results[j];
    const col = 9 * j;
    const format = valueFormat(s);
    const models = [["Chronos-2", b.metrics]];
    if (drivers) models.push(["Chronos-2 without drivers", b.without_covariates?.metrics ?? {}]);
    models.push(["Seasonal naive", b.baseline.metrics]);
    [s.name, ...models.map(([name]) => name)].forEach((v, k) => put(table, 0, col + k, asText(v)));
    metricRows.forEach((m, i) => {
      const f = METRIC_FORMATS[m] ?? format;
      put(table, 1 + i, col, CALIBRATED_NAMES[m] ?? m);
      models.forEach(([, metrics], k) => put(table, 1 + i, col + 1 + k, metrics[m], f));
    });
    put(table, 1 + metricRows.length, col, "Skill score");
    put(table, 1 + metricRows.length, col + 1, b.skill, "0.000");
    if (drivers) {
      put(table, 2 + metricRows.length, col, "Drivers' skill");
      put(table, 2 + metricRows.length, col + 1, b.covariate_skill, "0.000");
    }
    const names = ["Window", "Cutoff", timeHeader(data), "Actual", "Chronos-2", "Seasonal naive",
      `Lower ${level}%`, `Upper ${level}%`];
    names.forEach((name, k) => put(table, top, col + k, asText(name)));
    let row = top + 1;
    b.windows.forEach((w, k) => {
      w.actual.forEach((actual, t) => {
        const stamp = data.timeline ? w.timestamps[t] : w.cutoff + 2 + t;
        const cells = [[k + 1, "0"], [data.timeline ? w.cutoff : w.cutoff + 1, timeFormat(data)],
          [stamp, timeFormat(data)], [actual, format], [w.median[t], format], [w.baseline[t], format],
          [w.quantiles[String(lo)][t], format], [w.quantiles[String(hi)][t], format]];
        cells.forEach(([v, f], c) => put(table, row, col + c, v, f));
        row += 1;
      });
    });
    table.bold.push({ row: 0, column: col, rows: 1, columns: 1 + models.length }, { row: top, column: col, rows: 1, columns: 8 });
    table.charts.push({
      title: `${s.name}: backtest, actual vs forecasts`,
      data: { row: top, column: col + 3, rows: row - top, columns: 3 },
      categories: { row: top + 1, column: col + 2, rows: row - top - 1, columns: 1 },
    });
  });
  return table;
}

/** "Model: amazon/chronos-2 with adapter Sales (cpu, float32)": which model made a table's numbers. */
export function modelCaption(model) {
  if (!model) return "";
  const adapter = model.adapter ? ` with adapter ${model.adapter}` : "";
  return `Model: ${model.id}${adapter} (${model.device}, ${model.dtype})`;
}

/** The table with a blank row and then `text` below it, in its first column (kept as text). */
export function captioned(table, text) {
  if (!text) return table;
  const columns = table.values[0].length;
  const row = (value) => [value, ...new Array(columns - 1).fill("")];
  return {
    ...table,
    values: [...table.values, row(""), row(asText(text))],
    numberFormat: [...table.numberFormat, row("General"), row("General")],
  };
}
