/** The open-files check: enough is fine, too many is explained with what to do. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureFileLimit, readFileLimit } from '../src/runner/fd-limit.js';

describe('open-files limit', () => {
  it('reads the limit of this process', () => {
    const limit = readFileLimit();
    assert.ok(limit && limit.soft > 0 && limit.hard >= limit.soft);
  });

  it('accepts what fits', () => {
    assert.match(ensureFileLimit(10), /enough|raised/);
  });

  it('explains what to do when the hard limit is too low', () => {
    const limit = readFileLimit()!;
    assert.throws(() => ensureFileLimit(limit.hard + 1), /hard limit.*--shared-connections.*several busbench processes/s);
  });
});
