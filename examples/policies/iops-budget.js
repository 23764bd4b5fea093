// Per-device IOPS budget with bursts: every queue gets its share of RATE requests per second and may
// save up to BURST_SECONDS of unused budget; a request over budget waits (the hook returns a delay)
// instead of failing. Flushes and FUA writes are never held back.
//
//   devices:
//     - name: data0
//       queues: 2
//       script: examples/policies/iops-budget.js

/// <reference path="gateway.d.ts" />

const RATE = 5000;          // requests per second for the whole device
const BURST_SECONDS = 2;    // how much unused budget may be spent at once

const share = RATE / gateway.info.queues;   // each queue runs its own copy of this script
let tokens = share * BURST_SECONDS;
let last = gateway.now();

/** @param {DeviceInfo} device */
export function onAttach(device) {
  gateway.log(`IOPS budget ${RATE}/s over ${device.queues} queue(s), bursts of ${BURST_SECONDS} s`);
}

/** @param {BlockRequest} req */
export function onRequest(req) {
  if (req.op === 'flush' || req.fua) return;
  const now = gateway.now();
  tokens = Math.min(share * BURST_SECONDS, tokens + (now - last) * share / 1000);
  last = now;
  tokens -= 1;
  if (tokens >= 0) return;
  gateway.count('budget.delayed');
  return gateway.delay(-tokens / share * 1e6);   // wait until this request's token has accrued
}
