import { table, targetsTable } from './report.mjs';

const fmt = (value, digits = 0) => (value === null || value === undefined ? '-' : Number(value).toFixed(digits));

function printIngest({ rows, ratios, cpuRatios, targets, issue14Targets }) {
  console.log('== ingest: same generator, same signed ~1 KB requests, one server at a time (median of the rounds) ==');
  const order = ['bare', 'koa', 'naive', 'relay', 'relayNoDestination', 'relayTmpfs', 'bareFixed', 'koaFixed'];
  console.log(
    table(
      ['server', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'RSS MB', 'CPU us/req', 'relay / this', 'req/s per round'],
      order
        .filter((key) => rows[key])
        .map((key) => {
          const row = rows[key];
          const relayRatio = ['bare', 'koa', 'naive'].includes(key) && rows.relay ? fmt(rows.relay.rps / row.rps, 2) : '';
          const perRound = row.rounds?.length > 1 ? row.rounds.map((run) => fmt(run.rps)).join(' ') : '';
          return [row.label, fmt(row.rps), fmt(row.latencyMs.p50, 2), fmt(row.latencyMs.p99, 2), row.non2xx, row.errors + row.timeouts, fmt(row.rssMb, 1), fmt(row.cpu?.usPerEvent, 1), relayRatio, perRound];
        }),
    ),
  );
  console.log(`ratios: ${JSON.stringify(ratios)}`);
  printCpu(rows, cpuRatios);
  console.log(targetsTable(targets));
  if (issue14Targets) console.log(targetsTable(issue14Targets, 14));
  for (const key of order) {
    const profile = rows[key]?.profile;
    if (profile && !profile.error) printProfile(rows[key].label, profile);
  }
}

function printCpu(rows, cpuRatios) {
  const koaUs = rows.koa?.cpu?.usPerEvent;
  const perKoa = (us) => (us && koaUs ? fmt(us / koaUs, 2) : '');
  const lines = [];
  for (const key of ['bare', 'koa', 'naive', 'relayNoDestination', 'relay', 'relayTmpfs']) {
    const row = rows[key];
    if (!row?.cpu) continue;
    lines.push([`${row.label}, measured run`, fmt(row.cpu.ms), fmt(row.cpu.cores, 2), fmt(row.cpu.usPerEvent, 1), perKoa(row.cpu.usPerEvent), '']);
  }
  const through = rows.relay?.throughDelivery;
  if (through) {
    lines.push([
      'relay (1 destination), measured run + its deliveries',
      fmt(through.relayMs),
      fmt(through.relayMs / 1000 / through.seconds, 2),
      fmt(through.usPerEvent, 1),
      perKoa(through.usPerEvent),
      `${through.delivered}/${through.acked} delivered in ${fmt(through.seconds, 1)} s${through.complete ? '' : ' (INCOMPLETE)'}`,
    ]);
  }
  if (rows.relay?.sinkCpu) lines.push(['destination sink (information; not the relay\'s)', fmt(rows.relay.sinkCpu.ms), fmt(rows.relay.sinkCpu.cores, 2), fmt(rows.relay.sinkCpu.usPerEvent, 1), '', 'measured run']);
  if (through?.sinkUsPerEvent !== null && through?.sinkUsPerEvent !== undefined) lines.push(['destination sink, run + its deliveries (information)', '', '', fmt(through.sinkUsPerEvent, 1), '', '']);
  if (lines.length === 0) return;
  console.log('\nCPU per acknowledged event: the server process\'s utime+stime (/proc/<pid>/stat, every thread) over the window / 2xx answers in it');
  console.log(table(['process, window', 'CPU ms', 'cores busy', 'CPU us/event', 'x Koa us/req', 'note'], lines));
  if (cpuRatios) console.log(`CPU ratios: ${JSON.stringify(cpuRatios)}`);
}

function printProfile(label, profile) {
  console.log(`\nCPU profile of ${label}: busy ${profile.busyMs} ms, idle ${profile.idleMs} ms of ${profile.wallMs} ms`);
  console.log('(time blocked in a synchronous native call, e.g. an fsync inside a better-sqlite3 commit, counts as busy in its JS caller)');
  console.log(table(['self time by function', 'ms', '% busy'], profile.topFunctions.map((entry) => [entry.name, fmt(entry.selfMs, 1), fmt(entry.pct, 1)])));
  console.log(table(['self time by package', 'ms', '% busy'], profile.byPackage.map((entry) => [entry.name, fmt(entry.selfMs, 1), fmt(entry.pct, 1)])));
}

