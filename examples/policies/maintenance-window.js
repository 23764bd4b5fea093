// Read-only outside a maintenance window: writes, discards and write-zeroes fail with EROFS except
// between START and END (UTC hours) every day. Checked on every tick; the change takes effect at
// once on all queues. Pair it with a read-only stage to see the state in `list`, or without one the
// hook itself refuses the writes.
//
//   devices:
//     - name: data0
//       script: {path: examples/policies/maintenance-window.js, tick-ms: 5000}

/// <reference path="gateway.d.ts" />

const START_HOUR_UTC = 2;   // window opens at 02:00 UTC
const END_HOUR_UTC = 4;     // and closes at 04:00 UTC

function inWindow(date) {
  const h = date.getUTCHours();
  return START_HOUR_UTC <= END_HOUR_UTC
    ? h >= START_HOUR_UTC && h < END_HOUR_UTC
    : h >= START_HOUR_UTC || h < END_HOUR_UTC;   // a window across midnight
}

function apply() {
  const readOnly = !inWindow(new Date());
  if (gateway.readOnly() !== readOnly) {
    gateway.log(readOnly ? 'maintenance window closed: read-only' : 'maintenance window open: writable');
    gateway.setReadOnly(readOnly);
  }
}

/** @param {DeviceInfo} device */
export function onAttach(device) { apply(); }

/** @param {TickStats} stats */
export function onTick(stats) { apply(); }
