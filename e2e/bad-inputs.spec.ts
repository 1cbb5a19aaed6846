/**
 * Runs the table of bad inputs (e2e/bad-inputs.ts) against the real app: for each case, from a good
 * model + image explained, drop the bad files; the status region must show the case's coded message,
 * a refused drop must leave the model, image, tree and panels exactly as they were, and the next
 * good drop must work.
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { APP_URL, FIXTURES_SKIP_REASON, fixturesAvailable, waitForReady, type PageClient } from './helpers';
import { BAD_INPUT_CASES, HTML_LABELS, HTML_LAYER_NAME, HTML_MODEL_FOLDER, INJECTION_MARKER, goodFiles, type BadInputCase, type CaseFile } from './bad-inputs';

interface Notice {
  id: number;
  code: string | null;
  message: string;
  level: string;
}

/** What must not change when a drop is refused (object identity in the store, pixels on the panels). */
interface Snapshot {
  modelName: string | null;
  imageName: string | null;
  explainedRequest: number | null;
  explainedLayer: string | null;
  header: string;
  treeRows: number;
  selectedRow: string | null;
  gradcamDigest: number;
  originalDigest: number;
}

type StudioWindow = {
  __studio: {
    getState(): {
      model: { summary: { name: string } | null };
      image: { name: string } | null;
      explanation: { last: { requestId: number; layerPath: string | null; methods: string[]; classLabel: string } | null };
      status: { notices: Notice[]; pending: number };
    };
    client: PageClient;
  };
  __before?: { summary: unknown; image: unknown; last: unknown; lastNoticeId: number };
} & Record<string, unknown>;

const playwrightFiles = (files: CaseFile[]) => files.map((f) => ({ name: f.name, mimeType: 'application/octet-stream', buffer: Buffer.from(f.data) }));

async function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(async () => {
    const w = window as unknown as StudioWindow;
    const s = w.__studio.getState();
    const panels = await w.__studio.client.call('inspectPanels', []);
    const digest = (data?: Uint8ClampedArray) => {
      let d = 0;
      data?.forEach((v, i) => (d = (d * 31 + v * ((i % 251) + 1)) % 1_000_000_007));
      return d;
    };
    return {
      modelName: s.model.summary?.name ?? null,
      imageName: s.image?.name ?? null,
      explainedRequest: s.explanation.last?.requestId ?? null,
      explainedLayer: s.explanation.last?.layerPath ?? null,
      header: document.querySelector('[data-testid=model-name]')?.textContent ?? '',
      treeRows: document.querySelectorAll('[role=treeitem]').length,
      selectedRow: document.querySelector('[role=treeitem][aria-selected=true]')?.getAttribute('data-path') ?? null,
      gradcamDigest: digest(panels.gradcam?.data),
      originalDigest: digest(panels.original?.data),
    };
  });
}

/** Remember the store's current objects, to tell afterwards whether anything was replaced. */
async function markBefore(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as StudioWindow;
    const s = w.__studio.getState();
    w.__before = { summary: s.model.summary, image: s.image, last: s.explanation.last, lastNoticeId: s.status.notices.at(-1)?.id ?? 0 };
  });
}

async function noticesSinceMark(page: Page): Promise<Notice[]> {
  return page.evaluate(() => {
    const w = window as unknown as StudioWindow;
    return w.__studio.getState().status.notices.filter((n) => n.id > (w.__before?.lastNoticeId ?? 0));
  });
}

/** Wait until a drop was taken and explained: a new explanation in the store, nothing pending. */
async function waitForNewExplanation(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = window as unknown as StudioWindow;
      const s = w.__studio.getState();
      return s.explanation.last !== w.__before?.last && s.status.pending === 0;
    },
    undefined,
    { timeout: 180_000 },
  );
  await waitForReady(page);
}

async function dropGood(page: Page): Promise<void> {
  await markBefore(page);
  await page.setInputFiles('[data-testid=open-model]', playwrightFiles(await goodFiles()));
  await waitForNewExplanation(page);
  const state = await snapshot(page);
  expect(state.imageName).toBe('tiny.png');
  expect(state.explainedRequest).not.toBeNull();
  expect(state.treeRows).toBeGreaterThan(1);
}

