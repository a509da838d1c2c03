// The emulator's KQL interpreter, table by table: every construct a rollout judge or a person writes against
// AmlOnlineEndpointTrafficLog (where, summarize, extend, project, order by, take, …) on known rows with
// known answers; Kusto's nearest-rank percentile on known data; and the refusal of what it does not run,
// naming the construct and its line and column.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { KqlError } from '../../emulator/kql/errors.js';
import { formatDatetime, formatTimespan, nearestRank, runKql, type Catalog, type Row, type Table } from '../../emulator/kql/evaluate.js';
import { parseDatetimeLiteral } from '../../emulator/kql/parser.js';

const dt = (iso: string): number => Date.parse(iso);
const T0 = dt('2026-01-01T10:00:00Z');
const NOW = dt('2026-01-01T10:10:00Z');

/**
 * Ten requests, 10:00:00 to 10:01:30 every 10 s. blue answers the even ones, green the odd ones; the 4th and
 * 9th are 500s and no model ran for the 9th (ModelStatusCode null); durations 10, 20, …, 100 ms.
 */
function traffic(): Table {
  const rows: Row[] = [];
  for (let i = 0; i < 10; i++) {
    rows.push([
      T0 + i * 10_000,
      i % 2 === 0 ? 'blue' : 'green',
      i === 3 || i === 8 ? 500 : 200,
      i === 8 ? null : i === 3 ? 500 : 200,
      (i + 1) * 10,
      i === 5 ? '/score/batch' : '/score',
      i < 5 ? 'python-requests/2.31 (judge)' : 'azsdk-js-monitor',
      `req-${i}`,
    ]);
  }
  return {
    columns: [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'DeploymentName', type: 'string' },
      { name: 'ResponseCode', type: 'int' },
      { name: 'ModelStatusCode', type: 'int' },
      { name: 'TotalDurationMs', type: 'int' },
      { name: 'Path', type: 'string' },
      { name: 'UserAgent', type: 'string' },
      { name: 'XRequestId', type: 'string' },
    ],
    rows,
  };
}

const catalog = (tables: Record<string, Table> = { Traffic: traffic() }): Catalog => ({
  table: (name) => tables[name],
  names: () => Object.keys(tables),
});

function run(query: string, tables?: Record<string, Table>): { columns: string[]; types: string[]; rows: Row[] } {
  const { table } = runKql(query, catalog(tables), { now: NOW });
  return { columns: table.columns.map((c) => c.name), types: table.columns.map((c) => c.type), rows: table.rows };
}

/** The XRequestIds a where clause keeps, in order. */
const kept = (predicate: string): string[] => run(`Traffic | where ${predicate} | project XRequestId`).rows.map((r) => String(r[0]).slice(4)).map(String);

