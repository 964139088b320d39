// store-http in a real browser (gateway/test/browser.sh): starts the gateway, opens
// gateway/test/browser/page.html in Debian's headless Chromium through puppeteer-core, served from the
// gateway's origin (request interception answers /__browser_test__/*, so the page needs no CORS), waits
// for the initial render, changes the store in SQL (psql with the PG* environment) and waits until the
// page shows each change; then restarts the gateway and checks the page's EventSource reconnects and
// shows a change made while it was down. Prints "ok" last, or "FAIL: ..." and exits 1.
//   node browser.mjs <database> <port> <store-http> <store-http options...>
import { spawn, execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const [db, port, bin, ...options] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const pageDir = join(dirname(fileURLToPath(import.meta.url)), "..", "browser");
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const timeout = Number(process.env.BROWSER_TEST_TIMEOUT_MS || 20000);
let gateway = null;
let browser = null;

// Runs SQL in the test database (the shell's PG* environment, as its superuser).
function sql(text) {
    return execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-d", db, "-c", text], { encoding: "utf8" }).trim();
}

// Starts store-http and waits until it answers; its pid goes to $BROWSER_TEST_PID_FILE for the shell's cleanup.
async function startGateway() {
    gateway = spawn(bin, ["--listen", `127.0.0.1:${port}`, ...options], { stdio: ["ignore", "inherit", "inherit"] });
    if (process.env.BROWSER_TEST_PID_FILE) writeFileSync(process.env.BROWSER_TEST_PID_FILE, String(gateway.pid));
    for (let i = 0; i < 100; i++) {
        try {
            await fetch(`${base}/store/`);
            return;
        } catch {
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    throw new Error("store-http did not start");
}

// Stops store-http with SIGTERM and checks that it exits 0.
async function stopGateway() {
    const exited = new Promise((resolve) => gateway.once("exit", (code, signal) => resolve(code ?? signal)));
    gateway.kill("SIGTERM");
    const code = await exited;
    gateway = null;
    if (code !== 0) throw new Error(`store-http exited with ${code} on SIGTERM`);
}

// Waits until the page's document <key>/<id> shows text containing `want` (null: until it is gone).
async function waitForDoc(page, what, key, id, want) {
    try {
        await page.waitForFunction(
            (key, id, want) => {
                const li = document.querySelector(`li[data-key="${key}"][data-id='${id}']`);
                return want === null ? !li : !!li && li.textContent.includes(want);
            },
            { timeout, polling: 50 }, key, JSON.stringify(id), want);
    } catch (err) {
        const shown = await page.evaluate(() => document.body.innerText).catch(() => "(no page)");
        throw new Error(`${what}: the page did not show ${key}/${JSON.stringify(id)} ${want === null ? "gone" : `with ${want}`} within ${timeout} ms; it shows:\n${shown}`);
    }
    console.log(`ok: ${what}`);
}

// Waits until a page element's text is `want`.
async function waitForText(page, what, selector, want) {
    try {
        await page.waitForFunction((s, w) => document.querySelector(s)?.textContent === w, { timeout, polling: 50 }, selector, want);
    } catch {
        const shown = await page.evaluate(() => document.body.innerText).catch(() => "(no page)");
        throw new Error(`${what}: ${selector} is not ${want} within ${timeout} ms; the page shows:\n${shown}`);
    }
    console.log(`ok: ${what}`);
}

async function main() {
    await startGateway();
    browser = await puppeteer.launch({
        executablePath: chromium,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    page.on("console", (msg) => { if (msg.type() === "error") console.log(`page console: ${msg.text()}`); });
    // The page and its script come from gateway/test/browser/, on the gateway's origin.
    await page.setRequestInterception(true);
    page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.origin === base && url.pathname.startsWith("/__browser_test__/")) {
            const name = url.pathname.slice("/__browser_test__/".length);
            const types = { "page.html": "text/html; charset=utf-8", "page.js": "text/javascript; charset=utf-8" };
            if (!types[name]) return request.respond({ status: 404, body: "" });
            return request.respond({ status: 200, contentType: types[name], body: readFileSync(join(pageDir, name)) });
        }
        return request.continue();
    });
    await page.goto(`${base}/__browser_test__/page.html`);

    await waitForDoc(page, "initial render from GET /store/", "items", 1, '"name":"tea"');
    await waitForDoc(page, "initial render, second document", "items", 2, '"name":"coffee"');
    await waitForText(page, "EventSource open", "#status", "live");
    const initial = await page.$eval("#version", (e) => e.textContent);
    if (!initial) throw new Error("the page shows no version after GET /store/");

    sql("UPDATE items SET name = 'green tea' WHERE id = 1");
    await waitForDoc(page, "an UPDATE in SQL shows", "items", 1, '"name":"green tea"');
    sql("INSERT INTO items VALUES (4, 'cocoa', 7)");
    await waitForDoc(page, "an INSERT in SQL shows", "items", 4, '"name":"cocoa"');
    sql("DELETE FROM items WHERE id = 2");
    await waitForDoc(page, "a DELETE in SQL shows", "items", 2, null);

    // The gateway goes away and comes back: the browser's EventSource reconnects by itself (with
    // Last-Event-ID) and the page catches up with a change made while it was down.
    await stopGateway();
    await waitForText(page, "EventSource sees the gateway gone", "#status", "reconnecting");
    sql("UPDATE items SET qty = 99 WHERE id = 3");
    await startGateway();
    await waitForText(page, "EventSource reconnected", "#opens", "2");
    await waitForDoc(page, "a change made while the gateway was down shows", "items", 3, '"qty":99');

    const shownError = await page.$eval("#error", (e) => e.textContent);
    if (shownError) throw new Error(`the page shows an error: ${shownError}`);
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
}

let rc = 0;
try {
    await main();
    console.log("ok");
} catch (err) {
    console.log(`FAIL: ${err.message}`);
    rc = 1;
} finally {
    if (browser) await browser.close().catch(() => {});
    if (gateway) await stopGateway().catch((err) => { console.log(`FAIL: ${err.message}`); rc = 1; });
}
process.exit(rc);
