// Drives the chat page in Debian's Chromium with playwright-core, against the real Rasa server.
//
//   node tests/browser/webchat.mjs <scenario> <base-url> <artefact-dir>
//
// Invoked by tests/test_webchat.py, one scenario per test. Prints one JSON line
// ({"ok": true, ...facts for the Python side to check against the tracker API})
// and exits 0, or prints the failure and exits 1. Never downloads a browser:
// Playwright's own builds are not used, only /usr/bin/chromium.

import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { chromium } from "playwright-core";

const [scenario, baseUrl, artefacts] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const TIMEOUT = 20000;
const INJECTION = "<img src=x onerror=alert(1)>";

function artefact(name) {
  fs.mkdirSync(artefacts, { recursive: true });
  return path.join(artefacts, name);
}

async function openPage(browser, url, viewport = { width: 900, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems = { dialogs: [], pageErrors: [], consoleErrors: [] };
  page.on("dialog", async (dialog) => {
    problems.dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  page.on("pageerror", (err) => problems.pageErrors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.consoleErrors.push(msg.text());
  });
  page.setDefaultTimeout(TIMEOUT);
  await page.goto(url);
  await waitOnline(page);
  return { context, page, problems };
}

async function waitOnline(page) {
  await page.locator('#status[data-state="online"]').waitFor();
}

const botBubbles = (page) => page.locator("#log .msg--bot");
const quickReply = (page, title) => page.locator("#log .quick-reply", { hasText: new RegExp(`^${title}$`) });

// Waits for a bot bubble containing `text` that arrived after `after` bot bubbles.
async function waitForBot(page, text, after) {
  await page.waitForFunction(
    ([needle, count]) => {
      const bubbles = Array.from(document.querySelectorAll("#log .msg--bot")).slice(count);
      return bubbles.some((b) => b.textContent.includes(needle));
    },
    [text, after],
    { timeout: TIMEOUT },
  );
}

async function click(page, title, expect) {
  const before = await botBubbles(page).count();
  await quickReply(page, title).click();
  if (expect) await waitForBot(page, expect, before);
}

async function type(page, text, expect) {
  const before = await botBubbles(page).count();
  await page.locator("#input").fill(text);
  await page.locator("#input").press("Enter");
  if (expect) await waitForBot(page, expect, before);
}

async function typeAndWaitReply(page, text) {
  const before = await botBubbles(page).count();
  await page.locator("#input").fill(text);
  await page.locator("#input").press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll("#log .msg--bot").length > n, before);
}

const sessionId = (page) => page.evaluate(() => localStorage.getItem("toolkitAdvisor.sessionId"));

async function checkLinks(page) {
  const links = await page.$$eval("#log a", (as) => as.map((a) => ({ href: a.href, text: a.textContent, target: a.target, rel: a.rel })));
  for (const l of links) {
    assert.match(l.href, /^(https?:|blob:)/, `link ${l.text} -> ${l.href}`);
  }
  return links;
}

function finish(problems, extra = {}) {
  assert.deepEqual(problems.dialogs, [], "no dialog may open");
  assert.deepEqual(problems.pageErrors, [], "no script error");
  return extra;
}

// -- scenarios -----------------------------------------------------------------------

const scenarios = {
  // A whole conversation by clicking: Start, No, No, Yes -> Fullstack; then a comparison table.
  async buttons(browser) {
    const { page, problems } = await openPage(browser, `${baseUrl}/chat/`);
    await click(page, "Let's start", "First question");
    assert.equal(await page.locator("#log .quick-reply").count(), 3, "Yes / No / Not sure");
    await click(page, "No", "foundational systems");
    assert.equal(await page.locator("#log .quick-reply").count(), 3, "answered buttons disappear");
    await click(page, "No", "complete software applications");
    await click(page, "Yes", "My recommendation");
    const recommendation = await botBubbles(page).filter({ hasText: "My recommendation" }).last();
    assert.equal(await recommendation.locator("strong").first().textContent(), "Fullstack Engineer");
    const links = await checkLinks(page);
    assert.ok(links.length > 0, "tool links rendered as links");
    assert.ok(links.every((l) => l.target === "_blank" && l.rel.includes("noopener")));
    assert.ok(await page.locator("#log .quick-reply", { hasText: "Why this one?" }).count());
    await type(page, "compare frontend and backend", "Frontend Engineer");
    const table = page.locator("#log .comparison table").last();
    assert.equal(await table.locator("caption").textContent(), "Frontend Engineer vs Backend Engineer");
    assert.deepEqual(await table.locator("thead th").allTextContents(), ["Aspect", "Frontend Engineer", "Backend Engineer"]);
    assert.ok((await table.locator("tbody th").allTextContents()).includes("Primary focus"));
    assert.equal(await page.evaluate(() => document.activeElement.id), "input", "the input keeps focus");
    // Auto-scroll: the start of the latest answer (here a long table) is in view.
    await page.waitForFunction(() => {
      const logEl = document.getElementById("log");
      const users = logEl.querySelectorAll(".msg--user");
      const answer = users[users.length - 1].nextElementSibling;
      const top = answer.offsetTop - logEl.offsetTop;
      return logEl.scrollTop > 0 && top >= logEl.scrollTop - 1 && top < logEl.scrollTop + logEl.clientHeight;
    });
    await page.screenshot({ path: artefact("webchat-buttons.png") });
    const id = await sessionId(page);
    // "New conversation" forgets this one: empty log, a new session id, the start button again.
    await page.locator("#new-chat").click();
    await quickReply(page, "Let's start").waitFor();
    assert.equal(await page.locator("#log .msg").count(), 1);
    const fresh = await sessionId(page);
    assert.ok(fresh && fresh !== id, "a new session");
    return finish(problems, { sessionId: id, newSessionId: fresh });
  },

  // Typing only: a sentence answers two questions; HTML is shown as text; the decision record downloads.
  async typing(browser) {
    const { page, problems } = await openPage(browser, `${baseUrl}/chat/`);
    await type(page, "I love data pipelines but deploying models bores me", "My recommendation");
    const rec = botBubbles(page).filter({ hasText: "My recommendation" }).last();
    assert.equal(await rec.locator("strong").first().textContent(), "Data Engineer");
    const spark = page.locator("#log a", { hasText: "Apache Spark" }).first();
    assert.equal(await spark.getAttribute("href"), "https://spark.apache.org/docs/latest/");
    await checkLinks(page);

    await typeAndWaitReply(page, INJECTION);
    const mine = page.locator("#log .msg--user").last();
    assert.equal(await mine.textContent(), INJECTION, "shown literally");
    await typeAndWaitReply(page, `I love data pipelines ${INJECTION} honestly`);
    await page.waitForTimeout(500);
    assert.equal(await page.locator("#log img, #log script, #log iframe").count(), 0, "no element from message text");
    const echoed = await page.$$eval("#log .msg--bot", (bs) => bs.filter((b) => b.textContent.includes("<img")).length);

    const beforeRecord = await botBubbles(page).count();
    await type(page, "give me a summary", ""); // typed /intent payloads are refused (input guard)
    const download = page.locator("#log a.download").last();
    await download.waitFor();
    await waitForBot(page, "decision record", beforeRecord);
    const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
    const markdown = fs.readFileSync(await file.path(), "utf8");
    assert.match(markdown, /^# Toolkit Advisor - decision record/);
    assert.match(markdown, /\*\*Recommendation:\*\* Data Engineer/);
    fs.writeFileSync(artefact("webchat-decision-record.md"), markdown);
    assert.match(file.suggestedFilename(), /^toolkit-advisor-decision-record.*\.md$/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: artefact("webchat-typing.png") });
    return finish(problems, { sessionId: await sessionId(page), botEchoedInjection: echoed });
  },

  // A reload mid-conversation continues the same conversation (session_persistence + the stored id).
  async reload(browser) {
    const { page, problems } = await openPage(browser, `${baseUrl}/chat/`);
    await click(page, "Let's start", "First question");
    await click(page, "No", "foundational systems");
    const id = await sessionId(page);
    assert.ok(id, "session id stored");
    const shownBefore = await page.locator("#log .msg").count();

    await page.reload();
    await waitOnline(page);
    assert.equal(await sessionId(page), id, "same session after reload");
    assert.equal(await page.locator("#log .msg").count(), shownBefore, "history shown again");
    assert.equal(await page.locator("#log .quick-reply").count(), 3, "the open question's buttons are back");
    // The reply to this answer reaches the page only if the reloaded socket joined the session's room.
    await click(page, "No", "complete software applications");
    await type(page, "yes, definitely", "My recommendation");
    return finish(problems, { sessionId: id });
  },

  // Keyboard only: Shift+Tab from the input reaches the suggested replies, Enter/Space choose.
  async keyboard(browser) {
    const { page, problems } = await openPage(browser, `${baseUrl}/chat/`);
    await page.locator('#log .quick-reply').first().waitFor();
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      return { id: el.id, text: el.textContent.trim(), tag: el.tagName };
    });
    assert.equal((await focused()).id, "input", "the input has focus on load");
    await page.keyboard.press("Shift+Tab");
    assert.equal((await focused()).text, "Let's start");
    let before = await botBubbles(page).count();
    await page.keyboard.press("Enter");
    await waitForBot(page, "First question", before);
    assert.equal((await focused()).id, "input", "focus back in the input");
    await page.keyboard.press("Shift+Tab");
    assert.equal((await focused()).text, "Not sure");
    await page.keyboard.press("Shift+Tab");
    assert.equal((await focused()).text, "No");
    await page.keyboard.press("Shift+Tab");
    assert.equal((await focused()).text, "Yes");
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, "none", "focus is visible");
    before = await botBubbles(page).count();
    await page.keyboard.press("Space");
    await waitForBot(page, "My recommendation", before);
    await page.keyboard.type("why?");
    before = await botBubbles(page).count();
    await page.keyboard.press("Enter");
    await page.waitForFunction((n) => document.querySelectorAll("#log .msg--bot").length > n, before);
    // Tab order from the top: New conversation, the log, its links and reply buttons, the input, Send.
    await page.locator("#new-chat").focus();
    const order = [await focused()];
    for (let i = 0; i < 80 && order[order.length - 1].id !== "send"; i += 1) {
      await page.keyboard.press("Tab");
      order.push(await focused());
    }
    const ids = order.map((f) => f.id || f.tag);
    assert.equal(ids[1], "log", ids.join(" "));
    assert.equal(ids[ids.length - 2], "input", ids.join(" "));
    assert.equal(ids[ids.length - 1], "send", ids.join(" "));
    assert.ok(ids.includes("A"), "the links in answers are reachable: " + ids.join(" "));
    // Every control has an accessible name.
    const unnamed = await page.$$eval("button, input, a, [tabindex]", (els) =>
      els
        .filter((el) => {
          const label = el.getAttribute("aria-label") || (el.labels && el.labels.length && el.labels[0].textContent) || el.textContent;
          return !String(label || "").trim();
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
    assert.equal(await page.getAttribute("#log", "aria-live"), "polite");
    assert.equal(await page.getAttribute("#status", "role"), "status");
    return finish(problems, { sessionId: await sessionId(page) });
  },

  // 360 px wide: nothing overflows sideways, the comparison turns into cards.
  async narrow(browser) {
    const { page, problems } = await openPage(browser, `${baseUrl}/chat/`, { width: 360, height: 740 });
    await click(page, "Let's start", "First question");
    await type(page, "compare data engineer and devops", "vs");
    await page.waitForTimeout(300);
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, log: document.getElementById("log").scrollWidth }));
    assert.ok(widths.doc <= 360 && widths.log <= 360, JSON.stringify(widths));
    const display = await page.locator("#log .comparison td").first().evaluate((td) => getComputedStyle(td).display);
    assert.equal(display, "block", "cards, not a squeezed table");
    // Every text block of the answer gets a usable width (no one-letter-per-line columns).
    const narrowest = await page.$$eval("#log .comparison :is(caption, tbody th, tbody td)", (els) =>
      Math.min(...els.map((el) => el.getBoundingClientRect().width)),
    );
    assert.ok(narrowest > 200, `narrowest block ${narrowest}px`);
    assert.ok(await page.locator("#send").isVisible());
    await page.screenshot({ path: artefact("webchat-360px.png") });
    return finish(problems, { sessionId: await sessionId(page) });
  },

  // The server goes away (a loopback proxy in front of Rasa closes), the page says so, and comes back.
  async reconnect(browser) {
    const target = new URL(baseUrl);
    const sockets = new Set();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(target.port), target.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
    });
    await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const port = proxy.address().port;
    const down = () => new Promise((resolve) => { proxy.close(() => resolve()); for (const s of sockets) s.destroy(); });
    const up = () => new Promise((resolve) => proxy.listen(port, "127.0.0.1", resolve));
    try {
      const { page, problems } = await openPage(browser, `http://127.0.0.1:${port}/chat/`);
      await click(page, "Let's start", "First question");
      await down();
      await page.locator('#status[data-state="offline"]').waitFor();
      const offlineText = await page.locator("#status").textContent();
      await page.locator("#input").fill("no");
      await page.locator("#input").press("Enter");
      assert.equal(await page.locator("#input").inputValue(), "no", "kept, not lost, while offline");
      await page.screenshot({ path: artefact("webchat-offline.png") });
      await up();
      await waitOnline(page);
      await type(page, "no", "foundational systems");
      return finish(problems, { sessionId: await sessionId(page), offlineText: offlineText.trim() });
    } finally {
      await down().catch(() => {});
    }
  },
};

async function main() {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios).join(", ")}`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const result = await scenarios[scenario](browser);
    process.stdout.write(JSON.stringify({ ok: true, scenario, ...result }) + "\n");
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ ok: false, scenario, error: String(err && err.stack ? err.stack : err) }) + "\n");
  process.exit(1);
});
