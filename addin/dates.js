// Excel dates (1900 date system) and the frequency of a timeline. Pure functions.

const MS_PER_DAY = 86400000;
const EXCEL_EPOCH = Date.UTC(1899, 11, 30); // serial 0; serial 1 is 1900-01-01 (after 1900-03-01)

/** Excel serial -> UTC Date, rounded to the second. */
export function serialToDate(serial) {
  return new Date(EXCEL_EPOCH + Math.round(serial * 86400) * 1000);
}

/** UTC milliseconds -> Excel serial. */
export function msToSerial(ms) {
  return (ms - EXCEL_EPOCH) / MS_PER_DAY;
}

/** True for number formats that display a date or time ("yyyy-mm-dd", "m/d/yyyy h:mm", "mmm-yy"). */
export function isDateFormat(format) {
  if (typeof format !== "string") return false;
  const bare = format
    .split(";")[0]
    .replace(/"[^"]*"/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\\./g, "")
    .replace(/General/gi, "");
  return /[dmyhs]/i.test(bare) && !/^[#0.,%\s]*$/.test(bare);
}

const ISO = /^(\d{4})[-/](\d{1,2})(?:[-/](\d{1,2}))?(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?(Z)?$/;

/** Date text -> Excel serial: "2024-01-31", "2024/01/31", "2024-01", "2024-01-31T10:00[:00][Z]"; else null. */
export function parseDateText(text) {
  const m = ISO.exec(String(text).trim());
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), m[3] === undefined ? 1 : Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = Date.UTC(year, month - 1, day, hour, minute, 0) + second * 1000;
  const date = new Date(ms);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59) return null;
  return msToSerial(ms);
}

const HORIZONS = { hourly: 24, daily: 14, weekly: 13, monthly: 12, quarterly: 8, yearly: 6 };

/** Default forecast horizon for a frequency name: 24 hourly … 6 yearly, else 10. */
export function defaultHorizon(frequency) {
  return HORIZONS[frequency?.name] ?? 10;
}

function monthStep(dates) {
  const endOfMonth = (d) => new Date(d.getTime() + MS_PER_DAY).getUTCDate() === 1;
  const sameDay = dates.every((d) => d.getUTCDate() === dates[0].getUTCDate());
  const allEnds = dates.every(endOfMonth);
  const midnight = dates.every((d) => d.getTime() % MS_PER_DAY === 0);
  if (!(sameDay || allEnds) || !midnight) return null;
  const index = dates.map((d) => d.getUTCFullYear() * 12 + d.getUTCMonth());
  const step = index[1] - index[0];
  return step > 0 && index.every((v, i) => i === 0 || v - index[i - 1] === step) ? step : null;
}

function isBusinessDays(dates, diffs) {
  const weekday = (d) => d.getUTCDay() >= 1 && d.getUTCDay() <= 5;
  return (
    dates.every(weekday) &&
    diffs.some((d) => d === 3) &&
    diffs.every((d, i) => d === 1 || (d === 3 && dates[i].getUTCDay() === 5))
  );
}

const named = (name, label) => ({ name, label });

/** Frequency of a timeline of Excel serials: {name, label}; name "irregular" when there is none. */
export function detectFrequency(serials) {
  if (serials.length < 2) return named("unknown", "unknown (one point)");
  const dates = serials.map(serialToDate);
  const seconds = dates.map((d) => d.getTime() / 1000);
  const diffs = seconds.slice(1).map((s, i) => s - seconds[i]);
  const step = diffs[0];
  if (step > 0 && diffs.every((d) => d === step)) {
    if (step % 86400 === 0) {
      const days = step / 86400;
      if (days === 1) return named("daily", "daily");
      if (days === 7) return named("weekly", "weekly");
    } else if (step % 3600 === 0) {
      return step === 3600 ? named("hourly", "hourly") : named("hours", `every ${step / 3600} hours`);
    } else if (step % 60 === 0) {
      return named("minutes", step === 60 ? "every minute" : `every ${step / 60} minutes`);
    }
  }
  const months = monthStep(dates);
  if (months === 1) return named("monthly", "monthly");
  if (months === 3) return named("quarterly", "quarterly");
  if (months === 12) return named("yearly", "yearly");
  if (months) return named("months", `every ${months} months`);
  if (isBusinessDays(dates, diffs.map((d) => d / 86400))) return named("business", "business days");
  if (step > 0 && diffs.every((d) => d === step)) return named("days", `every ${step / 86400} days`);
  return named("irregular", "irregular");
}

const DAY_NAMES = { daily: 1, weekly: 7 };

/**
 * The date that would follow a regular timeline of Excel serials, as the server continues it; null when the
 * frequency has no next step (irregular, unknown). `frequency` is detectFrequency(serials).
 */
export function nextStamp(serials, frequency) {
  if (serials.length < 2 || !frequency) return null;
  const last = serialToDate(serials[serials.length - 1]);
  const before = serialToDate(serials[serials.length - 2]);
  const name = frequency.name;
  if (name in DAY_NAMES || ["hourly", "hours", "minutes", "days"].includes(name)) {
    return msToSerial(2 * last.getTime() - before.getTime());
  }
  if (["monthly", "quarterly", "yearly", "months"].includes(name)) {
    const endOfMonth = (d) => new Date(d.getTime() + MS_PER_DAY).getUTCDate() === 1;
    const step = last.getUTCFullYear() * 12 + last.getUTCMonth() - (before.getUTCFullYear() * 12 + before.getUTCMonth());
    const year = last.getUTCFullYear();
    const month = last.getUTCMonth() + step;
    const ends = endOfMonth(last) && endOfMonth(before);
    return msToSerial(ends ? Date.UTC(year, month + 1, 0) : Date.UTC(year, month, last.getUTCDate()));
  }
  if (name === "business") {
    const next = new Date(last.getTime() + MS_PER_DAY * (last.getUTCDay() === 5 ? 3 : 1));
    return msToSerial(next.getTime());
  }
  return null;
}

/** Excel serial -> "2024-01-31", or "2024-01-31 06:30" when it has a time of day. */
export function dateText(serial) {
  const iso = serialToDate(serial).toISOString();
  return iso.slice(11, 16) === "00:00" ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}
