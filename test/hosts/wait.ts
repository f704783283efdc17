import net from 'node:net';
import { sleep } from './exec.js';

/** Resolves once something at address:port answers with an SSH banner. */
export async function waitForSshBanner(address: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    try {
      await readBanner(address, port);
      return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(150);
  }
  throw new Error(`sshd at ${address}:${port} did not answer within ${timeoutMs} ms (${lastError})`);
}

function readBanner(address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    const timer = setTimeout(() => socket.destroy(new Error('banner timeout')), 1000);
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.startsWith('SSH-')) {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error('closed before banner'));
    });
  });
}
