// BullMQ side of the genmesh queue benchmark (bench/queue/run.sh): the same add -> process ->
// complete life on the same Redis, under its own key prefix. C closed-loop producers each add a
// job and add the next once that job completed; a Worker with concurrency W completes every job
// with the same 512x512 PNG genmesh's virtual workers hand in (png=FILE, written by BenchStores
// from BenchSpec.png()), in one of two modes:
//   result=redis  the PNG (base64) is the job's return value, stored in Redis (the row kept for the record);
//   result=s3     the processor uploads the PNG to the object store genmesh uses (same bucket, a key of
//                 its own) and returns the reference {key, size, sha256}, as genmesh's workers hand in.
// Latency: add() called -> the worker's "completed" event (BullMQ has committed the completion to
// Redis). Prints and appends one JSON line in the format the Java sides write. After the measured
// round, a light round (light_n jobs from light_c closed-loop producers, 0 skips it) measures add()
// at a load that does not saturate the machine, as genmesh's light round does its submit.
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split(/=(.*)/s).slice(0, 2)));
const need = (k) => { if (!args[k]) throw new Error(`missing argument ${k}=...`); return args[k]; };
const N = Number(args.n ?? 5000);
const WARMUP = Number(args.warmup ?? 500);
const C = Number(args.c ?? 16);
const W = Number(args.w ?? 16);
const LIGHT_N = Number(args.light_n ?? 1000);
const LIGHT_C = Number(args.light_c ?? 2);
const redisPort = Number(need('redis_port'));
const redisPid = Number(args.redis_pid ?? -1);
const s3Pid = Number(args.s3_pid ?? -1); // the JVM running the object store (S3Proxy), for its CPU
const out = need('out');
const RESULT = args.result ?? 'redis';
if (RESULT !== 'redis' && RESULT !== 's3') throw new Error(`result=${RESULT}: redis or s3`);
const REDIS_FSYNC = args.redis_fsync ?? 'always'; // what the Redis at redis_port runs: the row says it

const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
const prefix = `bench:bullmq-${RESULT}-${process.pid}`;
const QUEUE = 'generate';
// The same PNG bytes as BenchSpec.png(); hashed once, as genmesh's virtual workers do (a real
// worker hashes its image once, in its own process).
const PNG_BYTES = readFileSync(need('png'));
const PNG_SHA256 = createHash('sha256').update(PNG_BYTES).digest('hex');
const PNG_BASE64 = PNG_BYTES.toString('base64');

const KEY_PREFIX = `bench-bullmq-${process.pid}/`;
let s3;

/** The processor of each mode: what the job returns, and so what BullMQ stores in Redis. */
function processor() {
  if (RESULT === 'redis') return async () => ({ images: [PNG_BASE64] });
  // As S3ImageStore: path-style, checksums only where S3 requires them (S3Proxy refuses the
  // SDK's default aws-chunked upload with a trailing CRC), content type and cache header as genmesh's.
  const [accessKey, secretKey] = ['access_key', 'secret_key'].map((k) => {
    const m = new RegExp(`^${k}\\s*[=:]\\s*(.*)$`, 'm').exec(readFileSync(need('s3_credentials'), 'utf8'));
    if (!m) throw new Error(`${args.s3_credentials} has no ${k}`);
    return m[1].trim();
  });
  s3 = new S3Client({
    endpoint: need('s3_endpoint'), region: args.s3_region ?? 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const bucket = need('s3_bucket');
  return async (job) => {
    const key = `${KEY_PREFIX}${job.id}/0.png`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: PNG_BYTES, ContentLength: PNG_BYTES.length,
      ContentType: 'image/png', CacheControl: 'public, max-age=31536000, immutable' }));
    return { images: [{ key, size: PNG_BYTES.length, sha256: PNG_SHA256 }] };
  };
}

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

function ticks(pid) {
  if (pid <= 0) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return 0; }
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');

/** One closed-loop round of `count` jobs; resolves with per-job latencies once all completed. */
function runRound(queue, worker, round, count, concurrency = C) {
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
    Promise.all(Array.from({ length: concurrency }, producer)).then(() => {
      worker.off('completed', onCompleted);
      resolve({ endToEnd, added, finished });
    }, reject);
  });
}

/** How many objects of PNG_BYTES.length bytes this run put in the bucket (paged listing, after the run). */
async function storedImages() {
  let count = 0;
  let token;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: args.s3_bucket, Prefix: KEY_PREFIX, ContinuationToken: token }));
    count += (page.Contents ?? []).filter((o) => o.Size === PNG_BYTES.length).length;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return count;
}

const stats = new IORedis(connection);
const queue = new Queue(QUEUE, { connection, prefix });
let errors = 0;
const worker = new Worker(QUEUE, processor(), { connection, prefix, concurrency: W });
worker.on('failed', (job, err) => { errors++; if (errors <= 5) console.error('job failed', job?.id, err); });
worker.on('error', (err) => { errors++; if (errors <= 5) console.error('worker error', err); });
await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);

const loadBefore = loadAverage();
await runRound(queue, worker, 'w', WARMUP);
const callsBefore = await redisCalls(stats);
const cpuBefore = process.cpuUsage();
const redisBefore = ticks(redisPid);
const s3Before = ticks(s3Pid);
const t0 = process.hrtime.bigint();
const measured = await runRound(queue, worker, 'm', N);
const spanNanos = process.hrtime.bigint() - t0;
const cpu = process.cpuUsage(cpuBefore);
const redisAfter = ticks(redisPid);
const s3After = ticks(s3Pid);
const callsAfter = await redisCalls(stats);
let light = null;
if (LIGHT_N > 0) {
  const lightLoad = loadAverage();
  const l0 = process.hrtime.bigint();
  const round = await runRound(queue, worker, 'l', LIGHT_N, LIGHT_C);
  const lightNanos = process.hrtime.bigint() - l0;
  light = { n: LIGHT_N, c: LIGHT_C, load_before: lightLoad, load_after: loadAverage(),
    throughput_rps: Math.round(LIGHT_N / (Number(lightNanos) / 1e9)),
    latency: percentiles(round.endToEnd), submit_latency: percentiles(round.added) };
}

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
if (s3) counts.stored_images = await storedImages();
const result = {
  system: 'bullmq', result: RESULT, fsync: null, redis_fsync: REDIS_FSYNC,
  label: (RESULT === 'redis' ? 'BullMQ, PNG in Redis' : 'BullMQ, image in the object store')
    + (REDIS_FSYNC === 'always' ? '' : `, Redis ${REDIS_FSYNC}`),
  png: { bytes: PNG_BYTES.length, sha256: PNG_SHA256 },
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
    ...(s3Pid > 0 ? { s3_ms_per_req: Math.round((s3After - s3Before) * 10 / N * 1000) / 1000 } : {}),
  },
  redis_cmds_per_req: Math.round(total * 100) / 100,
  redis_scripts_per_req: Math.round(scripts * 100) / 100,
  redis_by_command: byCommand,
  queue_check: counts,
  light,
};
appendFileSync(out, JSON.stringify(result) + '\n');
console.log(JSON.stringify(result, null, 2));

await worker.close();
await queue.obliterate({ force: true });
await queue.close();
await stats.quit();
s3?.destroy();
