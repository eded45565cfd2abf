// BullMQ side of the genmesh queue benchmark (bench/queue/run.sh): the same add -> process ->
// complete life on the same Redis, under its own key prefix. C closed-loop producers each add a
// job and add the next once that job completed; a Worker with concurrency W completes every job at
// once with the same tiny PNG genmesh's virtual workers hand in. Latency: add() called -> the
// worker's "completed" event (BullMQ has committed the completion to Redis). Prints and appends one
// JSON line in the format the Java sides write.
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { appendFileSync, readFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split(/=(.*)/s).slice(0, 2)));
const need = (k) => { if (!args[k]) throw new Error(`missing argument ${k}=...`); return args[k]; };
const N = Number(args.n ?? 5000);
const WARMUP = Number(args.warmup ?? 500);
const C = Number(args.c ?? 16);
const W = Number(args.w ?? 16);
const redisPort = Number(need('redis_port'));
const redisPid = Number(args.redis_pid ?? -1);
const out = need('out');

const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
const prefix = `bench:bullmq-${process.pid}`;
const QUEUE = 'generate';
// The same 8x8 PNG bytes as BenchSpec.png() (base64), stored as the job's return value.
const PNG = readFileSync(new URL('./tiny.png', import.meta.url)).toString('base64');

const spec = (round, seq) => ({
  prompt: `bench-${round}-${seq}`, negative_prompt: '', model: 'genmesh-tiny', tier: 'fast',
  width: 512, height: 512, steps: 20, seed: seq, guidance: 7.5, batch_size: 1,
});

function percentiles(nanos) {
  const s = [...nanos].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const ms = (v) => Math.round(Number(v) / 10_000) / 100;
  const rank = (p) => s[Math.max(0, Math.min(s.length - 1, Math.ceil(p * s.length) - 1))];
  const mean = s.reduce((a, b) => a + Number(b), 0) / s.length;
  return { count: s.length, mean_ms: ms(mean), p50_ms: ms(rank(0.5)), p95_ms: ms(rank(0.95)),
    p99_ms: ms(rank(0.99)), max_ms: ms(s[s.length - 1]) };
}

async function redisCalls(redis) {
  const calls = {};
  for (const line of (await redis.info('commandstats')).split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+),/.exec(line);
    if (m) calls[m[1]] = Number(m[2]);
  }
  return calls;
}

function redisTicks() {
  if (redisPid <= 0) return 0;
  try {
    const stat = readFileSync(`/proc/${redisPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return 0; }
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');

/** One closed-loop round of `count` jobs; resolves with per-job latencies once all completed. */
function runRound(queue, worker, round, count) {
  const started = new Array(count);
  const endToEnd = [];
  const added = [];
  const waiting = new Map();
  let next = 0;
  let finished = 0;
  return new Promise((resolve, reject) => {
    const onCompleted = (job) => {
      if (job.data.round !== round) return;
      endToEnd[job.data.seq] = process.hrtime.bigint() - started[job.data.seq];
      const wake = waiting.get(job.data.seq);
      if (wake) wake();
    };
    worker.on('completed', onCompleted);
    const producer = async () => {
      for (let seq = next++; seq < count; seq = next++) {
        const completed = new Promise((res) => waiting.set(seq, res));
        started[seq] = process.hrtime.bigint();
        await queue.add('generate', { round, seq, spec: spec(round, seq) });
        added[seq] = process.hrtime.bigint() - started[seq];
        await completed;
        waiting.delete(seq);
        finished++;
      }
    };
    Promise.all(Array.from({ length: C }, producer)).then(() => {
      worker.off('completed', onCompleted);
      resolve({ endToEnd, added, finished });
    }, reject);
  });
}

const stats = new IORedis(connection);
const queue = new Queue(QUEUE, { connection, prefix });
let errors = 0;
const worker = new Worker(QUEUE, async () => ({ images: [PNG] }), { connection, prefix, concurrency: W });
worker.on('failed', (job, err) => { errors++; if (errors <= 5) console.error('job failed', job?.id, err); });
worker.on('error', (err) => { errors++; if (errors <= 5) console.error('worker error', err); });
await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);

const loadBefore = loadAverage();
await runRound(queue, worker, 'w', WARMUP);
const callsBefore = await redisCalls(stats);
const cpuBefore = process.cpuUsage();
const redisBefore = redisTicks();
const t0 = process.hrtime.bigint();
const measured = await runRound(queue, worker, 'm', N);
const spanNanos = process.hrtime.bigint() - t0;
const cpu = process.cpuUsage(cpuBefore);
const redisAfter = redisTicks();
const callsAfter = await redisCalls(stats);

const byCommand = {};
let total = 0;
let scripts = 0;
for (const [cmd, calls] of Object.entries(callsAfter)) {
  if (cmd === 'info') continue;
  const each = (calls - (callsBefore[cmd] ?? 0)) / N;
  if (each > 0) {
    byCommand[cmd] = Math.round(each * 100) / 100;
    total += each;
    if (cmd === 'eval' || cmd === 'evalsha') scripts += each;
  }
}
const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active');
const result = {
  system: 'bullmq', label: 'BullMQ', fsync: null,
  load_before: loadBefore, load_after: loadAverage(),
  n: N, warmup: WARMUP, c: C, w: W,
  bullmq_version: JSON.parse(readFileSync(new URL('./node_modules/bullmq/package.json', import.meta.url))).version,
  node_version: process.version,
  throughput_rps: Math.round(N / (Number(spanNanos) / 1e9)),
  latency: percentiles(measured.endToEnd),
  submit_latency: percentiles(measured.added),
  worker_errors: errors,
  cpu: {
    node_ms_per_req: Math.round((cpu.user + cpu.system) / 1000 / N * 1000) / 1000,
    redis_ms_per_req: Math.round((redisAfter - redisBefore) * 10 / N * 1000) / 1000,
  },
  redis_cmds_per_req: Math.round(total * 100) / 100,
  redis_scripts_per_req: Math.round(scripts * 100) / 100,
  redis_by_command: byCommand,
  queue_check: counts,
};
appendFileSync(out, JSON.stringify(result) + '\n');
console.log(JSON.stringify(result, null, 2));

await worker.close();
await queue.obliterate({ force: true });
await queue.close();
await stats.quit();