let shared: { page: Page; query: string; pageErrors: string[]; consoleErrors: string[] } | null = null;

/** One page for the whole table (a fresh one when a case needs another query), with the good model explained. */
async function pageFor(browser: Browser, query = ''): Promise<Page> {
  if (shared && shared.query === query && !shared.page.isClosed()) return shared.page;
  await shared?.page.close();
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  shared = { page, query, pageErrors, consoleErrors };
  await page.goto(`${APP_URL}?backend=wasm${query ? `&${query}` : ''}`);
  await page.waitForFunction(() => {
    const state = document.querySelector('main')?.getAttribute('data-state');
    return !!(window as unknown as { __studio?: unknown }).__studio && (state === 'ready' || state === 'error');
  }, undefined, { timeout: 180_000 });
  await dropGood(page);
  return page;
}

let casesRun = 0;

test.describe('the table of bad inputs', () => {
  test.afterAll(async () => {
    console.log(`bad-input cases: ${casesRun} run of ${BAD_INPUT_CASES.length}`);
    await shared?.page.close();
    shared = null;
  });

  // Cases on another page (another query) run last, so the shared page is made once.
  const ordered = [...BAD_INPUT_CASES].sort((a, b) => Number(!!a.pageQuery) - Number(!!b.pageQuery));
  for (const c of ordered) {
    test(`${c.id}: ${c.description}`, async ({ browser }) => {
      test.skip(!!c.needsFixtures && !fixturesAvailable, FIXTURES_SKIP_REASON);
      const page = await pageFor(browser, c.pageQuery ?? '');
      await runCase(page, c);
      expect(shared?.pageErrors ?? []).toEqual([]);
      casesRun++;
    });
  }
});

/** Records the app's state at the moment `code` first appears in the status region. */
async function watchForWarning(page: Page, code: string): Promise<void> {
  await page.evaluate((wanted) => {
    const w = window as unknown as StudioWindow & { __warnedWhile?: unknown };
    w.__warnedWhile = null;
    const observer = new MutationObserver(() => {
      if (!document.querySelector('[role=status]')?.textContent?.includes(wanted)) return;
      w.__warnedWhile = {
        oldModelCurrent: w.__studio.getState().model.summary === w.__before?.summary,
        state: document.querySelector('main')?.getAttribute('data-state'),
      };
      observer.disconnect();
    });
    observer.observe(document.querySelector('.status-area') ?? document.body, { subtree: true, childList: true, characterData: true });
  }, code);
}

