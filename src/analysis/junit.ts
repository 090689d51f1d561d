/**
 * JUnit XML, the report format every CI system shows as tests: one
 * <testsuite> per compared pair (or per run), one <testcase> per threshold.
 * A failed threshold is a <failure>; an inconclusive one is <skipped>, with
 * its reason as the message: CI shows it apart from both passes and
 * failures, and the command's exit code (98) still tells the pipeline that
 * nothing could be concluded.
 */

export type CaseOutcome = 'pass' | 'fail' | 'inconclusive';

export interface JunitCase {
  /** the threshold as written: p99<+10% */
  name: string;
  outcome: CaseOutcome;
  /** one line: the figures and why */
  message: string;
  /** more lines, shown under the failure or in system-out */
  details?: string;
}

export interface JunitSuite {
  /** the pair's or run's name */
  name: string;
  cases: JunitCase[];
  /** key/values shown as the suite's properties: baseline, candidate, verdict */
  properties?: Record<string, string>;
  /** seconds the suite's runs took, when known */
  timeSeconds?: number;
}

/** Text as XML character data: the special characters escaped, and the characters XML 1.0 cannot hold at all dropped. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Text as an attribute value: escaped, and its line ends kept as references (parsers turn raw ones into spaces). */
export function escapeAttribute(text: string): string {
  return escapeXml(text).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

function attributes(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${escapeAttribute(String(value))}"`)
    .join('');
}

/** The whole document: <testsuites> with the totals, then each suite. */
export function junitXml(name: string, suites: readonly JunitSuite[]): string {
  const count = (outcome: CaseOutcome): number => suites.reduce((n, s) => n + s.cases.filter((c) => c.outcome === outcome).length, 0);
  const tests = suites.reduce((n, s) => n + s.cases.length, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name, tests, failures: count('fail'), errors: 0, skipped: count('inconclusive') })}>`,
  ];
  for (const suite of suites) {
    const failures = suite.cases.filter((c) => c.outcome === 'fail').length;
    const skipped = suite.cases.filter((c) => c.outcome === 'inconclusive').length;
    lines.push(
      `  <testsuite${attributes({
        name: suite.name,
        tests: suite.cases.length,
        failures,
        errors: 0,
        skipped,
        ...(suite.timeSeconds !== undefined ? { time: suite.timeSeconds.toFixed(3) } : {}),
      })}>`,
    );
    const properties = Object.entries(suite.properties ?? {});
    if (properties.length > 0) {
      lines.push('    <properties>');
      for (const [key, value] of properties) lines.push(`      <property${attributes({ name: key, value })}/>`);
      lines.push('    </properties>');
    }
    for (const test of suite.cases) {
      const open = `    <testcase${attributes({ name: test.name, classname: `busbench.${suite.name}` })}`;
      if (test.outcome === 'pass') {
        lines.push(test.details ? `${open}>\n      <system-out>${escapeXml(test.details)}</system-out>\n    </testcase>` : `${open}/>`);
      } else if (test.outcome === 'fail') {
        lines.push(
          `${open}>`,
          `      <failure${attributes({ message: test.message, type: 'threshold' })}>${escapeXml(test.details ?? test.message)}</failure>`,
          '    </testcase>',
        );
      } else {
        lines.push(`${open}>`, `      <skipped${attributes({ message: `inconclusive: ${test.message}` })}/>`, '    </testcase>');
      }
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}
