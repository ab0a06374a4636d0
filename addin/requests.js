// The bodies the pane posts: series with their drivers (covariates), joint forecasts and what-if
// scenarios. Pure functions, no Excel or network calls.

/** Quantile levels for a central interval: 80 -> [0.1, 0.5, 0.9] (keys "0.1", "0.9" in responses). */
export const INTERVALS = { 80: [0.1, 0.5, 0.9], 90: [0.05, 0.5, 0.95], 95: [0.025, 0.5, 0.975] };

/** Drivers with values in the future rows: known in advance. */
export const knownAhead = (data) => data.drivers.filter((d) => d.future);

/** Drivers a what-if can change: numeric (not TRUE/FALSE), known in advance. */
export const whatIfDrivers = (data) => knownAhead(data).filter((d) => d.scalable);

/** -10 -> "−10%", 2.5 -> "+2.5%" (a true minus sign, as Excel's own labels). */
export function percentText(pct) {
  return `${pct < 0 ? "\u2212" : "+"}${Math.abs(pct)}%`;
}

/** The scenario's name from its changes {Price: -10}: "Price −10%", "Price −10%, Fuel +5%". */
export function scenarioLabel(changes) {
  return Object.entries(changes)
    .map(([name, pct]) => `${name} ${percentText(pct)}`)
    .join(", ");
}

/** A value changed by pct percent, rounded to 12 significant digits (so 9.9 −10% is 8.91, not 8.910000000000002). */
export function scaled(value, pct) {
  return value === null ? null : Number((value * (1 + pct / 100)).toPrecision(12));
}

/**
 * The drivers' future values over `horizon` steps, with the what-if `changes` applied: {name: values}.
 * Only for known-ahead drivers; a horizon shorter than the future rows takes their first `horizon`.
 */
export function futureValues(data, horizon, changes = {}) {
  const out = {};
  for (const d of knownAhead(data)) {
    const pct = changes[d.name];
    out[d.name] = d.future.slice(0, horizon).map((v) => (pct ? scaled(v, pct) : v));
  }
  return out;
}

/**
 * Each driver as a covariate: as long as the history (past-only, or always when horizon is null), or history
 * plus `horizon` future values for a known-ahead driver when forecasting.
 */
function covariates(data, horizon, changes) {
  const future = horizon ? futureValues(data, horizon, changes) : {};
  return Object.fromEntries(data.drivers.map((d) => [d.name, d.name in future ? [...d.values, ...future[d.name]] : d.values]));
}

/**
 * The `series` field of a request: one item per Forecast column, each with every driver as a covariate.
 * Options: horizon (forecast: known-ahead drivers get n + horizon values), changes (what-if percentages by
 * driver name) and suffix (added to the names, for the what-if series).
 */
export function apiSeries(data, { horizon = null, changes = {}, suffix = "" } = {}) {
  return data.series.map((s) => {
    const item = { name: `${s.name}${suffix}`, values: s.values };
    if (data.timeline) item.timestamps = data.timeline.serials;
    if (data.drivers.length) item.covariates = covariates(data, horizon, changes);
    return item;
  });
}

/**
 * Why a forecast of `horizon` steps cannot use the drivers' future values, or null when it can: a horizon
 * longer than the future rows would leave the drivers unknown past their last row.
 */
export function horizonProblem(data, horizon) {
  const ahead = knownAhead(data);
  if (!ahead.length || horizon <= data.future) return null;
  const rows = ahead.map((d) => `${d.name} to row ${d.lastRow}`).join(", ");
  return (
    `The horizon of ${horizon} steps goes past the drivers' future values (${rows}: ` +
    `${data.future} future ${data.future === 1 ? "row" : "rows"}). Set the horizon to ${data.future} or less, ` +
    "or fill in the drivers for the later dates."
  );
}

const joint = (data, o) => (o.joint && data.series.length > 1 ? { joint: true } : {});

/** The adapter chosen in the pane ({adapter: name}), or nothing for the model as it is. */
const adapter = (o) => (o.adapter ? { adapter: o.adapter } : {});

/** Bands calibrated on the series' own history when the option is ticked. */
const calibrate = (o) => (o.calibrate ? { calibrate: true } : {});

/**
 * The forecast's request bodies and its what-if scenario ({label, changes} or null). Without joint the
 * scenario's series ride in the same request, after the targets; with joint they are a second joint
 * request (the series of a joint group share their covariates).
 */
export function forecastRequests(data, o) {
  const common = {
    horizon: o.horizon,
    quantile_levels: INTERVALS[o.level],
    ...joint(data, o),
    ...adapter(o),
    ...calibrate(o),
  };
  const base = { series: apiSeries(data, { horizon: o.horizon }), ...common };
  const changes = Object.fromEntries(Object.entries(o.whatIf ?? {}).filter(([, pct]) => pct !== 0));
  if (!Object.keys(changes).length) return { bodies: [base], scenario: null };
  const label = scenarioLabel(changes);
  const series = apiSeries(data, { horizon: o.horizon, changes, suffix: ` (${label})` });
  const bodies = common.joint ? [base, { series, ...common }] : [{ ...base, series: [...base.series, ...series] }];
  return { bodies, scenario: { label, changes } };
}

const futureCovariates = (data) => {
  const names = knownAhead(data).map((d) => d.name);
  return names.length ? { future_covariates: names } : {};
};

/** The backtest's body: drivers as long as the history, the known-ahead ones named in future_covariates. */
export function backtestRequest(data, o) {
  return {
    series: apiSeries(data),
    horizon: o.horizon,
    windows: o.windows,
    level: o.level / 100,
    quantile_levels: INTERVALS[o.level],
    ...joint(data, o),
    ...futureCovariates(data),
    ...adapter(o),
    ...calibrate(o),
  };
}

/** The anomaly scan's body: drivers as long as the history, the known-ahead ones named in future_covariates. */
export function anomaliesRequest(data, o) {
  return { series: apiSeries(data), level: o.level / 100, ...futureCovariates(data), ...adapter(o) };
}

/** An adapter's name made of `text`: what POST /adapters takes (1 to 64 of A-Z a-z 0-9 _ . -). */
export function adapterName(text) {
  const name = String(text).trim().replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64);
  return name || "adapter";
}

/** The body that starts adapting the model to the data: the history (drivers as long as it, the known-ahead
 * ones named), the horizon, joint; the server holds out the last window of each series to validate. */
export function adaptRequest(data, o, name) {
  return { name, series: apiSeries(data), horizon: o.horizon, ...joint(data, o), ...futureCovariates(data) };
}

/** What the summary line says of the bands: "80% band calibrated on 4 past windows", or why not. */
export function calibrationText(forecasts, level) {
  const notes = forecasts.map((f) => ({ name: f.name, note: f.calibration })).filter((x) => x.note);
  if (!notes.length) return "";
  const done = notes.filter((x) => x.note.applied);
  const not = notes.filter((x) => !x.note.applied);
  const windows = Math.min(...done.map((x) => x.note.windows));
  const plural = (n) => `${n} past ${n === 1 ? "window" : "windows"}`;
  if (!not.length) return `${level}% band calibrated on ${plural(windows)}`;
  if (!done.length) return `${level}% band not calibrated: ${not[0].note.reason}`;
  return `${level}% band calibrated on ${plural(windows)} for ${done.map((x) => x.name).join(", ")}; ` +
    `not for ${not.map((x) => x.name).join(", ")} (${not[0].note.reason})`;
}
