// store-http in a real browser (gateway/test/browser.sh): starts the gateway, opens
// gateway/test/browser/page.html in Debian's headless Chromium through puppeteer-core, served from the
// gateway's origin (request interception answers /__browser_test__/*) and, a second time, from another
// origin (a server of its own on port + 1) that reads the gateway through CORS (--cors-origin); waits for the initial render,
// changes the store in SQL (psql with the PG* environment) and waits until each page shows each change;
// then restarts the gateway and checks the pages' EventSource reconnects and they show a change made
// while it was down. Prints "ok" last, or "FAIL: ..." and exits 1.
//   node browser.mjs <database> <port> <store-http> <store-http options...>
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
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
const errors = []; // uncaught errors on the pages

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

// Waits until every page shows document <key>/<id> with text containing `want` (null: until it is gone).
async function waitForDoc(pages, what, key, id, want) {
    for (const [name, page] of pages) await waitForDoc1(page, `${what} (${name})`, key, id, want);
}

// Waits until one page's document <key>/<id> shows text containing `want` (null: until it is gone).
async function waitForDoc1(page, what, key, id, want) {
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

// Waits until an element's text is `want` on every page.
async function waitForText(pages, what, selector, want) {
    for (const [name, page] of pages) await waitForText1(page, `${what} (${name})`, selector, want);
}

// Waits until a page element's text is `want`.
async function waitForText1(page, what, selector, want) {
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
    // The same page twice: on the gateway's origin, and on another origin reading the gateway
    // through CORS (the shell starts the gateway with --cors-origin <that origin>).
    const other = `http://127.0.0.1:${Number(port) + 1}`;
    await servePage(Number(port) + 1);
    const pages = [["same origin", await openPage(base, "")], ["cross-origin", await openPage(other, `?gateway=${base}`)]];
    await run(pages);
    if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
}

const types = { "page.html": "text/html; charset=utf-8", "page.js": "text/javascript; charset=utf-8" };

// Serves page.html and page.js on 127.0.0.1:<port> as /__browser_test__/*: the cross-origin page's own
// server (under request interception Chromium's local network access check refuses its fetches).
async function servePage(port) {
    const server = createServer((req, res) => {
        const name = new URL(req.url, "http://x").pathname.replace("/__browser_test__/", "");
        if (!types[name]) return res.writeHead(404).end();
        res.writeHead(200, { "Content-Type": types[name] }).end(readFileSync(join(pageDir, name)));
    });
    await new Promise((resolve, reject) => server.once("error", reject).listen(Number(port), "127.0.0.1", resolve));
    server.unref();
}

// Opens page.html from `origin`: the gateway's, answered by request interception, or another one's server.
async function openPage(origin, query) {
    const page = await browser.newPage();
    page.on("pageerror", (err) => errors.push(String(err)));
    page.on("console", (msg) => { if (msg.type() === "error") console.log(`page console (${origin}): ${msg.text()}`); });
    if (origin !== base) {
        await page.goto(`${origin}/__browser_test__/page.html${query}`);
        return page;
    }
    await page.setRequestInterception(true);
    page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.origin === origin && url.pathname.startsWith("/__browser_test__/")) {
            const name = url.pathname.slice("/__browser_test__/".length);
            if (!types[name]) return request.respond({ status: 404, body: "" });
            return request.respond({ status: 200, contentType: types[name], body: readFileSync(join(pageDir, name)) });
        }
        return request.continue();
    });
    await page.goto(`${origin}/__browser_test__/page.html${query}`);
    return page;
}

// The steps, checked on every page.
async function run(pages) {
    await waitForDoc(pages, "initial render from GET /store/", "items", 1, '"name":"tea"');
    await waitForDoc(pages, "initial render, second document", "items", 2, '"name":"coffee"');
    await waitForText(pages, "EventSource open", "#status", "live");
    for (const [name, p] of pages) {
        if (!(await p.$eval("#version", (e) => e.textContent))) throw new Error(`${name}: the page shows no version after GET /store/`);
    }

    sql("UPDATE items SET name = 'green tea' WHERE id = 1");
    await waitForDoc(pages, "an UPDATE in SQL shows", "items", 1, '"name":"green tea"');
    sql("INSERT INTO items VALUES (4, 'cocoa', 7)");
    await waitForDoc(pages, "an INSERT in SQL shows", "items", 4, '"name":"cocoa"');
    sql("DELETE FROM items WHERE id = 2");
    await waitForDoc(pages, "a DELETE in SQL shows", "items", 2, null);

    // The gateway goes away and comes back: the browser's EventSource reconnects by itself (with
    // Last-Event-ID) and the page catches up with a change made while it was down.
    await stopGateway();
    await waitForText(pages, "EventSource sees the gateway gone", "#status", "reconnecting");
    sql("UPDATE items SET qty = 99 WHERE id = 3");
    await startGateway();
    await waitForText(pages, "EventSource reconnected", "#opens", "2");
    await waitForDoc(pages, "a change made while the gateway was down shows", "items", 3, '"qty":99');

    for (const [name, p] of pages) {
        const shownError = await p.$eval("#error", (e) => e.textContent);
        if (shownError) throw new Error(`${name}: the page shows an error: ${shownError}`);
    }
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
