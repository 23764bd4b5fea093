// Deny writes to a protected byte range: by default the first MiB, where the partition table
// (MBR/GPT) and boot loader live. Reads pass. Change PROTECTED or ERRNO and save: the gateway
// reloads the script between requests.
//
//   devices:
//     - name: data0
//       script: examples/policies/protect-range.js

/// <reference path="gateway.d.ts" />

const PROTECTED = [{from: 0, to: 1 << 20}];   // [from, to) in bytes
const ERRNO = 'EPERM';                          // what the writer sees: "Operation not permitted"

/** @param {BlockRequest} req */
export function onRequest(req) {
  if (req.op === 'read' || req.op === 'flush') return;
  const end = req.offset + req.length;
  for (const r of PROTECTED) {
    if (req.offset < r.to && end > r.from) {
      gateway.count('protect.denied');
      return gateway.deny(ERRNO);
    }
  }
}
