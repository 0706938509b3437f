// Drives the web view in Debian's headless chromium through puppeteer-core (no browser download),
// run by test/e2e/ui.test.ts INSIDE the private network namespace that also holds the UI server,
// so neither the page nor chromium's DevTools port is reachable from the host. Talks to the test
// over stdout, one JSON line per step:
//   {"ready": ms, "nodes": [...], "pods": [...]}   the page shows the cluster (screenshot 1 taken)
//   {"drop": ms, "text": "..."}                     the first live drop appeared (screenshot 2 taken)
// ms are Date.now() (same machine clock as the test's). Usage:
//   bun test/harness/ui-browser.ts URL EXPECTED_PODS SCREENSHOT_DIR [SRC DST (the pods clicked for explain)]
// Chromium runs with a temporary profile and is killed by its pid at the end, whatever happened.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import puppeteer from "puppeteer-core";

/** The page's document, as the functions evaluated in the browser use it (this file has no DOM types). */
interface PageElement {
  getAttribute(name: string): string | null;
  textContent: string | null;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageElement> & ArrayLike<PageElement>;
  getElementById(id: string): PageElement | null;
};

const [url, expectedPods, shots, clickSrc = "dev/client", clickDst = "prod/web"] = process.argv.slice(2) as [
  string,
  string,
  string,
  string?,
  string?,
];
const profile = mkdtempSync(`${tmpdir()}/tartan-ui-chromium-`);
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  userDataDir: profile,
  // root in a test namespace: chromium's sandbox needs an unprivileged user; nothing external is loaded.
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"],
  defaultViewport: { width: 1400, height: 900 },
});
const pid = browser.process()?.pid;
// The test ends this script by its pid when something went wrong: take chromium along.
process.once("SIGTERM", () => {
  if (pid) process.kill(pid, "SIGKILL");
  rmSync(profile, { recursive: true, force: true });
  process.exit(143);
});
try {
  const page = await browser.newPage();
  const failed: string[] = [];
  page.on("requestfailed", (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on("pageerror", (e) => failed.push(`page error: ${e}`));
  await page.goto(url, { waitUntil: "domcontentloaded", timeout: 30_000 });
  await page.waitForFunction(
    (n) => document.querySelectorAll("g.pod").length >= n,
    { timeout: 30_000 },
    Number(expectedPods),
  );
  const seen = await page.evaluate(() => ({
    nodes: [...document.querySelectorAll("g.node")].map((e) => e.getAttribute("data-node")),
    pods: [...document.querySelectorAll("g.pod")].map((e) => e.getAttribute("data-pod")),
    isolated: [...document.querySelectorAll("g.pod.isolated")].map((e) => e.getAttribute("data-pod")),
    summary: document.getElementById("summary")?.textContent,
  }));
  // The live feed is open once the page says how many agents it follows.
  await page.waitForFunction(
    () => /following \d+ of \d+/.test(document.getElementById("feed-state")?.textContent ?? ""),
    {
      timeout: 30_000,
    },
  );
  await page.screenshot({ path: `${shots}/ui-cluster.png`, fullPage: true });
  // Drops already listed (the feed replays the last ones to a new page) do not count.
  const before = await page.evaluate(() => document.querySelectorAll("#drops li[data-pod]").length);
  say({ ready: Date.now(), ...seen, failed });
  await page.waitForFunction(
    (n) => document.querySelectorAll("#drops li[data-pod]").length > n,
    { timeout: 60_000, polling: 50 },
    before,
  );
  const at = Date.now();
  const text = await page.evaluate(() => document.querySelectorAll("#drops li[data-pod]")[0]?.textContent);
  // Explain for the pair, by clicking the two pods (the panel answers whether explain is built in or not).
  await page.click(`g.pod[data-pod="${clickSrc}"]`);
  await page.click(`g.pod[data-pod="${clickDst}"]`);
  // The panel has its answer: a verdict, or the server's error message (a <p> after the title).
  await page.waitForFunction(() => document.querySelectorAll("#explain p, #explain pre").length > 0, {
    timeout: 30_000,
  });
  const explain = await page.evaluate(() => document.getElementById("explain")?.textContent ?? "");
  await Bun.sleep(300);
  await page.screenshot({ path: `${shots}/ui-drop.png`, fullPage: true });
  say({ drop: at, text, explain: explain.slice(0, 400), failed });
} finally {
  await browser.close().catch(() => {});
  if (pid) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  rmSync(profile, { recursive: true, force: true });
}