describe('where: comparisons, logic, between, in, has/contains, ago(), datetime and timespan literals', () => {
  const cases: [string, string, string[]][] = [
    ['== on ints', 'ResponseCode == 500', ['3', '8']],
    ['!= and <> on ints', 'ResponseCode != 200 and ResponseCode <> 404', ['3', '8']],
    ['< <= > >=', 'TotalDurationMs < 30 or TotalDurationMs >= 100', ['0', '1', '9']],
    ['<= and > together', 'TotalDurationMs > 20 and TotalDurationMs <= 40', ['2', '3']],
    ['== on strings is case-sensitive', 'DeploymentName == "Blue"', []],
    ['=~ is case-insensitive', 'DeploymentName =~ "Blue" and TotalDurationMs < 40', ['0', '2']],
    ['!~ is its negation', 'DeploymentName !~ "BLUE" and TotalDurationMs < 40', ['1']],
    ['not() negates', 'not(ResponseCode == 200)', ['3', '8']],
    ['and binds tighter than or', 'ResponseCode == 500 or DeploymentName == "green" and TotalDurationMs > 80', ['3', '8', '9']],
    ['parentheses regroup', '(ResponseCode == 500 or DeploymentName == "green") and TotalDurationMs > 80', ['8', '9']],
    ['between is inclusive at both ends', 'TotalDurationMs between (30 .. 50)', ['2', '3', '4']],
    ['!between is its complement', 'TotalDurationMs !between (20 .. 90)', ['0', '9']],
    ['datetime between (t0 .. timespan) means t0 ≤ t ≤ t0+span', 'TimeGenerated between (datetime(2026-01-01T10:00:20Z) .. 20s)', ['2', '3', '4']],
    ['in (…) is case-sensitive set membership', 'DeploymentName in ("green", "BLUE") and TotalDurationMs < 50', ['1', '3']],
    ['in~ ignores case', 'DeploymentName in~ ("BLUE") and TotalDurationMs < 50', ['0', '2']],
    ['!in excludes', 'ResponseCode !in (200)', ['3', '8']],
    ['in on ints', 'TotalDurationMs in (10, 100, 55)', ['0', '9']],
    ['has matches a whole term, any case', 'UserAgent has "JUDGE"', ['0', '1', '2', '3', '4']],
    ['has does not match part of a term', 'UserAgent has "jud"', []],
    ['has matches a term inside punctuation', 'Path has "batch"', ['5']],
    ['contains matches any substring, any case', 'UserAgent contains "MONIT"', ['5', '6', '7', '8', '9']],
    ['!has and !contains negate', 'Path !has "batch" and UserAgent !contains "judge" and TotalDurationMs < 90', ['6', '7']],
    ['startswith / endswith', 'UserAgent startswith "azsdk" and Path endswith "batch"', ['5']],
    ['ago() counts back from one now() (10:10:00 − 570s = 10:00:30, strictly after)', 'TimeGenerated > ago(570s)', ['4', '5', '6', '7', '8', '9']],
    ['ago() with a minutes literal', 'TimeGenerated >= ago(9m)', ['6', '7', '8', '9']],
    ['datetime(yyyy-MM-dd hh:mm:ss.f) literal', 'TimeGenerated < datetime(2026-01-01 10:00:15.5)', ['0', '1']],
    ['datetime ISO literal with Z', 'TimeGenerated == datetime(2026-01-01T10:01:30Z)', ['9']],
    ['datetime(date) is midnight UTC', 'TimeGenerated > datetime(2026-01-01) and TimeGenerated < datetime(2026-01-01) + 10h + 11s', ['0', '1']],
    ['datetime arithmetic with timespans', 'TimeGenerated - datetime(2026-01-01T10:00:00Z) >= 80s', ['8', '9']],
    ['isnull() finds the request no model answered', 'isnull(ModelStatusCode)', ['8']],
    ['comparisons with null are not true', 'ModelStatusCode != 200', ['3']],
    ['isnotempty / strlen', 'isnotempty(Path) and strlen(Path) > 6', ['5']],
  ];
  for (const [title, predicate, expected] of cases) {
    test(`${title}: where ${predicate}`, () => {
      assert.deepEqual(kept(predicate), expected);
    });
  }
  test('ago() is now() minus the timespan, the same value for every row', () => {
    // now = 10:10:00; ago(580s) = 10:00:20
    assert.deepEqual(kept('TimeGenerated >= ago(580s)'), ['2', '3', '4', '5', '6', '7', '8', '9']);
    assert.deepEqual(run('Traffic | take 2 | extend n = now(), a = ago(1h) | project n, a').rows, [[NOW, NOW - 3_600_000], [NOW, NOW - 3_600_000]]);
  });
});

