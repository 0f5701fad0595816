import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';

/**
 * Starts `server` listening (on a free port of 127.0.0.1 unless told where) and resolves to its
 * port, or rejects: an address in use must fail the test at once, not leave it waiting.
 */
export function listen(
  server: Server,
  where: { port: number; host: string } | string = { port: 0, host: '127.0.0.1' },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) => reject(error);
    server.once('error', fail);
    const listening = () => {
      server.off('error', fail);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    };
    if (typeof where === 'string') server.listen(where, listening);
    else server.listen(where.port, where.host, listening);
  });
}

/**
 * A port of 127.0.0.1 that is free now, for a program that will listen on it itself (sshd,
 * Jupyter, a registry started again). Chosen below the kernel's ephemeral range: a port from that
 * range can be taken by any outgoing connection on the machine before the program binds it.
 */
export async function freePort(): Promise<number> {
  const low = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .then((text) => Number(text.trim().split(/\s+/)[0]))
    .catch(() => 32768);
  const [from, to] = low > 11000 ? [10000, low - 1] : [61000, 65535];
  for (let attempt = 0; ; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1));
    const server = createServer();
    try {
      await listen(server, { port, host: '127.0.0.1' });
      await new Promise((resolve) => server.close(resolve));
      return port;
    } catch (error) {
      if (attempt >= 50) throw error;
    }
  }
}