async function runCase(page: Page, c: BadInputCase): Promise<void> {
  const files = await c.files();
  const before = await snapshot(page);
  await markBefore(page);
  if (c.checks?.includes('warned-before-load')) await watchForWarning(page, c.expectCode ?? '');
  const dropped = Date.now();
  await page.setInputFiles('[data-testid=open-model]', playwrightFiles(files));
  const status = page.locator('[role=status]');

  if (c.keepsState) {
    await expect(page.locator('main')).toHaveAttribute('data-state', 'error', { timeout: 120_000 });
    if (c.expectCode) await expect(status).toContainText(c.expectCode);
    if (c.withinMs) expect(Date.now() - dropped, `${c.expectCode} on screen within ${c.withinMs} ms`).toBeLessThan(c.withinMs);
    // Code and message are separate words for screen readers and copy-paste: "CODE: message".
    if (c.expectCode) expect(await status.textContent()).toContain(`${c.expectCode}: `);
    await expect(status).toContainText(c.expectText);
    // Nothing was replaced: same store objects, same header, tree and pixels.
    const same = await page.evaluate(() => {
      const w = window as unknown as StudioWindow;
      const s = w.__studio.getState();
      return { summary: s.model.summary === w.__before?.summary, image: s.image === w.__before?.image, last: s.explanation.last === w.__before?.last };
    });
    expect(same).toEqual({ summary: true, image: true, last: true });
    expect(await snapshot(page)).toEqual(before);
  } else {
    await waitForNewExplanation(page);
    const notices = await noticesSinceMark(page);
    if (c.expectCode) {
      const found = notices.find((n) => n.code === c.expectCode);
      expect(found, `a ${c.expectCode} notice among ${JSON.stringify(notices)}`).toBeTruthy();
      expect(found?.message).toMatch(c.expectText);
      expect(found?.level).toBe('warning');
      await expect(page.locator('.status-area')).toContainText(found?.message ?? '');
    } else {
      await expect(page.locator('[data-testid=model-name]')).toContainText(c.expectText);
    }
    expect(notices.filter((n) => n.level === 'error')).toEqual([]);
    expect((await snapshot(page)).explainedRequest).not.toBe(before.explainedRequest);
  }

  if (c.expectCode === 'SHARD_SIZE_MISMATCH') {
    const [, actual, expected] = (await status.textContent())?.match(/has (\d+) bytes but the manifest says (\d+)/) ?? [];
    expect(Number(actual)).toBeGreaterThan(0);
    expect(Number(actual)).not.toBe(Number(expected));
  }
  if (c.checks?.includes('warned-before-load')) {
    // The warning was on screen while the drop was still loading, with the old model still current.
    expect(await page.evaluate(() => (window as unknown as { __warnedWhile?: unknown }).__warnedWhile)).toEqual({ oldModelCurrent: true, state: 'busy' });
  }
  if (c.checks?.includes('portrait-upright')) {
    // Shown portrait (600×4800 → 512×4096), red (the stored left half) on top, blue below.
    const shown = await page.evaluate(async () => {
      const w = window as unknown as StudioWindow;
      const panels = await w.__studio.client.call('inspectPanels', []);
      const p = panels.original as unknown as { width: number; height: number; data: Uint8ClampedArray };
      const at = (fx: number, fy: number) => {
        const i = (Math.floor(fy * (p.height - 1)) * p.width + Math.floor(fx * (p.width - 1))) * 4;
        return [p.data[i], p.data[i + 1], p.data[i + 2]];
      };
      const image = w.__studio.getState().image as unknown as { width: number; height: number };
      return { image: [image.width, image.height], panel: [p.width, p.height], top: at(0.5, 0.1), bottom: at(0.5, 0.9) };
    });
    expect(shown.image).toEqual([512, 4096]);
    expect(shown.panel[1]).toBeGreaterThan(shown.panel[0] * 4);
    expect(shown.top[0]).toBeGreaterThan(shown.top[2] + 100);
    expect(shown.bottom[2]).toBeGreaterThan(shown.bottom[0] + 100);
  }
  if (c.checks?.includes('long-name-one-line')) {
    const line = page.locator('[data-testid=explained-line]');
    const box = await line.boundingBox();
    expect(box!.height, 'the "Layer …" line stays one line').toBeLessThan(40);
    const path = page.locator('[data-testid=explained-line] .layer-path');
    expect((await path.getAttribute('title'))?.length).toBeGreaterThan(10_000); // the full name, in the tooltip
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
    expect(download.suggestedFilename().length).toBeLessThanOrEqual(140);
    expect(download.suggestedFilename()).toMatch(/^gradcam-.*~\w+\.png$/);
  }
  if (c.checks?.includes('guided-backprop-only')) {
    const methods = await page.evaluate(() => (window as unknown as StudioWindow).__studio.getState().explanation.last?.methods);
    expect(methods).toEqual(['guided-backprop']);
  }
  if (c.checks?.includes('labels-verbatim')) {
    await expect(page.locator('[data-testid=model-name]')).toContainText(HTML_MODEL_FOLDER);
    for (const label of HTML_LABELS) await expect(page.locator('.right-column')).toContainText(label);
  }
  if (c.checks?.includes('no-injection')) {
    if (c.keepsState) await expect(status).toContainText(HTML_LAYER_NAME);
    const injected = await page.evaluate((marker) => ({
      ran: (window as unknown as Record<string, unknown>)[marker] ?? null,
      elements: document.querySelectorAll('#injected-bold, #injected-layer, img[src="x"], [onload], [onerror], body script:not([type=module])').length,
    }), INJECTION_MARKER);
    expect(injected).toEqual({ ran: null, elements: 0 });
  }

  // The next good drop works.
  await dropGood(page);
}