describe('timespan and datetime literals', () => {
  const spans: [string, number][] = [
    ['2d / 1h', 48],
    ['1.5h / 1m', 90],
    ['30m / 1s', 1800],
    ['10s / 1ms', 10_000],
    ['100ms / 1s', 0.1],
    ['10microsecond / 1tick', 100],
    ['1tick / 1microsecond', 0.1],
    ['timespan(0.12:34:56.7) / 1s', 45_296.7],
    ['timespan(2) / 1h', 48],
    ['timespan(00:05:00) / 1m', 5],
    ['2 * 30s / 1s', 60],
  ];
  for (const [expr, expected] of spans) {
    test(`${expr} = ${expected}`, () => {
      const got = run(`Traffic | take 1 | project x = ${expr}`).rows[0]?.[0] as number;
      assert.ok(Math.abs(got - expected) < 1e-9, `${expr}: got ${got}`);
    });
  }
  test('datetime literals in all three spellings name the same instant, in UTC', () => {
    assert.equal(parseDatetimeLiteral('2026-01-01 12:00:00.5'), dt('2026-01-01T12:00:00.500Z'));
    assert.equal(parseDatetimeLiteral('2026-01-01T12:00:00.5Z'), dt('2026-01-01T12:00:00.500Z'));
    assert.equal(parseDatetimeLiteral('2026-01-01'), dt('2026-01-01T00:00:00Z'));
    assert.equal(parseDatetimeLiteral('2026-02-30'), undefined);
  });
  test('datetimes and timespans print like Kusto: ISO with 7 fractional digits, [d.]hh:mm:ss[.fffffff]', () => {
    assert.equal(formatDatetime(dt('2026-01-01T10:00:00Z')), '2026-01-01T10:00:00Z');
    assert.equal(formatDatetime(dt('2026-01-01T10:00:00.5Z')), '2026-01-01T10:00:00.5000000Z');
    assert.equal(formatTimespan(90_000), '00:01:30');
    assert.equal(formatTimespan(86_400_000 + 3_723_500), '1.01:02:03.5000000');
    assert.equal(formatTimespan(-1000), '-00:00:01');
  });
});

