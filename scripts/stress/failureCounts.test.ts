import { describe, expect, it } from 'vitest';
import { FailureTally, formatTally, playwrightOutcomes, vitestOutcomes } from './failureCounts';

const vitestReport = {
  testResults: [
    {
      name: '/repo/server/a.test.ts',
      status: 'failed',
      message: '',
      assertionResults: [
        { fullName: 'a > passes', status: 'passed', failureMessages: [] },
        {
          fullName: 'a > fails',
          status: 'failed',
          failureMessages: ['\u001b[31mAssertionError: 3 !== 2\u001b[39m\n at x'],
        },
        { fullName: 'a > skipped', status: 'skipped', failureMessages: [] },
      ],
    },
    // A file that did not load: no test failed, the file did.
    { name: '/repo/server/b.test.ts', status: 'failed', message: 'SyntaxError: nope', assertionResults: [] },
  ],
};

const playwrightReport = {
  suites: [
    {
      title: 'sw/x.spec.ts',
      specs: [
        {
          title: 'top',
          file: 'sw/x.spec.ts',
          line: 3,
          tests: [{ status: 'expected', projectName: '', results: [{ status: 'passed' }] }],
        },
      ],
      suites: [
        {
          title: 'group',
          specs: [
            {
              title: 'times out',
              file: 'sw/x.spec.ts',
              line: 9,
              tests: [
                {
                  status: 'unexpected',
                  projectName: '',
                  results: [{ status: 'timedOut', error: { message: 'Test timeout of 60000ms exceeded.' } }],
                },
              ],
            },
          ],
        },
      ],
    },
  ],
  errors: [{ message: 'Error: worker crashed' }],
};

describe('vitestOutcomes', () => {
  it('names each test by file and full name, and counts a file that failed to load', () => {
    const out = vitestOutcomes(vitestReport, '/repo');
    expect(out).toEqual([
      { id: 'server/a.test.ts > a > passes', status: 'passed' },
      {
        id: 'server/a.test.ts > a > fails',
        status: 'failed',
        message: '\u001b[31mAssertionError: 3 !== 2\u001b[39m\n at x',
      },
      { id: 'server/a.test.ts > a > skipped', status: 'skipped' },
      { id: 'server/b.test.ts (file)', status: 'failed', message: 'SyntaxError: nope' },
    ]);
  });
});

describe('playwrightOutcomes', () => {
  it('walks nested describes, marks timeouts and keeps run-level errors', () => {
    expect(playwrightOutcomes(playwrightReport)).toEqual([
      { id: 'sw/x.spec.ts:3 > top', status: 'passed' },
      {
        id: 'sw/x.spec.ts:9 > group > times out',
        status: 'failed',
        message: 'timed out: Test timeout of 60000ms exceeded.',
      },
      { id: '(playwright run error)', status: 'failed', message: 'Error: worker crashed' },
    ]);
  });
});

describe('FailureTally', () => {
  it('counts failures per test over rounds, skips do not count as runs', () => {
    const tally = new FailureTally();
    tally.record(vitestOutcomes(vitestReport, '/repo'));
    tally.record(vitestOutcomes(vitestReport, '/repo'));
    tally.record([{ id: 'server/a.test.ts > a > fails', status: 'passed' }]);
    expect(tally.failing()).toEqual([
      { id: 'server/a.test.ts > a > fails', runs: 3, failures: 2, messages: ['AssertionError: 3 !== 2'] },
      { id: 'server/b.test.ts (file)', runs: 2, failures: 2, messages: ['SyntaxError: nope'] },
    ]);
    expect(tally.tests).toBe(3);
    expect(tally.totalFailures).toBe(4);
    expect(formatTally('node', tally, 3)).toContain('2/3  server/a.test.ts > a > fails');
  });
});
