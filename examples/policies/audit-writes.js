// Audit log of writes to chosen ranges: every write, discard or write-zeroes that touches one of
// WATCHED is logged (at most LOG_PER_SECOND lines per queue per second; the rest are counted) and
// tagged, so `onTick` statistics show how many hit each range. Nothing is refused.
//
//   devices:
//     - name: data0
//       script: examples/policies/audit-writes.js

/// <reference path="gateway.d.ts" />

const WATCHED = [
  {name: 'superblock', from: 0, to: 64 << 10},
  {name: 'journal', from: 1 << 30, to: (1 << 30) + (128 << 20)},
];
const LOG_PER_SECOND = 20;

let windowStart = gateway.now();
let logged = 0;

/** @param {BlockRequest} req */
export function onRequest(req) {
  if (req.op === 'read' || req.op === 'flush') return;
  const end = req.offset + req.length;
  for (const r of WATCHED) {
    if (req.offset < r.to && end > r.from) {
      gateway.count('audit.' + r.name);
      const now = gateway.now();
      if (now - windowStart >= 1000) { windowStart = now; logged = 0; }
      if (++logged <= LOG_PER_SECOND) {
        gateway.log(`audit: ${req.op} ${req.length} B at ${req.offset} (${r.name}) on queue ${req.queue}${req.fua ? ' FUA' : ''}`);
      }
      return gateway.tag(r.name);
    }
  }
}

/** @param {TickStats} stats */
export function onTick(stats) {
  for (const [name, n] of Object.entries(stats.tags)) {
    if (n > 0) gateway.log(`audit: ${n} write(s) to ${name} in the last ${stats.intervalMs} ms`);
  }
}
