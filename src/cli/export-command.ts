/** `busbench export`: results as CSV tables and HdrHistogram interval logs, for tools outside busbench. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadInputs } from '../results/read.js';
import { resourcesCsv, seriesCsv, summaryCsv, type ExportedRun } from '../results/export.js';
import { histogramLog, writeFileAtomic } from '../results/write.js';

interface ExportFlags {
  csv?: boolean;
  hlog?: boolean;
  output: string;
}

export function addExportCommand(program: Command): void {
  program
    .command('export')
    .summary('write results as CSV tables and HdrHistogram interval logs')
    .description(
      'Export runs (run directories, result.json files, or whole campaign directories) for other tools. ' +
        "CSV: summary.csv (per run and role/pattern: the console table's figures in plain units, each call leg as a row of its own, and the delivery account), " +
        'series.csv (per run, second of the measured phase and group: counts, bytes, p50/p90/p99/p99.9/max) and resources.csv ' +
        '(per run, sample and process: CPU cores, RSS, TCP connections); campaign runs get their swept parameters as columns. ' +
        "hlog: <run>.hlog per run, HdrHistogram's interval log with one histogram per second and group (values in µs), " +
        "for HdrHistogram's HistogramLogAnalyzer or HistogramLogProcessor. With neither --csv nor --hlog, both.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  busbench export results/quickstart-20261206-101500/ --csv -o out/\n' +
        '  busbench export results/clients-sweep/ -o sweep-export/          # every run of the campaign, CSV and hlog\n' +
        "  python3 -c \"import pandas; print(pandas.read_csv('out/series.csv').groupby('second').ok.sum())\"",
    )
    .argument('<inputs...>', 'run directories, result.json files or campaign directories')
    .option('--csv', 'write summary.csv, series.csv and resources.csv')
    .option('--hlog', 'write <run>.hlog per run')
    .option('-o, --output <dir>', 'directory to write into (created if missing)', 'export')
    .action(async (inputs: string[], flags: ExportFlags) => {
      const both = !flags.csv && !flags.hlog;
      const { runs } = await loadInputs(inputs);
      const exported: ExportedRun[] = runs.map((run) => ({ result: run.result, ...(run.campaign ? { parameters: run.campaign.parameters } : {}) }));
      await mkdir(flags.output, { recursive: true });
      const written: string[] = [];
      const write = async (name: string, text: string): Promise<void> => {
        const path = join(flags.output, name);
        await writeFileAtomic(path, text);
        written.push(path);
      };
      if (flags.csv || both) {
        await write('summary.csv', summaryCsv(exported));
        await write('series.csv', seriesCsv(exported));
        await write('resources.csv', resourcesCsv(exported));
      }
      if (flags.hlog || both) {
        for (const run of runs) await write(`${run.result.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.hlog`, histogramLog(run.result));
      }
      process.stdout.write(`${runs.length} run(s) exported:\n${written.map((path) => `  ${path}`).join('\n')}\n`);
    });
}
