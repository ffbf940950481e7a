// Opens an HTML report in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) and prints JSON: console errors, page errors, requests for anything but the
// file itself, and the drawn size of the report's charts and tables. Exits 0 when the page
// loads with no errors and no outside requests, every required element exists (the IDs given,
// or the demo report's #loss-chart and #metrics-table), and every SVG has a non-zero bounding box
// with shapes drawn in it; 1 when a check fails; 2 when Chromium cannot start.
// Usage: node check_html.mjs FILE.html [ID ...]
import {chromium} from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const executablePath = "/usr/bin/chromium";
const file = process.argv[2];
const required = process.argv.length > 3 ? process.argv.slice(3) : ["loss-chart", "metrics-table"];
const measured = process.argv.length > 3 ? required : ["loss-chart", "metrics-table", "metrics-chart", "export-table", "stage-table"];
if (!file) {
  console.error("usage: node check_html.mjs FILE.html [ID ...]");
  process.exit(64);
}
if (!fs.existsSync(executablePath)) {
  console.error(`no Chromium at ${executablePath} (scripts/setup.sh --test installs Debian's chromium)`);
  process.exit(2);
}

let browser;
try {
  browser = await chromium.launch({executablePath, args: ["--no-sandbox"], timeout: 60000});
} catch (e) {
  console.error(`Chromium did not start: ${e.message}`);
  process.exit(2);
}

const url = pathToFileURL(path.resolve(file)).href;
const result = {file, console_errors: [], page_errors: [], outside_requests: [], elements: {}, svgs: [], failures: []};
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") result.console_errors.push(m.text()); });
  page.on("pageerror", (e) => result.page_errors.push(String(e)));
  // A self-contained page asks for nothing beyond itself (data: URLs are inline).
  page.on("request", (r) => { if (r.url() !== url && !r.url().startsWith("data:")) result.outside_requests.push(r.url()); });
  await page.goto(url, {waitUntil: "load"});

  for (const id of measured) {
    const box = await page.locator(`#${id}`).boundingBox();
    result.elements[id] = box && {width: box.width, height: box.height};
  }
  result.svgs = await page.$$eval("svg", (svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    // Shapes the browser actually drew: markup it could not parse leaves them with no box.
    const drawn = [...s.querySelectorAll("polyline, rect, circle")].filter((e) => {
      const b = e.getBoundingClientRect();
      return b.width > 0 || b.height > 0;
    });
    return {id: s.id, width: r.width, height: r.height, shapes: drawn.length};
  }));
} catch (e) {
  result.failures.push(`could not check the page: ${e.message}`);
} finally {
  await browser.close();
}

if (result.console_errors.length) result.failures.push("console errors");
if (result.page_errors.length) result.failures.push("page errors");
if (result.outside_requests.length) result.failures.push("requests outside the file");
for (const id of required) if (!result.elements[id]) result.failures.push(`no #${id}`);
if (!result.svgs.length) result.failures.push("no SVG");
for (const s of result.svgs)
  if (!(s.width > 0 && s.height > 0 && s.shapes > 0)) result.failures.push(`SVG #${s.id} is not drawn`);
result.ok = result.failures.length === 0;
console.log(JSON.stringify(result, null, 2));
process.exit(result.ok ? 0 : 1);
