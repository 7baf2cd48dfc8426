'use strict';
// require("Storage") of the Espruino stand-in, kept in a JSON file so a simulated reset finds
// what was written before it, as flash would.
//
// Follows Espruino's documented semantics: strings are bytes (latin-1 here); write() at offset
// 0 (or without an offset) creates a file, of `size` bytes if given, the unwritten part reading
// as 0xFF; a write at a later offset fills part of an existing file and, as on NOR flash, can
// only clear bits (writing over written data gives the AND of both, which a CRC check then
// catches). StorageFiles (open()) are a separate, append-only kind of file.

const fs = require('fs');

const MAX_NAME = 28;

function toBytes(data) {
  if (typeof data === 'string') return data;
  if (Array.isArray(data) || ArrayBuffer.isView(data)) {
    return Array.from(data, (b) => String.fromCharCode(Number(b) & 255)).join('');
  }
  return JSON.stringify(data);
}

function checkName(name, max) {
  if (typeof name !== 'string' || !name.length || name.length > max) {
    throw new Error(`Invalid Storage filename ${JSON.stringify(name)}`);
  }
}

function makeStorage(path) {
  let state = { files: {}, sfiles: {} };

  function load() {
    state = { files: {}, sfiles: {} };
    if (path && fs.existsSync(path)) {
      const saved = JSON.parse(fs.readFileSync(path, 'latin1'));
      state.files = saved.files || {};
      state.sfiles = saved.sfiles || {};
    }
  }

  function save() {
    if (!path) return;
    const tmp = path + '.tmp';
    fs.writeFileSync(tmp, JSON.stringify(state), 'latin1');
    fs.renameSync(tmp, path);
  }

  function write(name, data, offset, size) {
    checkName(name, MAX_NAME);
    const bytes = toBytes(data);
    if (!offset) {
      const length = size === undefined ? bytes.length : Number(size);
      if (bytes.length > length) throw new Error('Too much data for file size');
      state.files[name] = bytes + '\xff'.repeat(length - bytes.length);
    } else {
      const old = state.files[name];
      if (old === undefined) return false;
      if (offset + bytes.length > old.length) throw new Error('Too much data for file size');
      let merged = '';
      for (let i = 0; i < bytes.length; i++) {
        merged += String.fromCharCode(old.charCodeAt(offset + i) & bytes.charCodeAt(i) & 255);
      }
      state.files[name] = old.slice(0, offset) + merged + old.slice(offset + bytes.length);
    }
    save();
    return true;
  }

  function read(name, offset, length) {
    const file = state.files[name];
    if (file === undefined) return undefined;
    const start = offset || 0;
    return length > 0 ? file.slice(start, start + length) : file.slice(start);
  }

  function readJSON(name, noExceptions) {
    const text = read(name);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch (err) {
      if (noExceptions) return undefined;
      throw err;
    }
  }

  function open(name, mode) {
    checkName(name, MAX_NAME - 1);
    if (!['r', 'w', 'a'].includes(mode)) throw new Error(`Invalid mode ${mode}`);
    if (mode === 'w' && state.sfiles[name] !== undefined) {
      delete state.sfiles[name];
      save();
    }
    let pos = 0;
    const file = {
      write(data) {
        if (mode === 'r') throw new Error("Can't write in read mode");
        state.sfiles[name] = (state.sfiles[name] || '') + toBytes(data);
        save();
      },
      read(len) {
        const text = state.sfiles[name] || '';
        if (pos >= text.length) return undefined;
        const out = text.slice(pos, pos + len);
        pos += out.length;
        return out;
      },
      readLine() {
        const text = state.sfiles[name] || '';
        if (pos >= text.length) return undefined;
        const end = text.indexOf('\n', pos);
        const stop = end < 0 ? text.length : end + 1;
        const out = text.slice(pos, stop);
        pos = stop;
        return out;
      },
      getLength: () => (state.sfiles[name] || '').length,
      erase() {
        delete state.sfiles[name];
        save();
      },
    };
    return file;
  }

  function list(regex, filter) {
    let names;
    if (filter && filter.sf) names = Object.keys(state.sfiles);
    else {
      names = Object.keys(state.files);
      // A StorageFile is stored in numbered chunks, listed as name + "\1" and so on.
      if (!(filter && filter.sf === false)) {
        names = names.concat(Object.keys(state.sfiles).map((n) => n + '\x01'));
      }
    }
    if (regex) names = names.filter((n) => n.match(regex));
    return names;
  }

  const api = {
    write,
    read,
    readJSON,
    writeJSON: (name, obj) => write(name, JSON.stringify(obj)),
    erase(name) {
      if (name in state.files) {
        delete state.files[name];
        save();
      }
    },
    list,
    open,
    hash(regex) {
      return list(regex).join('\n').length;
    },
    getFree: () => 4 * 1024 * 1024,
    compact() {},
  };

  load();
  return {
    api,
    readJSON: (name) => readJSON(name, true),
    snapshot: () => ({ files: state.files, sfiles: state.sfiles }),
    reload: load,
  };
}

module.exports = { makeStorage };
