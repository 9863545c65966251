// Headless Chromium from Debian (`chromium`, installed by
// scripts/ensure-test-tools.sh) driven by playwright-core: the page's
// end-to-end tests and bench/web-page.mjs start it the same way. Nothing is
// downloaded: playwright-core brings no browser of its own.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.PROCLAUNCH_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Why the browser cannot be started here, or null. */
export function chromiumMissing() {
  if (!existsSync(CHROMIUM)) return `no ${CHROMIUM} (Debian package chromium; scripts/ensure-test-tools.sh installs it)`;
  return null;
}

/** A headless Chromium (close it when done). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}
