'use strict';
// A stand-in for a Bangle.js 2 running Espruino, for tests: the Espruino APIs the wearsync
// runner uses, on a virtual clock, with code sent over the (simulated) Nordic UART really
// executed in a `vm` context.
//
// Written from Espruino's public API reference; it models behaviour, not the firmware.
//
// Control channel (one JSON object a line): requests on stdin `{"id":n,"op":...}`, answered on
// stdout by `{"ev":"reply","id":n,...}` once everything the request caused has been printed.
// Unprompted output: `{"ev":"uart","data":<latin-1 text>,"src":"bt"|"console"}` for bytes the
// watch sends over Bluetooth, `{"ev":"log","text":...}` for console output that does not reach
// Bluetooth (Programmable off), `{"ev":"boot","reason":...}` when the JS state restarts.
//
// Usage: node espruino_vm.js <storage.json> <wall-clock ms at virtual time 0>

const vm = require('vm');
const fs = require('fs');
const readline = require('readline');
const { makeStorage } = require('./storage.js');

const storagePath = process.argv[2];
const wallStart = Number(process.argv[3] || Date.UTC(2025, 0, 6, 8, 0, 0));
const WIDTH = 176;
const HEIGHT = 176;
const MAX_BUZZ_MS = 5000;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// ---- the watch's hardware and firmware state, which survives a JS restart ----
const hw = {
  mono: 0, // virtual ms since the simulation started; never jumps
  wallOffset: wallStart, // Date.now() = mono + wallOffset; setTime() changes it
  timeZone: 0,
  connected: true,
  programmable: true,
  buzzes: [], // {on, off, strength} in virtual ms
  btn: { state: false, lastChange: 0 },
  errors: [],
  boots: 0,
};
const storage = makeStorage(storagePath);

// ---- per-JS-lifetime state: timers, watches, the screen, the vm context ----
let js = null;

function newJsState() {
  return {
    timers: [], // {id, due, fn, args, interval, seq}
    nextTimerId: 1,
    timerSeq: 0,
    watches: new Map(), // id -> {fn, pin, repeat, edge}
    nextWatchId: 1,
    frame: [], // strings drawn since the last clear
    shown: [], // strings of the last flipped frame
    flips: 0,
    ui: null,
    inputLine: '',
    pendingLoad: false,
    eListeners: {}, // E.on(name, fn)
    context: null,
  };
}

function wallNow() {
  return hw.mono + hw.wallOffset;
}

function consoleOut(text) {
  if (hw.programmable) {
    if (hw.connected) emit({ ev: 'uart', data: text, src: 'console' });
  } else {
    emit({ ev: 'log', text });
  }
}

function reportError(err) {
  const text = err && err.name ? `${err.name}: ${err.message}` : String(err);
  hw.errors.push(text);
  consoleOut(`Uncaught ${text}\r\n>`);
}

// ---- timers on the virtual clock ----
function addTimer(fn, ms, args, interval) {
  if (typeof fn === 'string') {
    const code = fn;
    fn = () => vm.runInContext(code, js.context);
  }
  if (typeof fn !== 'function') throw new TypeError('Function or String not supplied!');
  const delay = Math.max(0, Number(ms) || 0);
  const timer = {
    id: js.nextTimerId++,
    due: hw.mono + delay,
    fn,
    args,
    interval: interval ? Math.max(1, delay) : 0,
    seq: js.timerSeq++,
  };
  js.timers.push(timer);
  return timer.id;
}

// As Espruino 2v29 does (checked on its Linux build by tests/watches/bangle/firmware): no
// argument clears every timer, an explicit undefined is an error (a runner that lost a timer
// id must not silently cancel the whole session), an id it does not know is ignored.
function clearTimer(args, what) {
  if (args.length === 0) {
    js.timers = [];
    return;
  }
  const id = args[0];
  if (id === undefined) {
    throw new Error(`${what}(undefined) not allowed. Use ${what}() instead`);
  }
  const index = js.timers.findIndex((t) => t.id === Number(id));
  if (index >= 0) js.timers.splice(index, 1);
}

function nextDue(limit) {
  let best = null;
  for (const t of js.timers) {
    if (t.due <= limit && (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq))) {
      best = t;
    }
  }
  return best;
}

function settle() {
  // Lets promise callbacks (Bangle.buzz().then(...)) run before the next virtual instant.
  return new Promise((resolve) => setImmediate(resolve));
}