describe('summarize', () => {
  test('count, countif, sum, avg, min, max, dcount with Kusto default column names and types', () => {
    const r = run('Traffic | summarize count(), countif(ResponseCode >= 500), sum(TotalDurationMs), avg(TotalDurationMs), min(TotalDurationMs), max(TimeGenerated), dcount(DeploymentName)');
    assert.deepEqual(r.columns, ['count_', 'countif_', 'sum_TotalDurationMs', 'avg_TotalDurationMs', 'min_TotalDurationMs', 'max_TimeGenerated', 'dcount_DeploymentName']);
    assert.deepEqual(r.types, ['long', 'long', 'long', 'real', 'int', 'datetime', 'long']);
    assert.deepEqual(r.rows, [[10, 2, 550, 55, 10, T0 + 90_000, 2]]);
  });

  test('… by a column and bin(TimeGenerated, 1m): one row per key combination, bin named after its column', () => {
    const r = run('Traffic | summarize requests = count(), errors = countif(ResponseCode >= 500), slow = countif(TotalDurationMs > 50) by DeploymentName, bin(TimeGenerated, 1m) | order by DeploymentName asc, TimeGenerated asc');
    assert.deepEqual(r.columns, ['DeploymentName', 'TimeGenerated', 'requests', 'errors', 'slow']);
    assert.deepEqual(r.rows, [
      ['blue', T0, 3, 0, 0],
      ['blue', T0 + 60_000, 2, 1, 2],
      ['green', T0, 3, 1, 1],
      ['green', T0 + 60_000, 2, 0, 2],
    ]);
  });

  test('percentile() and percentiles() name their columns percentile_X_P (99.9 → 99_9) and take nearest ranks', () => {
    const r = run('Traffic | summarize percentile(TotalDurationMs, 95), percentiles(TotalDurationMs, 50, 99.9)');
    assert.deepEqual(r.columns, ['percentile_TotalDurationMs_95', 'percentile_TotalDurationMs_50', 'percentile_TotalDurationMs_99_9']);
    assert.deepEqual(r.rows, [[100, 50, 100]]);
  });

  test('(p50, p99) = percentiles(…) names the columns; percentiles_array gives one dynamic column', () => {
    const r = run('Traffic | summarize (p50, p99) = percentiles(TotalDurationMs, 50, 99), percentiles_array(TotalDurationMs, 10, 90) by DeploymentName | order by DeploymentName asc');
    assert.deepEqual(r.columns, ['DeploymentName', 'p50', 'p99', 'percentiles_TotalDurationMs']);
    assert.deepEqual(r.types, ['string', 'int', 'int', 'dynamic']);
    assert.deepEqual(r.rows, [
      ['blue', 50, 90, '[10,90]'],
      ['green', 60, 100, '[20,100]'],
    ]);
  });

  test('with no by, empty input still gives one row: count 0, sum 0, avg and percentile null', () => {
    const r = run('Traffic | where ResponseCode == 404 | summarize count(), countif(TotalDurationMs > 1), sum(TotalDurationMs), avg(TotalDurationMs), percentile(TotalDurationMs, 50), dcount(Path), max(TotalDurationMs)');
    assert.deepEqual(r.rows, [[0, 0, 0, null, null, 0, null]]);
  });

  test('with by, empty input gives no rows', () => {
    assert.deepEqual(run('Traffic | where ResponseCode == 404 | summarize count() by DeploymentName').rows, []);
  });

  test('aggregates ignore nulls: avg and count of ModelStatusCode skip the request no model answered', () => {
    const r = run('Traffic | summarize avg(ModelStatusCode), dcount(ModelStatusCode), n = countif(isnotnull(ModelStatusCode))');
    assert.deepEqual(r.rows, [[(8 * 200 + 500) / 9, 2, 9]]);
  });

  test('arithmetic over aggregates: an error rate per deployment', () => {
    const r = run('Traffic | summarize rate = 100.0 * countif(ResponseCode >= 500) / count(), mean = sum(TotalDurationMs) / count() by DeploymentName | order by DeploymentName asc');
    assert.deepEqual(r.types, ['string', 'real', 'long']);
    assert.deepEqual(r.rows, [['blue', 20, 50], ['green', 20, 60]]);
  });

  test('sumif, avgif, minif, maxif, dcountif', () => {
    const r = run('Traffic | summarize sumif(TotalDurationMs, DeploymentName == "blue"), avgif(TotalDurationMs, ResponseCode == 200), minif(TotalDurationMs, ResponseCode == 500), maxif(TotalDurationMs, ResponseCode == 200), dcountif(Path, TotalDurationMs > 50)');
    assert.deepEqual(r.rows, [[250, (550 - 40 - 90) / 8, 40, 100, 2]]);
  });

  test('summarize by alone lists the distinct keys; by a computed key gets Column1', () => {
    assert.deepEqual(run('Traffic | summarize by Path | order by Path asc').rows, [['/score'], ['/score/batch']]);
    assert.deepEqual(run('Traffic | summarize count() by TotalDurationMs > 50 | order by Column1 asc').rows, [[false, 5], [true, 5]]);
  });

  test('bin() rounds down on Kusto’s 0001-01-01 epoch: days, weeks start on Monday, numbers and timespans', () => {
    const one = (expr: string): unknown => run(`Traffic | take 1 | project x = ${expr}`).rows[0]?.[0];
    assert.equal(one('bin(datetime(1970-05-11 13:45:07), 1d)'), dt('1970-05-11T00:00:00Z'));
    assert.equal(one('bin(datetime(2026-01-01 10:17:59), 15m)'), dt('2026-01-01T10:15:00Z'));
    assert.equal(one('bin(datetime(2026-01-01), 7d)'), dt('2025-12-29T00:00:00Z'));
    assert.equal(one('bin(4.5, 1)'), 4);
    assert.equal(one('bin(17, 5)'), 15);
    assert.equal(one('bin(95s, 1m) / 1s'), 60);
    assert.equal(one('floor(-7, 5)'), -10);
    assert.equal(one('bin(17, 0)'), null);
  });
});

