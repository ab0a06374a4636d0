// The pane's settings: the server's API key, kept in the add-in's storage.
//
// Office.context.roamingSettings where the host has it (per user, roams with the mailbox; Microsoft
// documents it for Outlook only), else this browser's localStorage under Office.context.partitionKey
// where Office partitions storage. Never Office.context.document.settings: that would save the key
// inside the workbook, for everyone the file is sent to.
//
// The CHRONOS.* formulas (functions.js) run apart from the pane, in Excel desktop without a page or
// localStorage: the pane also writes the server's address and the key to OfficeRuntime.storage, which both
// share, where that exists.
/* global Office */

const NAME = "chronos-excel.apiKey";
const SERVER = "chronos-excel.serverUrl";
const SERVER_URL = new URL("../", import.meta.url).href; // the app's root: the pane is under /addin/
const TOKEN = /^[\x21-\x7e]+$/; // what an HTTP header can carry: visible ASCII, no spaces

const context = () => globalThis.Office?.context;
const roaming = () => context()?.roamingSettings ?? null;
const localName = () => `${context()?.partitionKey ?? ""}${NAME}`;

/** Where the key is kept, in words for the settings panel. */
export function storageName() {
  return roaming() ? "your Office roaming settings" : "this computer's storage for the add-in";
}

/** The saved API key, or "" when there is none. */
export function apiKey() {
  const settings = roaming();
  let value;
  try {
    value = settings ? settings.get(NAME) : globalThis.localStorage.getItem(localName());
  } catch {
    value = null; // storage blocked: no key is sent, and saving one says why
  }
  return typeof value === "string" ? value : "";
}

/** Check a key before saving it: "" when it can be sent, else what is wrong with it. */
export function keyProblem(key) {
  if (key === "" || TOKEN.test(key)) return "";
  const bad = [...key].findIndex((ch) => !TOKEN.test(ch));
  return `An API key is letters, digits and symbols without spaces; found '${key[bad]}' at character ${bad + 1}.`;
}

function saveRoaming(settings) {
  return new Promise((resolve, reject) =>
    settings.saveAsync((result) => {
      if (result.status === Office.AsyncResultStatus.Failed) {
        reject(new Error(`Office could not save the settings: ${result.error.message}`));
      } else {
        resolve();
      }
    }),
  );
}

/** Give the CHRONOS.* formulas the server's address and `key`; rejects saying why not. Without
 * OfficeRuntime.storage (a browser, or an Excel without the shared storage) there is nothing to do. */
export async function shareWithFormulas(key = apiKey()) {
  const storage = globalThis.OfficeRuntime?.storage;
  if (!storage) return;
  try {
    await storage.setItem(SERVER, SERVER_URL);
    await storage.setItem(NAME, key);
  } catch (error) {
    throw new Error(`Office would not share the settings with the CHRONOS formulas: ${error.message ?? error}`);
  }
}

/** Save the key, trimmed (an empty key removes it); resolves to what was saved, rejects saying why not. */
export async function saveApiKey(key) {
  const value = key.trim();
  const problem = keyProblem(value);
  if (problem) throw new Error(problem);
  const settings = roaming();
  if (settings) {
    if (value) settings.set(NAME, value);
    else settings.remove(NAME);
    await saveRoaming(settings);
    await shareWithFormulas(value);
    return value;
  }
  try {
    if (value) globalThis.localStorage.setItem(localName(), value);
    else globalThis.localStorage.removeItem(localName());
  } catch (error) {
    throw new Error(`The browser would not keep the key (${error.name}): allow this add-in to store data, then save again.`);
  }
  await shareWithFormulas(value);
  return value;
}

// ---- the training job the pane is following, so that it survives closing and reopening the pane -------

const JOB = "chronos-excel.adaptJob";
const jobName = () => `${context()?.partitionKey ?? ""}${JOB}`;

/** The id of the training job the pane follows, or "" (also when storage is blocked). */
export function followedJob() {
  try {
    return globalThis.localStorage.getItem(jobName()) ?? "";
  } catch {
    return "";
  }
}

/** Follow a job across closing and reopening the pane ("" stops following). Best effort: blocked storage only
 * means the pane forgets the job when it closes, and the job itself runs on in the server. */
export function followJob(id) {
  try {
    if (id) globalThis.localStorage.setItem(jobName(), id);
    else globalThis.localStorage.removeItem(jobName());
  } catch {
    // see above
  }
}
