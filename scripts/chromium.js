// The one place that finds and launches Chromium for the browser tests and benches
// (test/browser.test.ts, bench/browser-throughput.js), through playwright-core.
//
// Which browser:
//   - CHROME_PATH, when set, names the browser to use (a system Chrome or Chromium); a path that
//     is not an executable file is an error, never a silent fallback.
//   - Otherwise the Chromium that the devDependency @sparticuz/chromium carries inside its npm
//     package (a headless shell, brotli-compressed in its bin/ folder): nothing is downloaded and
//     no apt package is needed. It is decompressed once per package version into
//     node_modules/.cache/latchkey-chromium-<version>/ (about 210 MB) with the NSS libraries and
//     fonts it ships, so it runs on a machine that has neither (Debian slim, say).
//
// Why not the package's own executablePath(): it decompresses into the shared $TMPDIR/chromium
// and takes any file already there as done, so a run killed mid-copy, or another version's file,
// is launched as is. Here each extraction goes to a fresh folder that is renamed into place only
// when complete (concurrent first runs each extract, one rename wins), and the folder is named
// after the package version. The decompression itself is the package's `inflate`.
//
// Flags: the machine's (headless, no sandbox as root, no GPU, no network of Chromium's own:
// the machine's network is closed), nothing of the package's serverless list: in particular
// not --enable-features=SharedArrayBuffer nor --disable-web-security, which would hide a page
// that is not cross-origin isolated (test/browser.test.ts checks that one gets ENOTISOLATED).
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Chromium's command-line flags for this machine (root, closed network, no display). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * The browser to launch: `{ executablePath, env, source }`. `env` holds what the bundled
 * Chromium needs in its environment (its NSS libraries, its fonts); empty for CHROME_PATH.
 */
export async function findChromium() {
  const named = process.env.CHROME_PATH;
  if (named !== undefined && named !== '') {
    let ok = false;
    try { ok = statSync(named).isFile(); accessSync(named, constants.X_OK); } catch { ok = false; }
    if (!ok) throw new Error(`CHROME_PATH=${named} is not an executable file: name a Chrome or Chromium binary, or unset CHROME_PATH to use the Chromium of @sparticuz/chromium`);
    return { executablePath: named, env: {}, source: 'CHROME_PATH' };
  }
  return bundledChromium();
}

async function bundledChromium() {
  let entry;
  try {
    entry = createRequire(import.meta.url).resolve('@sparticuz/chromium');
  } catch {
    throw new Error('@sparticuz/chromium is not installed: run npm install (it is a devDependency), or set CHROME_PATH to a Chrome or Chromium binary');
  }
  const pkgDir = join(dirname(entry), '..');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  const dir = join(ROOT, 'node_modules', '.cache', `latchkey-chromium-${version}`);
  if (!existsSync(dir)) await extract(join(pkgDir, 'bin'), dir);
  return {
    executablePath: join(dir, 'chromium'),
    // Its own NSS and NSPR (built for Amazon Linux 2023, glibc 2.34): the binary links them and a
    // minimal Debian has none. Fonts: the package's Open Sans, through our fonts.conf.
    env: { LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'), FONTCONFIG_PATH: dir },
    source: `@sparticuz/chromium ${version}`,
  };
}

/** Decompresses the package's chromium.br, al2023.tar.br (al2023/lib/) and fonts.tar.br (fonts/) into `dir`. */
async function extract(bin, dir) {
  const { inflate } = await import('@sparticuz/chromium');
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.partial-`);
  try {
    // inflate() writes into os.tmpdir(), read from TMPDIR when each call starts: point it at the
    // staging folder for the synchronous start of the three calls only.
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    let done;
    try {
      done = Promise.all(['chromium.br', 'al2023.tar.br', 'fonts.tar.br'].map((f) => inflate(join(bin, f))));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
    }
    const [exe] = await done;
    if (exe !== join(staging, 'chromium')) throw new Error(`@sparticuz/chromium inflated to ${exe}, not into ${staging}`);
    writeFileSync(join(staging, 'fonts.conf'), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n` +
      `<fontconfig>\n  <dir>${join(dir, 'fonts')}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`);
    try {
      renameSync(staging, dir);
    } catch (e) {
      // Another process renamed its complete copy into place first: use that one.
      if (!existsSync(join(dir, 'chromium'))) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Launches Chromium headless with a persistent context in `userDataDir` (a fresh, empty folder
 * of the caller's). `options` go to playwright-core's launchPersistentContext (viewport, ...).
 */
export async function launchChromium(userDataDir, options = {}) {
  const found = await findChromium();
  return chromium.launchPersistentContext(userDataDir, {
    ...options,
    executablePath: found.executablePath,
    env: { ...process.env, ...found.env },
    headless: true,
    args: CHROMIUM_ARGS,
  });
}