describe("Kusto's percentile definition on known data (nearest rank)", () => {
  // Kusto docs (learn.microsoft.com/kusto/query/percentiles-aggregation-function): "an estimate for the
  // specified nearest-rank percentile of the population"; functions-library/percentiles-linear-fl: "Kusto
  // native percentile functions use the nearest rank method". Nearest rank: the smallest value such that
  // P% of the values are ≤ it, i.e. sorted ascending, index ceil(P/100·n) − 1, P = 0 giving the minimum.
  // The service estimates it with a T-Digest; the emulator computes it exactly.
  const table = (values: number[]): Record<string, Table> => ({
    V: { columns: [{ name: 'x', type: 'long' }], rows: values.map((v) => [v]) },
  });
  const pct = (values: number[], p: number): unknown => run(`V | summarize percentile(x, ${p})`, table(values)).rows[0]?.[0];

  const tens = [70, 10, 100, 40, 20, 90, 30, 60, 50, 80];
  const cases: [number[], number, number][] = [
    [tens, 0, 10],
    [tens, 10, 10],
    [tens, 11, 20],
    [tens, 50, 50],
    [tens, 90, 90],
    [tens, 95, 100],
    [tens, 100, 100],
    [[1, 2, 3, 4], 50, 2], // linear interpolation would give 2.5
    [[1, 2, 3, 4], 75, 3],
    [[5], 99, 5],
    [Array.from({ length: 1000 }, (_, i) => i + 1), 99.9, 999], // 99.9/100·1000 is 999.0000000000001 in floating point
    [Array.from({ length: 1000 }, (_, i) => i + 1), 99.95, 1000],
  ];
  for (const [values, p, expected] of cases) {
    test(`P${p} of ${values.length <= 10 ? `[${values.join(', ')}]` : `1..${values.length}`} is ${expected}`, () => {
      assert.equal(pct(values, p), expected);
      assert.equal(nearestRank([...values].sort((a, b) => a - b), p), expected);
    });
  }
  test('percentiles ignore nulls and an all-null group gives null', () => {
    const t: Record<string, Table> = { V: { columns: [{ name: 'x', type: 'long' }], rows: [[null], [3], [null], [1]] } };
    assert.equal(run('V | summarize percentile(x, 100)', t).rows[0]?.[0], 3);
    assert.equal(run('V | where isnull(x) | summarize percentile(x, 50)', t).rows[0]?.[0], null);
  });
  test('a percentile outside 0..100 is refused', () => {
    assert.throws(() => run('V | summarize percentile(x, 101)', table([1])), /constant number from 0 to 100/);
  });
});

describe('extend, project, order by, take and friends', () => {
  test('extend appends computed columns; a later item may use an earlier one; an existing name is replaced in place', () => {
    const r = run('Traffic | take 2 | extend slow = TotalDurationMs > 15, s = TotalDurationMs / 1000.0, s2 = s * 2 | extend TotalDurationMs = TotalDurationMs + 1 | project TotalDurationMs, slow, s, s2');
    assert.deepEqual(r.rows, [[11, false, 0.01, 0.02], [21, true, 0.02, 0.04]]);
  });

  test('project keeps, renames and computes columns in the given order', () => {
    const r = run('Traffic | take 1 | project ms = TotalDurationMs, DeploymentName, tostring(ResponseCode), iff(ResponseCode >= 500, "bad", "ok")');
    assert.deepEqual(r.columns, ['ms', 'DeploymentName', 'Column1', 'Column2']);
    assert.deepEqual(r.rows, [[10, 'blue', '200', 'ok']]);
  });

  test('project-away drops and project-rename renames', () => {
    const r = run('Traffic | take 1 | project-away Path, UserAgent, XRequestId, ModelStatusCode | project-rename Deployment = DeploymentName');
    assert.deepEqual(r.columns, ['TimeGenerated', 'Deployment', 'ResponseCode', 'TotalDurationMs']);
  });

  test('order by is descending by default', () => {
    assert.deepEqual(run('Traffic | order by TotalDurationMs | take 3 | project TotalDurationMs').rows, [[100], [90], [80]]);
  });

  test('sort by … asc, several keys', () => {
    const r = run('Traffic | sort by DeploymentName asc, TotalDurationMs desc | take 3 | project DeploymentName, TotalDurationMs');
    assert.deepEqual(r.rows, [['blue', 90], ['blue', 70], ['blue', 50]]);
  });

  test('nulls come last descending and first ascending, unless nulls first/last says otherwise', () => {
    const codes = (q: string): unknown[] => run(`Traffic | where TotalDurationMs >= 80 | ${q} | project ModelStatusCode`).rows.map((r) => r[0]);
    assert.deepEqual(codes('order by ModelStatusCode desc'), [200, 200, null]);
    assert.deepEqual(codes('order by ModelStatusCode asc'), [null, 200, 200]);
    assert.deepEqual(codes('order by ModelStatusCode desc nulls first'), [null, 200, 200]);
    assert.deepEqual(codes('order by ModelStatusCode asc nulls last'), [200, 200, null]);
  });

  test('take and limit give up to N rows', () => {
    assert.equal(run('Traffic | take 4').rows.length, 4);
    assert.equal(run('Traffic | limit 0').rows.length, 0);
    assert.equal(run('Traffic | take 1000').rows.length, 10);
  });

  test('top N by, count and distinct', () => {
    assert.deepEqual(run('Traffic | top 2 by TotalDurationMs asc | project TotalDurationMs').rows, [[10], [20]]);
    assert.deepEqual(run('Traffic | where ResponseCode == 200 | count').rows, [[8]]);
    assert.deepEqual(run('Traffic | distinct DeploymentName, ResponseCode | order by DeploymentName asc, ResponseCode asc').rows, [['blue', 200], ['blue', 500], ['green', 200], ['green', 500]]);
  });

  test('scalar let statements, comments and filter as an alias of where', () => {
    const r = run(`let start = datetime(2026-01-01T10:01:00Z); // the second minute
let limit = 85;
Traffic
| filter TimeGenerated >= start and TotalDurationMs < limit // comment at the end
| count`);
    assert.deepEqual(r.rows, [[2]]);
  });

  test('the judge query from the reference runs as written', () => {
    const r = run(`Traffic
| where TimeGenerated between (datetime(2026-01-01T10:00:00Z) .. 30m) and Path has "score"
| where DeploymentName in ("blue", "green")
| summarize requests = count(), errors5xx = countif(ResponseCode >= 500), slow = countif(TotalDurationMs > 25),
            percentiles(TotalDurationMs, 50, 99) by DeploymentName, bin(TimeGenerated, 1m)
| order by TimeGenerated asc`);
    assert.deepEqual(r.columns, ['DeploymentName', 'TimeGenerated', 'requests', 'errors5xx', 'slow', 'percentile_TotalDurationMs_50', 'percentile_TotalDurationMs_99']);
    assert.equal(r.rows.length, 4);
    assert.equal(r.rows.reduce((n, row) => n + (row[2] as number), 0), 10);
  });
});