function printE2e({ fullSpeed, paced, targets }) {
  console.log('== end-to-end: ingest while delivering to one healthy destination ==');
  const row = (label, run) => [
    label,
    fmt(run.load.rps),
    fmt(run.deliveredPerSecondDuringLoad),
    fmt(run.deliveredPerSecondOverall),
    `${run.delivered}/${run.load.acks}`,
    fmt(run.ackToDestinationMs.p50, 2),
    fmt(run.ackToDestinationMs.p99, 2),
    fmt(run.load.latencyMs.p99, 2),
    fmt(run.drainAfterLoadS, 2),
  ];
  console.log(
    table(
      ['run', 'ingest/s', 'delivered/s (load)', 'delivered/s (all)', 'delivered/acked', 'ack->dest p50 ms', 'ack->dest p99 ms', 'ack p99 ms', 'tail s'],
      [fullSpeed && row('full speed (autocannon)', fullSpeed), paced && row(`paced ${paced.load.offeredRate}/s (even)`, paced)].filter(Boolean),
    ),
  );
  console.log(targetsTable(targets));
  for (const [label, run] of [['full speed', fullSpeed], ['paced', paced]]) {
    if (run?.profile && !run.profile.error) printProfile(`relay, end-to-end ${label}`, run.profile);
  }
}

function printBacklog(result) {
  console.log('== backlog: pending deliveries with the destination down, then up ==');
  console.log(
    table(
      ['measure', 'value'],
      [
        ['ingest p99, empty database (destination down), ms', fmt(result.emptyDb.latencyMs.p99, 2)],
        ['ingest req/s, empty database', fmt(result.emptyDb.rps)],
        [`fill to ${result.backlogTarget} pending: req/s (real ingest path)`, fmt(result.fill?.rps)],
        ['ingest p99 with the backlog present, ms', fmt(result.withBacklog.latencyMs.p99, 2)],
        ['ingest req/s with the backlog present', fmt(result.withBacklog.rps)],
        ['pending when the destination came up', result.pendingAtUp],
        ['drain: deliveries/s, no ingest (10%..50% of the backlog)', fmt(result.drain.quietPerSecond)],
        ...(result.duringDrain
          ? [
              [`ingest while draining (${result.duringDrain.durationS} s from half-way): req/s`, fmt(result.duringDrain.rps)],
              ['ingest p99 while draining, ms', fmt(result.duringDrain.latencyMs.p99, 2)],
              ['drain: deliveries/s while ingesting (backlog + new events)', fmt(result.drain.whileIngestingPerSecond)],
              ['pending right after the ingest run (0: the drain ended during it)', result.duringDrain.pendingAtEnd],
            ]
          : [['ingest while draining', 'not run (the drain did not reach half-way)']]),
        ['drain: deliveries/s overall (up -> last arrival, ingested events included)', fmt(result.drain.perSecond)],
        ['drain: seconds', `${fmt(result.drain.seconds, 1)}${result.drain.complete ? '' : ` (stopped at ${result.drain.delivered}/${result.drain.expected}: incomplete)`}`],
        ['relay RSS before drain / max during drain, MB', `${fmt(result.rssBeforeDrainMb, 1)} / ${fmt(result.drain.maxRssMb, 1)}`],
      ],
    ),
  );
  console.log(targetsTable(result.targets));
  console.log(targetsTable(result.issue14Targets, 14));
  if (result.profile && !result.profile.error) printProfile('relay, backlog mode (whole lifetime)', result.profile);
}

