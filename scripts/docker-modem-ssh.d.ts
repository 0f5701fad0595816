// docker-modem ships no types; scripts/lazy-ssh.cjs loads its ssh agent factory.
declare module 'docker-modem/lib/ssh.js' {
  function createSshAgent(options: unknown): unknown;
  export = createSshAgent;
}