describe('refusals name the construct and where it is', () => {
  const cases: { query: string; kind: KqlError['kind']; mentions: RegExp; line: number; column: number }[] = [
    { query: 'Traffic | join (Traffic) on XRequestId', kind: 'unsupported', mentions: /'join' operator is not supported/, line: 1, column: 11 },
    { query: 'Traffic\n| mv-expand UserAgent', kind: 'unsupported', mentions: /'mv-expand' operator/, line: 2, column: 3 },
    { query: 'Traffic | render timechart', kind: 'unsupported', mentions: /'render' operator/, line: 1, column: 11 },
    { query: 'union Traffic, Traffic', kind: 'unsupported', mentions: /'union'/, line: 1, column: 1 },
    { query: 'let t = Traffic | take 1;\nt', kind: 'unsupported', mentions: /tabular expression/, line: 1, column: 1 },
    { query: 'Traffic | where Path matches regex "s.*"', kind: 'unsupported', mentions: /'matches' operator/, line: 1, column: 22 },
    { query: 'Traffic | where DeploymentName in (Traffic | project DeploymentName)', kind: 'unsupported', mentions: /'in' with a tabular expression/, line: 1, column: 36 },
    { query: 'Traffic | summarize make_list(Path)', kind: 'unsupported', mentions: /'make_list\(\)' is not supported/, line: 1, column: 21 },
    { query: 'Traffic | extend j = parse_json(Path)', kind: 'unsupported', mentions: /function 'parse_json\(\)'/, line: 1, column: 22 },
    { query: 'Traffic | project UserAgent.name', kind: 'unsupported', mentions: /dynamic property access/, line: 1, column: 28 },
    { query: 'Traffic | where TimeGenerated > ago(1w)', kind: 'syntax', mentions: /no week unit/, line: 1, column: 37 },
    { query: 'Traffic | where (ResponseCode == 1', kind: 'syntax', mentions: /expected '\)'/, line: 1, column: 35 },
    { query: 'Traffic | summarize count( by Path', kind: 'syntax', mentions: /expected '\)' to close 'count\('/, line: 1, column: 31 },
    { query: 'Traffic | where Path == "open', kind: 'syntax', mentions: /unterminated string/, line: 1, column: 25 },
    { query: 'Traffic |', kind: 'syntax', mentions: /expected an operator/, line: 1, column: 10 },
    { query: 'Traffic | order TotalDurationMs', kind: 'syntax', mentions: /expected 'by' after 'order'/, line: 1, column: 17 },
    { query: 'Trafic | count', kind: 'semantic', mentions: /failed to resolve table 'Trafic'/, line: 1, column: 1 },
    { query: 'Traffic\n| where responsecode == 500', kind: 'semantic', mentions: /'responsecode'.*did you mean 'ResponseCode'/, line: 2, column: 9 },
    { query: 'Traffic | where TotalDurationMs', kind: 'semantic', mentions: /condition must be a bool, got int/, line: 1, column: 17 },
    { query: 'Traffic | where Path == 5', kind: 'semantic', mentions: /cannot compare string with long/, line: 1, column: 22 },
    { query: 'Traffic | summarize TotalDurationMs', kind: 'semantic', mentions: /must be inside an aggregation function/, line: 1, column: 21 },
    { query: 'Traffic | extend n = count()', kind: 'semantic', mentions: /'count\(\)' can only be used in summarize/, line: 1, column: 22 },
    { query: 'Traffic | extend s = Path + "x"', kind: 'semantic', mentions: /strcat/, line: 1, column: 27 },
    { query: 'Traffic | where TimeGenerated between (1 .. 2)', kind: 'semantic', mentions: /'between' needs/, line: 1, column: 31 },
  ];
  for (const c of cases) {
    test(`${c.kind}: ${c.query.replace(/\n/g, '⏎')}`, () => {
      assert.throws(
        () => run(c.query),
        (e: unknown) => {
          assert.ok(e instanceof KqlError, `not a KqlError: ${String(e)}`);
          assert.equal(e.kind, c.kind, e.message);
          assert.match(e.message, c.mentions);
          assert.deepEqual([e.line, e.column], [c.line, c.column], e.message);
          assert.match(e.message, new RegExp(`\\(line ${c.line}, column ${c.column}\\)$`));
          return true;
        },
      );
    });
  }
});

