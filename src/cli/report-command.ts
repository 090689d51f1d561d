/**
 * `busbench report`: runs and campaigns as one self-contained HTML file (or
 * Markdown), and the way back — `--extract` writes the results a report
 * carries as run and campaign directories again.
 */
import { writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError, exitCodeHelp } from '../errors.js';
import { loadInputs } from '../results/read.js';
import { extractReport } from '../report/html/embedded.js';
import { htmlReport } from '../report/html/report.js';
import { markdownReport } from '../report/markdown.js';

interface ReportFlags {
  output?: string;
  format: 'html' | 'md';
  extract?: boolean;
}

async function write(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new UsageError(
      `-o ${path}: cannot write the report: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} (give a file in a directory that exists)`,
    );
  }
}

function size(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`;
}

export function addReportCommand(program: Command): void {
  program
    .command('report')
    .summary('one self-contained HTML report (or Markdown) of runs and campaigns')
    .description(
      'Write one HTML file that opens offline (uPlot and every figure inlined, nothing fetched) from run directories and campaign directories: ' +
        'per run the latency percentile spectrum and CDF per pattern, the legs of calls side by side, throughput, p50/p99 and errors over time ' +
        'with outages as bands, the delivery account, resources per process, the site-pair matrix, the generator verdict and the provenance; ' +
        'per campaign a metric against the swept parameter with one line per bus configuration, latency boxplots per parameter value, ' +
        "the bus's peak RAM, CPU and TCP connections (the seed's Table II) and every planned run, missing and failed ones listed. " +
        "Each run's results, encoded histograms included, are embedded in the page: --extract writes them back as directories.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  busbench report results/quickstart-20250101-120000/                  # writes ./report.html\n' +
        '  busbench report results/clients-sweep/ -o sweep.html                 # a campaign\n' +
        '  busbench report results/run-a/ results/run-b/ results/sweep/ -o all.html\n' +
        '  busbench report results/clients-sweep/ --format md                   # Markdown on stdout, for a pull request\n' +
        '  busbench report --extract sweep.html -o sweep-results/               # the results inside a report, as directories\n' +
        '\nOpen the report with #all after its name (report.html#all) to unfold every campaign run at once.\n\n' +
        exitCodeHelp(),
    )
    .argument('<inputs...>', 'run directories, result.json files, campaign directories; with --extract, one report file')
    .option('-o, --output <path>', 'where to write: default report.html here (html), stdout (md), or a directory named after the report (--extract)')
    .addOption(new Option('--format <format>', 'html: the report page; md: a Markdown summary').choices(['html', 'md']).default('html'))
    .option('--extract', "write the results embedded in a report back as run and campaign directories (give the report's HTML file)")
    .action(async (inputs: string[], flags: ReportFlags) => {
      if (flags.extract) {
        if (inputs.length !== 1)
          throw new UsageError(`--extract reads one report file, got ${inputs.length} inputs: busbench report --extract report.html -o dir`);
        const file = inputs[0]!;
        const directory = resolve(flags.output ?? basename(file, extname(file)));
        const written = await extractReport(file, directory);
        process.stdout.write(
          `extracted ${written.length} result director${written.length === 1 ? 'y' : 'ies'} from ${file}:\n${written.map((d) => `  ${d}\n`).join('')}` +
            `read them with: busbench report ${written.map((d) => JSON.stringify(d)).join(' ')}\n`,
        );
        return;
      }
      const loaded = await loadInputs(inputs);
      for (const campaign of loaded.campaigns) {
        if (campaign.missing.length > 0) {
          const failed = campaign.missing.filter((m) => m.failed).length;
          process.stderr.write(
            `busbench: campaign ${campaign.name}: ${campaign.missing.length} of ${campaign.total} planned runs have no results (${failed} failed, ${campaign.missing.length - failed} not run): listed in the report\n`,
          );
        }
      }
      if (flags.format === 'md') {
        const markdown = markdownReport(loaded);
        if (flags.output === undefined) {
          process.stdout.write(markdown);
          return;
        }
        await write(flags.output, markdown);
        process.stdout.write(`report written: ${resolve(flags.output)} (Markdown, ${size(Buffer.byteLength(markdown))})\n`);
        return;
      }
      const output = flags.output ?? 'report.html';
      const html = await htmlReport(loaded, { fileName: basename(output) });
      await write(output, html);
      process.stdout.write(
        `report written: ${resolve(output)} (${loaded.runs.length} run(s)${loaded.campaigns.length ? `, ${loaded.campaigns.length} campaign(s)` : ''}, ${size(Buffer.byteLength(html))}); open it in a browser, no network needed\n`,
      );
    });
}
