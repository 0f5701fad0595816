#!/usr/bin/env node
// @ts-check
// Makes an ed25519 key pair for signing mini payloads:
//   scripts/make-signing-key DIR   → DIR/signing-key.pem (private, 0600), DIR/signing-key.pub.pem
// Keep the private key out of the repository (CI secret, or a file only the publisher reads);
// publish tiny with --trust-key DIR/signing-key.pub.pem and mini with --signing-key DIR/signing-key.pem.
'use strict';
const { generateKeyPairSync } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: scripts/make-signing-key DIR\n');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privatePath = path.join(dir, 'signing-key.pem');
fs.writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
fs.writeFileSync(path.join(dir, 'signing-key.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }), {
  flag: 'wx',
});
process.stdout.write(`${privatePath}\n`);