test('the result is cut at the row limit and says so', () => {
  const { table, truncated } = runKql('Traffic | project XRequestId', catalog(), { now: NOW, maxResultRows: 3 });
  assert.equal(table.rows.length, 3);
  assert.deepEqual(truncated, { limit: 3, total: 10 });
});

test('the API timespan keeps source rows with start ≤ TimeGenerated < end', () => {
  const { table } = runKql('Traffic | count', catalog(), { now: NOW, timeRange: { start: T0 + 10_000, end: T0 + 40_000 } });
  assert.deepEqual(table.rows, [[3]]);
});

test('random token soup is answered with a KqlError (or a result), never a crash', () => {
  const vocabulary = ['Traffic', '|', 'where', 'summarize', 'by', 'extend', 'project', 'order', 'sort', 'take', 'count', 'top', 'distinct', '(', ')', ',', '=', '==', '!=', '<', '>=', '..', 'between', 'in', '!in', 'has', 'contains', 'and', 'or', 'not', 'count()', 'countif(', 'percentile(', 'percentiles(', 'bin(', 'ago(', 'TotalDurationMs', 'DeploymentName', 'TimeGenerated', 'ResponseCode', '5m', '1.5h', '42', '0.5', '"blue"', "'x", 'datetime(2026-01-01)', 'timespan(1.02:03:04)', 'datetime(nope)', '-', '+', '*', '/', '%', 'asc', 'desc', 'nulls', 'first', ';', 'let', 'x', '[', ']', '.', '{', '!', '@"v"', '1w', 'join', 'null'];
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const words = Array.from({ length: 1 + rand(14) }, () => vocabulary[rand(vocabulary.length)] as string);
    const query = (rand(3) > 0 ? ['Traffic', '|', ...words] : words).join(' ');
    try {
      runKql(query, catalog(), { now: NOW });
    } catch (e) {
      assert.ok(e instanceof KqlError, `'${query}' threw ${String(e)}`);
      assert.match(e.message, /\(line \d+, column \d+\)$/);
      errors++;
    }
  }
  assert.ok(errors > 2500, `most soups are refused (${errors})`);
  assert.throws(() => runKql(`Traffic | where ${'('.repeat(500)}1${')'.repeat(500)} == 1`, catalog(), { now: NOW }), /nested more than 100 levels/);
});
