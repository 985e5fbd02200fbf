// Preloaded with `node --require` when the vault is at NAME.vault.localhost and the machine's
// resolver does not answer *.localhost (glibc without systemd-resolved, macOS): inside this Node
// process only, every name under .localhost resolves to 127.0.0.1, as RFC 6761 asks.
"use strict";

const dns = require("node:dns");

const realLookup = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  if (typeof hostname === "string" && hostname.toLowerCase().replace(/\.$/, "").endsWith(".localhost")) {
    if (typeof options === "function") {
      callback = options;
      options = {};
    }
    const all = typeof options === "object" && options !== null && options.all;
    process.nextTick(() => (all ? callback(null, [{ address: "127.0.0.1", family: 4 }]) : callback(null, "127.0.0.1", 4)));
    return {};
  }
  return realLookup.call(this, hostname, options, callback);
};
