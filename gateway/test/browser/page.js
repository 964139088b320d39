// store-http's browser test client (page.html): keeps a copy of the store in memory, in step with
// the server through /store/events and /store/changes/, and shows it as one <li> per document.
"use strict";

// The gateway: this page's origin, or ?gateway=http://host:port (another origin: the gateway's CORS).
const gateway = new URLSearchParams(location.search).get("gateway") || "";
const docs = new Map(); // "<key>\u0000<JSON id>" -> {key, id, doc}
let version = null;
let catchingUp = null; // the running catch-up, so events never overlap reads
let again = false;

// Shows an error on the page (the test reads #error).
function fail(what, err) {
    document.getElementById("error").textContent = `${what}: ${err}`;
}

// GETs a JSON document from the gateway; throws on a non-2xx status.
async function getJson(path) {
    const res = await fetch(gateway + path, { cache: "no-store" });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
}

// Renders every document, ordered by key and id, with data-key/data-id for the test.
function render() {
    const list = document.getElementById("docs");
    const items = [...docs.values()].sort((a, b) =>
        a.key < b.key ? -1 : a.key > b.key ? 1 : JSON.stringify(a.id) < JSON.stringify(b.id) ? -1 : 1);
    list.replaceChildren(...items.map(({ key, id, doc }) => {
        const li = document.createElement("li");
        li.dataset.key = key;
        li.dataset.id = JSON.stringify(id);
        li.textContent = JSON.stringify(doc);
        return li;
    }));
    document.getElementById("version").textContent = version;
}

// Replaces the copy with a whole snapshot ({"version": V, "<key>": [doc, ...], ...}).
function applySnapshot(snapshot) {
    docs.clear();
    for (const [key, list] of Object.entries(snapshot)) {
        if (key === "version") continue;
        for (const doc of list) docs.set(`${key}\u0000${JSON.stringify(doc.id)}`, { key, id: doc.id, doc });
    }
    version = snapshot.version;
}

// Applies one page of store_changes: upserted documents replace, deleted ids go.
function applyDelta(delta) {
    for (const [key, change] of Object.entries(delta.changes || {})) {
        for (const doc of change.upserted || []) docs.set(`${key}\u0000${JSON.stringify(doc.id)}`, { key, id: doc.id, doc });
        for (const id of change.deleted || []) docs.delete(`${key}\u0000${JSON.stringify(id)}`);
    }
    version = delta.version;
}

// Reads the changes after our version, page by page (a reload answer reads the snapshot again).
async function catchUp() {
    let delta;
    do {
        delta = await getJson(`/store/changes/?after=${encodeURIComponent(version)}`);
        if (delta.reload) {
            applySnapshot(await getJson("/store/"));
            break;
        }
        applyDelta(delta);
    } while (delta.more);
    render();
}

// Runs catch-ups one at a time; an event during one runs another after it.
function onEvent() {
    document.getElementById("events").textContent = String(Number(document.getElementById("events").textContent) + 1);
    if (catchingUp) {
        again = true;
        return;
    }
    catchingUp = (async () => {
        do {
            again = false;
            try {
                await catchUp();
            } catch (err) {
                fail("changes", err);
            }
        } while (again);
        catchingUp = null;
    })();
}

// Loads the store, then follows its events; the browser reconnects by itself (Last-Event-ID).
async function main() {
    try {
        applySnapshot(await getJson("/store/"));
    } catch (err) {
        fail("snapshot", err);
        return;
    }
    render();
    const events = new EventSource(`${gateway}/store/events?after=${encodeURIComponent(version)}`);
    events.onopen = () => {
        document.getElementById("status").textContent = "live";
        document.getElementById("opens").textContent = String(Number(document.getElementById("opens").textContent) + 1);
    };
    events.onerror = () => {
        document.getElementById("status").textContent = "reconnecting";
    };
    events.onmessage = onEvent;
}

main();
