package dev.ublkgateway.core.stages.script;

import org.graalvm.polyglot.Source;

/**
 * The JavaScript that runs in every script context before the script itself: it builds the
 * {@code gateway} global from the host functions (the only way out of the sandbox) and binds the
 * script's exported hooks to small adapters the stage calls with plain numbers.
 *
 * <p>An adapter returns one number for a request: negative is {@code -errno} (deny), otherwise the
 * low 32 bits are a delay in microseconds and the bits above are a tag id (0 = no tag).
 */
final class Prelude {
    static final String NAME = "<gateway-prelude>";
    static final int MAX_DELAY_US = 10_000_000;
    static final int MAX_TAGS = 256;

    static final Source SOURCE = Source.newBuilder("js", """
            (function (host, deviceJson, queue) {
              'use strict';
              const info = Object.freeze(JSON.parse(deviceJson));
              const device = info.name;
              const ERRNO = Object.freeze({EPERM: 1, ENOENT: 2, EINTR: 4, EIO: 5, ENXIO: 6, EAGAIN: 11, ENOMEM: 12,
                EACCES: 13, EBUSY: 16, EINVAL: 22, ENOSPC: 28, EROFS: 30, ENODATA: 61, ETIME: 62,
                EOPNOTSUPP: 95, ETIMEDOUT: 110, ECANCELED: 125});
              const OPS = ['read', 'write', 'flush', 'discard', 'op4', 'write-zeroes'];
              const FUA = 8192, MAX_DELAY_US = %d, TWO32 = 4294967296;
              const own = Object.prototype.hasOwnProperty;
              const toStringOf = Object.prototype.toString;
              // "AsyncFunction", "Promise", "Map"...: taken before the script runs, so it cannot change it
              const kindOf = (v) => Function.prototype.call.call(toStringOf, v).slice(8, -1);
              const tags = new Map();
              const text = (args) => args.map((a) => typeof a === 'string' ? a : safeJson(a)).join(' ');
              function safeJson(v) {
                try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch (e) { return String(v); }
              }
              function errnoOf(v) {
                if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 4096) return v;
                if (typeof v === 'string' && own.call(ERRNO, v.toUpperCase())) return ERRNO[v.toUpperCase()];
                throw new TypeError('deny: ' + safeJson(v) + ' is not an errno; use a name such as "EPERM" or "EROFS"'
                  + ' (see gateway.errno) or a number 1..4095');
              }
              function tagId(t) {
                let id = tags.get(t);
                if (id === undefined) {
                  if (typeof t !== 'string' || t.length === 0 || t.length > 64) {
                    throw new TypeError('tag: ' + safeJson(t) + ' is not a string of 1..64 characters');
                  }
                  id = host.tag(t);
                  tags.set(t, id);
                }
                return id;
              }
              const VERDICT_FIELDS = ['deny', 'delayUs', 'tag'];
              const HOW = '; return nothing to allow the request, or gateway.deny(errno), gateway.delay(us) or gateway.tag(name)';
              // a verdict is a plain object: a Promise, an array or a class instance is a mistake, never "allow"
              function encode(r, hook) {
                if (r === undefined || r === null || r === true) return 0;
                if (r === false) return -1;
                if (typeof r !== 'object') throw new TypeError(hook + ' returned ' + safeJson(r) + HOW);
                const proto = Object.getPrototypeOf(r);
                if (kindOf(r) === 'Promise' || typeof r.then === 'function') {
                  throw new TypeError(hook + ' returned a Promise; hooks run synchronously, so return the verdict itself'
                    + ' (no async or await)');
                }
                if (Array.isArray(r)) throw new TypeError(hook + ' returned an array ' + safeJson(r) + HOW);
                if (proto !== Object.prototype && proto !== null) {
                  throw new TypeError(hook + ' returned ' + kindOf(r) + ' object ' + safeJson(r) + ', not a verdict' + HOW);
                }
                for (const k of Object.keys(r)) {
                  if (!VERDICT_FIELDS.includes(k)) {
                    throw new TypeError(hook + ' returned ' + safeJson(r) + ' with field "' + k + '", which a verdict does not'
                      + ' have (it has deny, delayUs, tag)' + HOW);
                  }
                }
                if (r.deny !== undefined && r.deny !== false && r.deny !== null) return -errnoOf(r.deny === true ? 'EPERM' : r.deny);
                let v = 0;
                if (r.delayUs !== undefined) {
                  const d = r.delayUs;
                  if (typeof d !== 'number' || !(d >= 0)) throw new TypeError('delayUs ' + safeJson(d) + ' is not a number >= 0');
                  v = Math.min(Math.floor(d), MAX_DELAY_US);
                }
                if (r.tag !== undefined) v += tagId(r.tag) * TWO32;
                return v;
              }
              const fromJson = (s) => s === null || s === undefined ? undefined : JSON.parse(s);
              const state = Object.freeze({
                get: (key) => fromJson(host.stateGet(String(key))),
                set: (key, value) => {
                  const s = JSON.stringify(value);
                  if (s === undefined) host.stateDelete(String(key)); else host.stateSet(String(key), s);
                  return value;
                },
                delete: (key) => host.stateDelete(String(key)),
                keys: () => JSON.parse(host.stateKeys()),
              });
              const gateway = Object.freeze({
                device, queue, info,
                errno: ERRNO,
                allow: () => undefined,
                deny: (errno) => Object.freeze({deny: errno === undefined ? 'EPERM' : errno}),
                delay: (us) => Object.freeze({delayUs: us}),
                tag: (name) => Object.freeze({tag: name}),
                now: () => host.now(),
                log: (...a) => { host.log('info', text(a)); },
                warn: (...a) => { host.log('warn', text(a)); },
                error: (...a) => { host.log('error', text(a)); },
                count: (name, by) => host.count(String(name), by === undefined ? 1 : Number(by)),
                counters: () => JSON.parse(host.counters()),
                state,
                setRateLimit: (limits) => {
                  if (limits === null || typeof limits !== 'object') {
                    throw new TypeError('setRateLimit takes {iops, bandwidth} (numbers; 0 = no limit)');
                  }
                  const iops = limits.iops === undefined ? 0 : limits.iops;
                  const bw = limits.bandwidth === undefined ? 0 : limits.bandwidth;
                  if (typeof iops !== 'number' || !(iops >= 0) || typeof bw !== 'number' || !(bw >= 0)) {
                    throw new TypeError('setRateLimit: iops and bandwidth must be numbers >= 0 (0 = no limit)');
                  }
                  host.setRateLimit(Math.floor(iops), Math.floor(bw));
                },
                rateLimit: () => JSON.parse(host.rateLimit()),
                setReadOnly: (on) => { host.setReadOnly(on === true); },
                readOnly: () => host.readOnly(),
              });
              const con = Object.freeze({log: gateway.log, info: gateway.log, debug: gateway.log,
                warn: gateway.warn, error: gateway.error});
              Object.defineProperty(globalThis, 'gateway', {value: gateway, enumerable: false});
              Object.defineProperty(globalThis, 'console', {value: con, enumerable: false, writable: false, configurable: false});

              function bind(ns) {
                const fn = (name) => typeof ns[name] === 'function' ? ns[name] : null;
                const onRequest = fn('onRequest'), onFlush = fn('onFlush'), onTick = fn('onTick');
                const onAttach = fn('onAttach'), onDetach = fn('onDetach');
                // one request object per hook, refilled for every call (scripts must not keep it)
                const call = (hook, f) => {
                  if (!f) return null;
                  const req = {op: 'read', offset: 0, length: 0, flags: 0, fua: false, queue, device};
                  return function (op, offset, length, flags) {
                    req.op = OPS[op] || 'unknown';
                    req.offset = offset;
                    req.length = length;
                    req.flags = flags;
                    req.fua = (flags & FUA) !== 0;
                    const r = f(req);
                    return r === undefined ? 0 : encode(r, hook);
                  };
                };
                return {
                  request: call('onRequest', onRequest),
                  flush: call('onFlush', onFlush),
                  tick: onTick && function (json) { onTick(JSON.parse(json)); },
                  attach: onAttach && function () { onAttach(info); },
                  detach: onDetach && function () { onDetach(info); },
                };
              }
              bind.kindOf = kindOf;
              return bind;
            })
            """.formatted(MAX_DELAY_US), NAME).cached(true).buildLiteral();

    /** The hooks a script may export. */
    static final java.util.List<String> HOOKS = java.util.List.of("onAttach", "onRequest", "onFlush", "onTick", "onDetach");

    private Prelude() {}
}