function printSize(result) {
  console.log(`== size: ${result.events} stored events ==`);
  console.log(
    table(
      ['measure', 'value'],
      [
        ['generate database (s)', fmt(result.generateSeconds, 1)],
        ['database file MB', fmt(result.dbMb, 0)],
        ['start-up to listening, empty database (ms)', fmt(result.startupEmptyMs, 0)],
        ['start-up to listening, full database (ms)', fmt(result.startupMs, 0)],
        ['relay RSS idle, empty database (MB)', fmt(result.rssEmptyMb, 1)],
        ['relay RSS idle, full database (MB)', fmt(result.rssIdleMb, 1)],
        ['`hookrelay stats --json` wall (ms), 1st / 2nd', `${fmt(result.statsMs[0], 0)} / ${fmt(result.statsMs[1], 0)}`],
        ['`hookrelay stats --json` on an empty database (ms)', fmt(result.statsEmptyMs, 0)],
        [`ingest at ${result.scrape.rate}/s, no scrapes: p50 / p99 / mean (ms)`, `${fmt(result.scrape.withoutScrapes.p50, 2)} / ${fmt(result.scrape.withoutScrapes.p99, 2)} / ${fmt(result.scrape.withoutScrapes.mean, 2)}`],
        [`ingest at ${result.scrape.rate}/s, /metrics every 1 s: p50 / p99 / mean (ms)`, `${fmt(result.scrape.withScrapes.p50, 2)} / ${fmt(result.scrape.withScrapes.p99, 2)} / ${fmt(result.scrape.withScrapes.mean, 2)}`],
        ['/metrics scrape on the full database: p50 / max (ms)', `${fmt(result.scrape.scrapeMs.p50, 0)} / ${fmt(result.scrape.scrapeMs.max, 0)}`],
        ['relay RSS after the scrapes (MB)', fmt(result.scrape.rssAfterMb, 1)],
      ],
    ),
  );
  console.log(targetsTable(result.targets));
}