async function runJs(fn) {
  try {
    fn();
  } catch (err) {
    reportError(err);
  }
  await settle();
  if (js.pendingLoad) {
    // As Espruino does before load() clears the JS state: E.on('kill') handlers run first.
    const state = js;
    js.pendingLoad = false;
    for (const f of state.eListeners.kill || []) {
      try {
        f();
      } catch (err) {
        reportError(err);
      }
    }
    await boot('load');
  }
}

async function advance(ms) {
  const target = hw.mono + Math.max(0, ms);
  for (;;) {
    const t = nextDue(target);
    if (!t) break;
    hw.mono = t.due;
    if (t.interval) {
      t.due += t.interval;
      t.seq = js.timerSeq++;
    } else {
      js.timers.splice(js.timers.indexOf(t), 1);
    }
    const state = js;
    await runJs(() => t.fn.apply(null, t.args || []));
    if (state !== js) continue; // load() restarted JS: the old timers are gone
  }
  hw.mono = target;
}

// ---- buttons ----
function setButton(pressed) {
  if (hw.btn.state === pressed) return Promise.resolve();
  const lastTime = hw.btn.lastChange / 1000 + hw.wallOffset / 1000;
  hw.btn.state = pressed;
  hw.btn.lastChange = hw.mono;
  const event = { state: pressed, time: wallNow() / 1000, lastTime };
  const fire = [];
  for (const [id, w] of js.watches) {
    if (w.pin !== 'BTN1') continue;
    if ((w.edge === 'rising' && !pressed) || (w.edge === 'falling' && pressed)) continue;
    fire.push(w);
    if (!w.repeat) js.watches.delete(id);
  }
  return (async () => {
    for (const w of fire) await runJs(() => w.fn(Object.assign({}, event)));
  })();
}

// ---- the Espruino globals ----
function makeGraphics() {
  const g = {
    getWidth: () => WIDTH,
    getHeight: () => HEIGHT,
    clear() {
      js.frame = [];
      return g;
    },
    drawString(text) {
      js.frame.push(String(text));
      return g;
    },
    flip() {
      js.shown = js.frame.slice();
      js.flips++;
      return g;
    },
    stringWidth: (text) => String(text).length * 8,
  };
  // Every other drawing call (setFont, setColor, fillRect...) is accepted and chains.
  return new Proxy(g, {
    get(target, prop) {
      if (prop in target) return target[prop];
      return () => g;
    },
  });
}

function makeBangle() {
  const listeners = {};
  return {
    buzz(ms, strength) {
      const time = Math.min(MAX_BUZZ_MS, ms === undefined ? 200 : Math.max(0, Number(ms)));
      const level = strength === undefined ? 1 : Math.min(1, Math.max(0, Number(strength)));
      const last = hw.buzzes[hw.buzzes.length - 1];
      // The firmware queues a buzz asked for while another runs: it starts when that one
      // ends (jswrap_banglejs_buzz chains it on the running buzz's promise).
      const on = last && last.off > hw.mono ? last.off : hw.mono;
      hw.buzzes.push({ on, off: on + time, strength: level });
      return new Promise((resolve) => addTimer(resolve, on + time - hw.mono, [], false));
    },
    setUI(mode) {
      js.ui = mode || null;
    },
    loadWidgets() {},
    drawWidgets() {},
    setOptions() {},
    setLCDPower() {},
    setLCDTimeout() {},
    isLCDOn: () => true,
    on(name, fn) {
      (listeners[name] = listeners[name] || []).push(fn);
    },
    removeListener(name, fn) {
      listeners[name] = (listeners[name] || []).filter((f) => f !== fn);
    },
    emit(name, ...args) {
      (listeners[name] || []).forEach((f) => f(...args));
    },
  };
}

