/**
 * describe() that, when skipped, reports one skipped test instead: Node's
 * runner counts a skipped describe in no summary line ("# skipped 0"), so a
 * suite that could not run would look like one that passed.
 */
import { describe, it, type SuiteContext, type TestOptions } from 'node:test';

export function suite(
  name: string,
  options: Omit<TestOptions, 'skip'> & { skip?: string | boolean },
  fn: (context: SuiteContext) => void | Promise<void>,
): void {
  if (typeof options.skip === 'string') {
    process.stdout.write(`# ${name}: skipped: ${options.skip}\n`);
    it(name, { skip: options.skip }, () => undefined);
    return;
  }
  const { skip, ...rest } = options;
  describe(name, { ...rest, skip: skip === true }, fn);
}
