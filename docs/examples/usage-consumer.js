#!/usr/bin/env node
// Prints genmesh usage events (docs/event-bus.md) read from a region node's TCP event-bus bridge:
// one JSON line per event on stdout. Node 18+, no packages.
//
//   node docs/examples/usage-consumer.js [--host 127.0.0.1] [--port 7181] [--count N] [--address A ...]
//
// --count N exits after N events; --address registers more addresses (default: genmesh.usage only).
// The bridge's framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
// A refused address comes back as an err frame, printed as {"error": "access_denied"} on stdout.
'use strict';
const net = require('net');

const args = process.argv.slice(2);
const opt = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : fallback; };
const host = opt('--host', '127.0.0.1');
const port = Number(opt('--port', '7181'));
const count = Number(opt('--count', '0'));
const addresses = args.flatMap((a, i) => (a === '--address' ? [args[i + 1]] : []));
if (addresses.length === 0) addresses.push('genmesh.usage');

const seen = new Set(); // dedupe key: the request id (a failover may finish a request twice)
let printed = 0;
let buffered = Buffer.alloc(0);

function send(socket, frame) {
  const json = Buffer.from(JSON.stringify(frame), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length, 0);
  socket.write(Buffer.concat([length, json]));
}

function onFrame(frame) {
  if (frame.type === 'pong') {
    console.log(JSON.stringify({ ready: true, addresses }));
  } else if (frame.type === 'err') {
    console.log(JSON.stringify({ error: frame.message })); // the bridge does not say which address
  } else if (frame.type === 'message' && frame.address === 'genmesh.usage') {
    const usage = frame.body;
    if (seen.has(usage.dedupe_key)) return;
    seen.add(usage.dedupe_key);
    console.log(JSON.stringify(usage));
    if (count > 0 && ++printed >= count) process.exit(0);
  } else if (frame.type === 'message') {
    console.log(JSON.stringify({ address: frame.address, body: frame.body }));
  }
}

const socket = net.connect(port, host, () => {
  for (const address of addresses) {
    send(socket, { type: 'register', address, headers: {} });
  }
  // Frames are handled in order: the pong says the registrations above were taken (or refused).
  send(socket, { type: 'ping' });
});
socket.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  while (buffered.length >= 4) {
    const length = buffered.readUInt32BE(0);
    if (buffered.length < 4 + length) break;
    const frame = JSON.parse(buffered.subarray(4, 4 + length).toString('utf8'));
    buffered = buffered.subarray(4 + length);
    onFrame(frame);
  }
});
socket.on('error', (err) => { console.error(`usage-consumer: ${err.message}`); process.exit(2); });
socket.on('close', () => process.exit(printed >= count ? 0 : 3));
