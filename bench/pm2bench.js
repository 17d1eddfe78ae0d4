// SPDX-License-Identifier: ISC
// pm2bench.js -- the benchmark's pm2 client: pm2's own programmatic API
// over the daemon's Unix sockets in PM2_HOME (which the caller sets to a
// private temporary directory).  One scenario per run:
//
//   node pm2bench.js COMMAND 'JSON ARGUMENTS'
//
// and one JSON object on stdout.  Times are microseconds; t0_ns is
// CLOCK_MONOTONIC (process.hrtime), comparable with the caller's clock.
// Every wait is bounded; on any error it prints a message and exits 1.
'use strict';

const fs = require('fs');
const path = require('path');
const childProcess = require('child_process');

if (!process.env.PM2_HOME) {
  console.error('pm2bench: PM2_HOME must be set (a private directory)');
  process.exit(2);
}
process.env.PM2_DISCRETE_MODE = 'true';
process.env.PM2_DISABLE_VERSION_CHECK = 'true';
const pm2 = require('pm2');

const cmd = process.argv[2];
const arg = JSON.parse(process.argv[3] || '{}');
const wake = new Int32Array(new SharedArrayBuffer(4));

function nowNs() { return process.hrtime.bigint(); }
function usSince(t0) { return Number(nowNs() - t0) / 1000; }
function sleepMs(ms) { Atomics.wait(wake, 0, 0, ms); }

function fail(msg) {
  console.error('pm2bench: ' + cmd + ': ' + msg);
  process.exit(1);
}

// The same statistics as proc.c: linear interpolation between ranks.
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const pos = p / 100 * (sorted.length - 1);
  const lo = Math.floor(pos);
  if (lo >= sorted.length - 1) return sorted[sorted.length - 1];
  return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * (pos - lo);
}

function stats(v) {
  const s = v.slice().sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return { unit: 'us', n: s.length, median: percentile(s, 50),
    p99: percentile(s, 99), min: s[0], max: s[s.length - 1],
    mean: sum / s.length, samples: arg.samples ? v : undefined };
}

function children(pid) {
  const out = [];
  let tasks;
  try {
    tasks = fs.readdirSync('/proc/' + pid + '/task');
  } catch (e) {
    return null;
  }
  for (const t of tasks) {
    let s;
    try {
      s = fs.readFileSync('/proc/' + pid + '/task/' + t + '/children', 'utf8');
    } catch (e) {
      continue;
    }
    for (const w of s.split(' ')) if (w.trim() !== '') out.push(Number(w));
  }
  return out;
}

function commIs(pid, comm) {
  try {
    return fs.readFileSync('/proc/' + pid + '/comm', 'utf8').trim() === comm;
  } catch (e) {
    return false;
  }
}

// How many children of pid run comm (pids seen running it are cached).
function countComm(pid, comm, seen) {
  const kids = children(pid);
  if (kids === null) fail('daemon ' + pid + ' is gone');
  let n = 0;
  for (const k of kids) {
    if (seen.has(k) || commIs(k, comm)) {
      seen.add(k);
      n++;
    }
  }
  return n;
}

function waitCount(pid, comm, want, t0, timeoutMs) {
  const seen = new Set();
  for (;;) {
    const n = countComm(pid, comm, seen);
    if (want === 0 ? n === 0 : n >= want) return usSince(t0);
    if (usSince(t0) > timeoutMs * 1000)
      fail(n + ' children run ' + comm + ', want ' + want);
    sleepMs(0.1);
  }
}

function call(fn, ...args) {
  return new Promise((resolve, reject) => {
    fn.call(pm2, ...args, (err, res) => {
      if (err && err !== true) reject(err instanceof Error ? err :
        new Error(JSON.stringify(err)));
      else resolve(res);
    });
  });
}

function remote(method) {
  return new Promise((resolve, reject) => {
    pm2.Client.executeRemote(method, {}, (err, res) => {
      if (err) reject(new Error(String(err)));
      else resolve(res);
    });
  });
}

