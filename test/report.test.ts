/**
 * `busbench report`: the HTML report of a real run and of a real campaign
 * (each run on a RabbitMQ that busbench starts, as a user's would) holds no
 * external reference, renders in headless Chromium with no network and no
 * console error, every chart present and drawn; its figures are the run's;
 * whatever a result holds is escaped; the results it embeds come back out
 * with --extract and report the same; --format md summarises; missing runs
 * are listed; bad input exits 2.
 *
 * Screenshots land in the test's temp directory; with
 * BUSBENCH_UPDATE_SCREENSHOTS=1 they also replace docs/report-run.png and
 * docs/report-campaign.png, the README's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, it } from 'node:test';
import { findRabbitServer } from '../src/buses/rabbitmq/node.js';
import type { LineChart, ReportStatus } from '../src/report/html/chart-spec.js';
import type { EmbeddedReport } from '../src/report/html/embedded.js';
import type { RunResult } from '../src/index.js';
import { busbench, REPO } from './helpers/cli.js';
import { suite } from './helpers/suite.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is absent (apt-get install -y chromium): the reports cannot be rendered`
  : findRabbitServer()
    ? false
    : 'rabbitmq-server is absent (apt-get install -y rabbitmq-server)';

/** Runs headless Chromium on a file, offline, and returns its stdout. */
function chromium(profile: string, args: string[], url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // No network at all: a page that reached out would fail, and say so on its console.
        '--host-resolver-rules=MAP * ~NOTFOUND',
        '--proxy-server=127.0.0.1:9',
        `--user-data-dir=${profile}`,
        '--virtual-time-budget=5000',
        ...args,
        url,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(new Error(`chromium failed: ${error.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

/** The page's own account of its charts, read from the DOM Chromium dumps once the scripts ran. */
async function render(profile: string, file: string): Promise<ReportStatus> {
  const dom = await chromium(profile, ['--window-size=1400,3000', '--dump-dom'], `${pathToFileURL(file).href}#all`);
  const match = /<pre id="busbench-status">([^<]*)<\/pre>/.exec(dom);
  assert.ok(match, `no status in the rendered page:\n${dom.slice(0, 2000)}`);
  return JSON.parse(match[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as ReportStatus;
}

async function screenshot(profile: string, file: string, png: string, height: number): Promise<void> {
  await chromium(profile, [`--window-size=1400,${height}`, '--hide-scrollbars', `--screenshot=${png}`], pathToFileURL(file).href);
  const bytes = await readFile(png);
  assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')], `${png} is not a PNG`);
  assert.ok(bytes.length > 20_000, `${png} is nearly empty (${bytes.length} bytes)`);
  if (process.env['BUSBENCH_UPDATE_SCREENSHOTS'])
    await copyFile(png, join(REPO, 'docs', png.endsWith('campaign.png') ? 'report-campaign.png' : 'report-run.png'));
}

/** Anything the page would load or link to outside itself; data: URIs and in-page anchors are fine. */
function externalReferences(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/\b(?:src|href|action|poster|srcset)\s*=\s*["']?([^"'\s>]*)/gi)) if (!/^(#|data:)/.test(m[1]!)) found.push(m[0]);
  for (const m of html.matchAll(/https?:\/\/[^\s"'<>)]*/gi)) found.push(m[0]);
  for (const m of html.matchAll(/url\(\s*["']?([^"')]*)/gi)) if (!/^(#|data:)/.test(m[1]!)) found.push(m[0]);
  for (const m of html.matchAll(/@import/gi)) found.push(m[0]);
  return found;
}

function embedded(html: string): EmbeddedReport {
  const match = /<script type="application\/json" id="busbench-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match, 'no embedded busbench data');
  return JSON.parse(match[1]!) as EmbeddedReport;
}

function charts(html: string): LineChart[] {
  const match = /<script type="application\/json" id="busbench-charts">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(match, 'no chart data');
  return (JSON.parse(match[1]!) as { charts: LineChart[] }).charts;
}

suite('busbench report', { timeout: 420_000, skip }, () => {
  let dir: string;
  let profile: string;
  let runDir: string;
  let campaignDir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'busbench-report-'));
    profile = join(dir, 'chromium-profile');
    // busbench starts its own RabbitMQ for each run, so it watches the broker's resources (Table II).
    await writeFile(
      join(dir, 'base.yaml'),
      'name: report-base\nbus: {kind: rabbitmq}\nagents: {servers: 2, clients: 2}\nload: {duration: 3s, warmup: 500ms}\nrunner: {workers: 1}\n',
    );
    await writeFile(join(dir, 'sweep.yaml'), 'name: sweep\nscenario: base.yaml\ngrid:\n  agents.clients: [1, 3]\n');
    const run = await busbench(['run', 'base.yaml', '--results-dir', 'results'], dir);
    assert.equal(run.code, 0, run.stderr);
    runDir = join(
      dir,
      'results',
      (await readdir(join(dir, 'results'))).find((name) => name.startsWith('report-base-'))!,
    );
    const campaign = await busbench(['campaign', 'sweep.yaml', '--results-dir', 'results', '--no-progress'], dir);
    assert.equal(campaign.code, 0, campaign.stderr);
    campaignDir = join(dir, 'results', 'sweep');
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports a run: no external reference, renders offline with every chart drawn, and its figures are the run’s', async () => {
    const out = await busbench(['report', runDir, '-o', 'run.html'], dir);
    assert.equal(out.code, 0, out.stderr);
    const file = join(dir, 'run.html');
    assert.match(out.stdout, new RegExp(`report written: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const html = await readFile(file, 'utf8');
    assert.deepEqual(externalReferences(html), []);
    assert.match(html, /var uPlot=/, 'uPlot is inlined');

    const status = await render(profile, file);
    assert.deepEqual(status.errors, []);
    assert.deepEqual(status.empty, []);
    // spectrum + CDF, throughput, latency and errors over time, three resource charts: uPlot; the legs' boxplot: SVG
    assert.ok(status.charts >= 9, `only ${status.charts} charts`);
    assert.equal(status.drawn, status.charts);
    assert.equal(status.pending, 0);
    await screenshot(profile, file, join(dir, 'run.png'), 2200);

    // The spectrum's points are the histogram's percentiles: at 1/(1−p) = 10 and 100, the run's p90 and p99.
    const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as RunResult;
    const client = result.groups.find((g) => g.role === 'client')!;
    const spectrum = charts(html).find((c) => c.id.includes('spectrum-call-anycast'))!;
    const roundTrip = spectrum.series.find((s) => s.label === 'round trip at clients')!;
    assert.equal(roundTrip.values[spectrum.xs.indexOf(10)], client.latency!.p90Us / 1000);
    assert.equal(roundTrip.values[spectrum.xs.indexOf(100)], client.latency!.p99Us / 1000);
    assert.deepEqual(spectrum.series.map((s) => s.label).sort(), ['one-way at servers', 'reply one-way', 'round trip at clients', 'server work'].sort());
    // Every run's histograms travel with the page.
    const data = embedded(html);
    assert.equal(data.runs.length, 1);
    assert.equal(data.runs[0]!.result.groups.find((g) => g.role === 'client')!.histogram, client.histogram);
  });

  it('reports a campaign: a metric per swept value, boxplots, Table II, every run, all drawn offline', async () => {
    const out = await busbench(['report', campaignDir, '-o', 'campaign.html'], dir);
    assert.equal(out.code, 0, out.stderr);
    const file = join(dir, 'campaign.html');
    const html = await readFile(file, 'utf8');
    assert.deepEqual(externalReferences(html), []);
    const status = await render(profile, file);
    assert.deepEqual(status.errors, []);
    assert.deepEqual(status.empty, []);
    // 4 sweep charts and the boxplots, then each of the 2 runs' own charts, unfolded by #all.
    assert.ok(status.charts >= 5 + 2 * 9, `only ${status.charts} charts`);
    assert.equal(status.drawn, status.charts);
    await screenshot(profile, file, join(dir, 'campaign.png'), 2000);

    const sweep = charts(html).find((c) => c.id.endsWith('-throughput') && c.x.label.startsWith('agents.clients'))!;
    assert.deepEqual(sweep.xs, [1, 3]);
    assert.equal(sweep.series.length, 1);
    assert.ok(sweep.series[0]!.values.every((v) => v !== null && v > 0));
    assert.match(html, /Peak usage of the bus/);
    // Table II holds figures for both client counts: the broker was watched in each run.
    const tableTwo = html.slice(html.indexOf('Peak usage of the bus (Table II)'));
    assert.match(tableTwo, /RAM MiB<\/th><th>all runs \(1 broker\)<\/th><td class="n">[\d,]+<\/td><td class="n">[\d,]+<\/td>/);
    assert.equal(embedded(html).runs.length, 2);
  });

  it('lists a campaign run without results instead of hiding it', async () => {
    const copy = join(dir, 'partial');
    await cp(campaignDir, copy, { recursive: true });
    const runs = await readdir(join(copy, 'runs'));
    await rm(join(copy, 'runs', runs[0]!, 'done.json'));
    const out = await busbench(['report', copy, '--format', 'md'], dir);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /campaign sweep: 1 of 2 planned runs have no results \(0 failed, 1 not run\)/);
    assert.match(out.stdout, /1 of 2 planned runs finished, 1 not run/);
    assert.match(out.stdout, new RegExp(`\\| ${runs[0]} \\| agents\\.clients=\\d \\| not run \\|`));
  });

  it('escapes whatever a result holds, and the page still renders', async () => {
    const hostile = join(dir, 'hostile');
    await mkdir(hostile);
    const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as RunResult;
    result.scenario.name = '<script>window.__pwned = 1</script>';
    result.firstErrors = { 'call-anycast': 'Boom: </script><img src=x onerror=alert(1)> & more' };
    await writeFile(join(hostile, 'result.json'), JSON.stringify(result));
    const out = await busbench(['report', hostile, '-o', 'hostile.html'], dir);
    assert.equal(out.code, 0, out.stderr);
    const html = await readFile(join(dir, 'hostile.html'), 'utf8');
    assert.ok(!html.includes('<script>window.__pwned'), 'the scenario name went in unescaped');
    assert.ok(!html.includes('<img src=x'), 'the error went in unescaped');
    assert.match(html, /&lt;script&gt;window\.__pwned = 1&lt;\/script&gt;/);
    // In the embedded JSON, < is \u003c: nothing in it can close its <script> element.
    assert.equal(embedded(html).runs[0]!.result.scenario.name, result.scenario.name);
    const status = await render(profile, join(dir, 'hostile.html'));
    assert.deepEqual(status.errors, []);
    assert.equal(status.drawn, status.charts);
  });

  it('gives back the results it embeds: --extract writes directories that report the same', async () => {
    const both = await busbench(['report', campaignDir, runDir, '-o', 'both.html'], dir);
    assert.equal(both.code, 0, both.stderr);
    const out = await busbench(['report', '--extract', 'both.html', '-o', 'extracted'], dir);
    assert.equal(out.code, 0, out.stderr);
    const extracted = join(dir, 'extracted');
    assert.ok((await stat(join(extracted, 'sweep', 'campaign.json'))).isFile());
    const runName = runDir.split('/').pop()!;
    const original = await busbench(['report', campaignDir, runDir, '--format', 'md'], dir);
    const again = await busbench(['report', join(extracted, 'sweep'), join(extracted, runName), '--format', 'md'], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, original.stdout);
    assert.match(original.stdout, /^\| RAM MiB \| all runs \| [\d,]+ \| [\d,]+ \|$/m);
    assert.match(original.stdout, /^\| client \| call-anycast \| 2 \| [\d,]+ \|/m);
  });

  it('refuses what it cannot read with exit 2, naming the path', async () => {
    const missing = await busbench(['report', join(dir, 'nope')], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope: no such file or directory/);
    const notAReport = await busbench(['report', '--extract', join(runDir, 'result.json')], dir);
    assert.equal(notAReport.code, 2);
    assert.match(notAReport.stderr, /no busbench data in it/);
    const format = await busbench(['report', runDir, '--format', 'pdf'], dir);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format.*pdf.*html, md/);
  });
});