function printPostgres(result) {
  console.log('== postgres: 1, 2 and 3 relay processes on one PostgreSQL schema beside 1 process on SQLite ==');
  if (result.skipped) {
    console.log(`skipped: ${result.skipped}`);
    return;
  }
  const { server } = result;
  console.log(
    `PostgreSQL ${server.version}${server.throwaway ? ' (throwaway cluster on 127.0.0.1)' : ''}: fsync=${server.fsync}, synchronous_commit=${server.synchronous_commit}, full_page_writes=${server.full_page_writes}; poolSize ${result.poolSize} per process; ${result.connections} connections split over the processes; one healthy destination`,
  );
  const order = ['sqlite1', 'postgres1', 'postgres2', 'postgres3'];
  console.log(
    table(
      ['setup', 'ingest req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'delivered/s (load)', 'delivered/s (after)', 'tail s', 'delivered/acked', 'repeated', 'ack->dest p99 ms', 'RSS MB', 'req/s per round'],
      order
        .filter((key) => result.rows[key])
        .map((key) => {
          const row = result.rows[key];
          return [
            row.label,
            fmt(row.rps),
            fmt(row.latencyMs.p50, 2),
            fmt(row.latencyMs.p99, 2),
            row.non2xx,
            row.errors + row.timeouts,
            fmt(row.deliveredPerSecondDuringLoad),
            fmt(row.deliveredPerSecondAfterLoad),
            fmt(row.drainAfterLoadS, 2),
            `${row.acked - row.ackedNotDelivered}/${row.acked}`,
            row.repeatedDeliveries,
            fmt(row.ackToDestinationMs.p99, 1),
            row.relayRssMb.map((mb) => fmt(mb, 0)).join('+'),
            row.rounds.length > 1 ? row.rounds.map((run) => fmt(run.rps)).join(' ') : '',
          ];
        }),
    ),
  );
  console.log('(p50/p99: the slowest process\'s generator; delivered/acked: acknowledged events that reached the destination; repeated: deliveries that arrived more than once)');
  console.log(`ratios: ${JSON.stringify(result.ratios)}`);
  console.log(`exactly once (every acked event delivered, none twice) in every run: ${result.exactlyOnce ? 'yes' : 'NO'}`);
}

function printPolicies({ filters, fifo }) {
  console.log('== policies: ingest with 8 destinations, each with a filter vs none (median of the rounds) ==');
  console.log(
    table(
      ['destinations', 'req/s', 'p99 ms', 'non-2xx', 'req/s per round'],
      [
        ['8, no filter', fmt(filters.plain.rps), fmt(filters.plain.p99Ms, 2), filters.plain.non2xx, filters.plain.rounds.join(' ')],
        ['8, each with a 2-entry body filter', fmt(filters.filtered.rps), fmt(filters.filtered.p99Ms, 2), filters.filtered.non2xx, filters.filtered.rounds.join(' ')],
      ],
    ),
  );
  console.log(`filtered / plain: ${fmt(filters.filteredOverPlain, 3)}`);
  console.log(`\n== policies: ${fifo.events} events to a ${fifo.destinationMs} ms destination ==`);
  console.log(
    table(
      ['ordering', 'delivered', 'delivered/s'],
      [
        ['fifo (one in flight; ceiling 200/s)', fifo.fifo.delivered, fmt(fifo.fifo.perSecond, 1)],
        ['unordered, concurrency 8', fifo.unordered.delivered, fmt(fifo.unordered.perSecond, 1)],
      ],
    ),
  );
}

function printRuns({ proxy, sweep, ingest }) {
  console.log(`== runs: submit proxy overhead (${proxy.concurrency} at a time) ==`);
  console.log(
    table(
      ['path', 'submissions', 'per s', 'p50 ms', 'p99 ms'],
      [
        ['fake Cerebrium, direct', proxy.direct.requests, proxy.direct.perSecond, fmt(proxy.direct.p50Ms, 2), fmt(proxy.direct.p99Ms, 2)],
        ['through the relay (run committed)', proxy.proxied.requests, proxy.proxied.perSecond, fmt(proxy.proxied.p50Ms, 2), fmt(proxy.proxied.p99Ms, 2)],
      ],
    ),
  );
  console.log(`added latency: p50 ${fmt(proxy.addedP50Ms, 2)} ms, p99 ${fmt(proxy.addedP99Ms, 2)} ms`);
  console.log(`\n== runs: checker at ${sweep.totalRuns.toLocaleString('en')} tracked runs ==`);
  console.log(
    table(
      ['measure', 'value'],
      [
        [`sweep of ${sweep.dueRuns.toLocaleString('en')} due runs (overdue + announcement), all batches`, `${sweep.sweepAllDueMs} ms`],
        [`one batch of ${sweep.batchSize} (one transaction): p50 / p99`, `${fmt(sweep.batch.p50Ms, 2)} / ${fmt(sweep.batch.p99Ms, 2)} ms`],
        ['idle sweep (nothing due): p50 / p99', `${fmt(sweep.idleSweep.p50Ms, 3)} / ${fmt(sweep.idleSweep.p99Ms, 3)} ms`],
      ],
    ),
  );
  console.log(`\n== runs: ingest with ${ingest.totalRuns.toLocaleString('en')} runs tracked, nothing due vs the checker sweeping ${ingest.dueRuns.toLocaleString('en')} ==`);
  console.log(
    table(
      ['relay', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx'],
      [
        ['nothing due (baseline)', fmt(ingest.nothingDue.rps), fmt(ingest.nothingDue.p50Ms, 2), fmt(ingest.nothingDue.p99Ms, 2), ingest.nothingDue.non2xx],
        ['checker sweeping', fmt(ingest.sweeping.rps), fmt(ingest.sweeping.p50Ms, 2), fmt(ingest.sweeping.p99Ms, 2), ingest.sweeping.non2xx],
      ],
    ),
  );
}

function printIdle({ settleS, windowS, cpuResolutionMs, metric, rows, issue14Targets }) {
  console.log(`== idle: each setup alone, ${settleS} s to settle, then ${windowS} s measured ==`);
  console.log(
    table(
      ['setup', 'destinations', 'pending', 'CPU ms', '% of one core', 'supervisor %', 'write transactions'],
      ['koa', 'relay1', 'relay50', 'relay50Pending']
        .filter((key) => rows[key])
        .map((key) => {
          const row = rows[key];
          const writes = row.metricPresent === null ? '' : row.writeTransactions === null ? 'n/a (metric not present)' : row.writeTransactions;
          const pending = row.retryingDueInMinutes === null || row.retryingDueInMinutes === undefined ? row.pending : `${row.pending} (due in ${row.retryingDueInMinutes} min)`;
          return [row.label, row.destinations, pending, fmt(row.cpuMs), fmt(row.cpuPercentOfOneCore, 2), fmt(row.supervisorCpuPercent, 2), writes];
        }),
    ),
  );
  console.log(`(CPU: the process's utime+stime from /proc/<pid>/stat, all threads, resolution ${cpuResolutionMs} ms; a relay row is the relay process (serve's child), the supervisor (serve itself) is beside it; write transactions: increase of ${metric} on the admin /metrics over the window)`);
  console.log(targetsTable(issue14Targets, 14));
}

/** Every issue-14 target of the modes that ran, in one table at the end of the run. */
export function printIssue14(modes) {
  const targets = ['ingest', 'backlog', 'idle'].flatMap((mode) => modes[mode]?.issue14Targets ?? []);
  if (targets.length === 0) return;
  console.log('\n== issue 14 targets, this run ==');
  console.log(targetsTable(targets, 14));
}

export function printMode(mode, result) {
  console.log('');
  ({ ingest: printIngest, e2e: printE2e, backlog: printBacklog, idle: printIdle, size: printSize, postgres: printPostgres, runs: printRuns, policies: printPolicies })[mode](result);
}