function sleepApp(name, n, extra) {
  return Object.assign({ name: name, script: arg.sleep, args: ['100000'],
    interpreter: 'none', exec_mode: 'fork', instances: n,
    autorestart: true, env: arg.env || {} }, extra || {});
}

const commands = {
  // start N sleeps, until N pids exist
  async start100() {
    const t0 = nowNs();
    await call(pm2.start, sleepApp(arg.name, arg.n));
    const reply = usSince(t0);
    const done = waitCount(arg.god, 'sleep', arg.n, t0, arg.timeout_ms);
    return { reply_us: reply, done_us: done };
  },
  // stop them, until all are gone
  async stop100() {
    const t0 = nowNs();
    await call(pm2.stop, arg.name);
    const reply = usSince(t0);
    const done = waitCount(arg.god, 'sleep', 0, t0, arg.timeout_ms);
    return { reply_us: reply, done_us: done };
  },
  async delete() {
    await call(pm2.delete, arg.name);
    return { ok: true };
  },
  // round trips on the kept RPC connection
  async rt() {
    const op = arg.what === 'list' ? () => call(pm2.list) : () => remote('ping');
    const check = arg.what === 'list' ?
      (r) => Array.isArray(r) && r.length === arg.expect :
      (r) => r && r.msg === 'pong';
    const v = [];
    for (let i = 0; i < arg.warmup + arg.n; i++) {
      const t0 = nowNs();
      const r = await op();
      const us = usSince(t0);
      if (!check(r)) fail('unexpected reply: ' + JSON.stringify(r).slice(0, 200));
      if (i >= arg.warmup) v.push(us);
    }
    return stats(v);
  },
  // SIGKILL the child, time until its replacement exists (killwait)
  async restart() {
    await call(pm2.start, sleepApp(arg.name, 1, { restart_delay: 0,
      min_uptime: 0, max_restarts: 1000000 }));
    const v = [];
    for (let i = 0; i < arg.kills; i++) {
      const t0 = nowNs();
      let pid = 0;
      for (;;) {
        const d = await call(pm2.describe, arg.name);
        if (d.length === 1 && d[0].pm2_env.status === 'online' && d[0].pid > 0 &&
            commIs(d[0].pid, 'sleep')) {
          pid = d[0].pid;
          break;
        }
        if (usSince(t0) > arg.timeout_ms * 1000) fail(arg.name + ' not online');
        sleepMs(1);
      }
      const r = childProcess.spawnSync(arg.killwait,
        [String(arg.god), String(pid), String(arg.timeout_ms)],
        { encoding: 'utf8', timeout: arg.timeout_ms + 5000 });
      if (r.status !== 0) fail('killwait: ' + (r.stderr || r.error));
      v.push(Number(r.stdout.trim()));
      sleepMs(arg.settle_ms);
    }
    await call(pm2.delete, arg.name);
    arg.samples = true;
    return stats(v);
  },
  // start an app described by the caller; t0_ns is just before the request
  async startapp() {
    const app = Object.assign({ interpreter: 'none', exec_mode: 'fork',
      autorestart: false, env: arg.env || {} }, arg.app);
    const t0 = nowNs();
    await call(pm2.start, app);
    return { t0_ns: t0.toString(), reply_us: usSince(t0) };
  },
  async pid() {
    return { pid: Number(fs.readFileSync(path.join(process.env.PM2_HOME,
      'pm2.pid'), 'utf8').trim()) };
  },
};

async function main() {
  if (!commands[cmd]) {
    console.error('usage: node pm2bench.js ' + Object.keys(commands).join('|') +
      ' JSON');
    process.exit(2);
  }
  const guard = setTimeout(() => fail('timed out'), arg.guard_ms || 600000);
  await call(pm2.connect);
  let res;
  try {
    res = await commands[cmd]();
  } catch (e) {
    fail(e && e.stack ? e.stack : String(e));
  }
  process.stdout.write(JSON.stringify(res) + '\n');
  clearTimeout(guard);
  pm2.disconnect(() => process.exit(0));
}

main();
