// @ts-check
// Bundled in place of docker-modem's `./ssh`: docker-modem loads its ssh agent, and with
// it ssh2 (~30 ms), at start-up, though only an ssh:// DOCKER_HOST ever uses it.
/** @param {unknown} options */
module.exports = function lazySshAgent(options) {
  return require('docker-modem/lib/ssh.js')(options);
};
