// Latency-based throttling: keeps the device's p99 latency under TARGET_P99_US by moving its IOPS
// limit, additive increase / multiplicative decrease, once per tick. Needs a rate-limit stage on the
// device (its starting limit is where the script begins):
//
//   devices:
//     - name: data0
//       script: {path: examples/policies/latency-throttle.js, tick-ms: 500}
//       stages:
//         - type: rate-limit
//           iops: 20000

/// <reference path="gateway.d.ts" />

const TARGET_P99_US = 2000;
const MIN_IOPS = 500, MAX_IOPS = 200000, STEP = 500;

/** @param {TickStats} stats */
export function onTick(stats) {
  const limit = stats.rateLimit;
  if (limit === null) {
    gateway.warn('latency-throttle needs a rate-limit stage on the device');
    return;
  }
  if (stats.latencyUs.samples < 50) return;            // too little traffic to judge
  let iops = limit.iops || MAX_IOPS;
  if (stats.latencyUs.p99 > TARGET_P99_US) {
    iops = Math.max(MIN_IOPS, Math.floor(iops * 0.7));
  } else if (stats.iops >= 0.9 * iops) {                 // only raise a limit that is being reached
    iops = Math.min(MAX_IOPS, iops + STEP);
  }
  if (iops !== limit.iops) {
    gateway.setRateLimit({iops, bandwidth: limit.bandwidth});
    gateway.state.set('throttle.iops', iops);
    gateway.log(`p99 ${stats.latencyUs.p99} us at ${stats.iops} IOPS: limit now ${iops} IOPS`);
  }
}