function crc32(data) {
  let crc = 0xffffffff;
  const bytes =
    typeof data === 'string' ? Array.from(data, (c) => c.charCodeAt(0) & 255) : Array.from(data);
  for (const b of bytes) {
    crc ^= b & 255;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (~crc) >>> 0;
}

function makeGlobals() {
  const send = (text) => {
    if (hw.connected) emit({ ev: 'uart', data: text, src: 'bt' });
  };
  const print = (...args) => consoleOut(args.map(String).join(' ') + '\r\n');
  return {
    Bangle: makeBangle(),
    g: makeGraphics(),
    BTN1: { name: 'BTN1', read: () => hw.btn.state },
    BTN: { name: 'BTN1', read: () => hw.btn.state },
    Bluetooth: {
      write: (text) => send(String(text)),
      print: (text) => send(String(text)),
      println: (text) => send(String(text === undefined ? '' : text) + '\r\n'),
    },
    E: {
      CRC32: crc32,
      on(name, fn) {
        (js.eListeners[name] = js.eListeners[name] || []).push(fn);
      },
      removeListener(name, fn) {
        js.eListeners[name] = (js.eListeners[name] || []).filter((f) => f !== fn);
      },
      setTimeZone(hours) {
        hw.timeZone = Number(hours);
      },
      kickWatchdog() {},
      showMessage(text) {
        js.frame = [String(text)];
        js.shown = js.frame.slice();
      },
      setConsole() {},
      getBattery: () => 80,
    },
    process: { env: { VERSION: '2v25', HWVERSION: 2, BOARD: 'BANGLEJS2' } },
    require(name) {
      if (name === 'Storage') return storage.api;
      throw new Error(`Module ${name} not found`);
    },
    setTimeout: (fn, ms, ...args) => addTimer(fn, ms, args, false),
    setInterval: (fn, ms, ...args) => addTimer(fn, ms, args, true),
    clearTimeout: (...args) => clearTimer(args, 'clearTimeout'),
    clearInterval: (...args) => clearTimer(args, 'clearInterval'),
    changeInterval(id, ms) {
      const t = js.timers.find((x) => x.id === id);
      if (!t) throw new Error('Unknown Interval');
      t.interval = Math.max(1, ms);
      t.due = hw.mono + t.interval;
    },
    setWatch(fn, pin, options) {
      const opts = typeof options === 'object' && options ? options : { repeat: !!options };
      const id = js.nextWatchId++;
      js.watches.set(id, {
        fn,
        pin: pin && pin.name,
        repeat: !!opts.repeat,
        edge: opts.edge || 'rising',
      });
      return id;
    },
    clearWatch(id) {
      if (id === undefined) js.watches.clear();
      else if (!js.watches.delete(Number(id))) throw new Error('Unknown Watch');
    },
    getTime: () => wallNow() / 1000,
    setTime(seconds) {
      hw.wallOffset = Number(seconds) * 1000 - hw.mono;
    },
    load() {
      js.pendingLoad = true;
    },
    reset() {
      js.pendingLoad = true;
    },
    print,
    console: { log: print },
    __wallNow: wallNow,
    __timeZone: () => hw.timeZone,
  };
}

// Date.now() and new Date() follow the virtual wall clock; getTimezoneOffset() follows
// E.setTimeZone, as on Espruino (whose local time is UTC plus that offset, no zone rules).
const DATE_SHIM = `(function(RealDate, now, zone){
  RealDate.prototype.getTimezoneOffset = function(){ return -zone() * 60; };
  function VDate(...a){
    if(!new.target) return new RealDate(now()).toString();
    return a.length ? new RealDate(...a) : new RealDate(now());
  }
  VDate.now = () => now();
  VDate.UTC = RealDate.UTC;
  VDate.parse = RealDate.parse;
  VDate.prototype = RealDate.prototype;
  return VDate;
})(Date, __wallNow, __timeZone)`;

function newContext() {
  const context = vm.createContext(makeGlobals());
  context.global = vm.runInContext('this', context);
  context.Date = vm.runInContext(DATE_SHIM, context);
  return context;
}

// A boot, as the bootloader does it: settings first, then every *.boot.js file.
async function boot(reason) {
  js = newJsState();
  js.context = newContext();
  hw.boots++;
  const settings = storage.readJSON('setting.json') || {};
  hw.programmable = settings.blerepl !== false;
  hw.timeZone = Number(settings.timezone) || 0;
  emit({ ev: 'boot', reason, programmable: hw.programmable });
  for (const name of storage.api.list(/\.boot\.js$/).sort()) {
    const code = storage.api.read(name);
    await runJs(() => vm.runInContext(code, js.context, { filename: name }));
  }
}

// ---- the Bluetooth UART: bytes in, lines evaluated ----
async function uartInput(data) {
  js.inputLine += data;
  let end;
  while ((end = js.inputLine.indexOf('\n')) >= 0) {
    const line = js.inputLine.slice(0, end).replace(/\r$/, '');
    js.inputLine = js.inputLine.slice(end + 1);
    await handleLine(line);
  }
}

async function handleLine(line) {
  if (!hw.programmable) {
    // With Programmable off the console is not on Bluetooth; the bootloader's own handler
    // passes only `GB({...})` lines, parsed as JSON, to global.GB, and drops everything else.
    const l = line.startsWith('\x10') ? line.slice(1) : line;
    const gb = js.context.GB;
    if (l.startsWith('GB({') && l.endsWith('})') && typeof gb === 'function') {
      let message;
      try {
        message = JSON.parse(l.slice(3, -1));
      } catch (err) {
        return;
      }
      await runJs(() => gb(message));
    }
    return;
  }
  const quiet = line.startsWith('\x10');
  const code = quiet ? line.slice(1) : line;
  if (!quiet) consoleOut(code + '\r\n');
  let result;
  await runJs(() => {
    result = vm.runInContext(code, js.context, { filename: 'uart' });
  });
  if (!quiet) consoleOut(`=${result === undefined ? 'undefined' : JSON.stringify(result)}\r\n>`);
}

// ---- real time, scaled ----
let realtime = null;

function startRealtime(speed, enqueue) {
  stopRealtime();
  let last = Date.now();
  realtime = setInterval(() => {
    const now = Date.now();
    const ms = Math.round((now - last) * speed);
    last = now;
    if (ms > 0) enqueue(() => advance(ms));
  }, 5);
}

function stopRealtime() {
  if (realtime) clearInterval(realtime);
  realtime = null;
}

// ---- the control channel ----
async function handle(req) {
  switch (req.op) {
    case 'uart':
      await uartInput(req.data);
      await advance(0);
      return {};
    case 'advance':
      await advance(req.ms);
      return { now: hw.mono };
    case 'button':
      await advance(0);
      await setButton(!!req.pressed);
      await advance(0);
      return {};
    case 'buzzes':
      return { buzzes: hw.buzzes };
    case 'screen':
      return { strings: js.shown, flips: js.flips };
    case 'storage':
      return { files: storage.snapshot() };
    case 'state':
      return {
        now: hw.mono,
        wall: wallNow(),
        timeZone: hw.timeZone,
        programmable: hw.programmable,
        connected: hw.connected,
        timers: js.timers.length,
        watches: js.watches.size,
        errors: hw.errors,
        boots: hw.boots,
        ui: js.ui === null ? null : String(js.ui),
      };
    case 'connected':
      hw.connected = !!req.on;
      return {};
    case 'reset':
      // A power cycle: storage is read back from disk, the JS state starts from nothing.
      storage.reload();
      hw.btn.state = false;
      await boot('reset');
      await advance(0);
      return {};
    case 'programmable': {
      // What the Settings app does: save setting.json, then reload (the boot code reads it).
      const settings = storage.readJSON('setting.json') || {};
      settings.blerepl = !!req.on;
      storage.api.writeJSON('setting.json', settings);
      await boot('settings');
      await advance(0);
      return {};
    }
    case 'realtime':
      return {};
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

// What a watch fresh from the box has in setting.json (the keys the boot code reads).
const DEFAULT_SETTINGS = { ble: true, blerepl: true, timeout: 10, vibrate: true, timezone: 0 };

async function main() {
  if (storage.readJSON('setting.json') === undefined) {
    storage.api.writeJSON('setting.json', DEFAULT_SETTINGS);
  }
  await boot('power-on');
  let chain = Promise.resolve();
  const enqueue = (fn) => {
    chain = chain.then(fn).catch((err) => emit({ ev: 'log', text: String(err && err.stack) }));
    return chain;
  };
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (text) => {
    let req;
    try {
      req = JSON.parse(text);
    } catch (err) {
      emit({ ev: 'reply', id: null, error: `bad request: ${err.message}` });
      return;
    }
    if (req.op === 'realtime') {
      if (req.speed > 0) startRealtime(req.speed, enqueue);
      else stopRealtime();
    }
    enqueue(async () => {
      try {
        emit(Object.assign({ ev: 'reply', id: req.id }, await handle(req)));
      } catch (err) {
        emit({ ev: 'reply', id: req.id, error: String(err && err.message) });
      }
    });
  });
  rl.on('close', () => {
    stopRealtime();
    chain.then(() => process.exit(0));
  });
}

main();
