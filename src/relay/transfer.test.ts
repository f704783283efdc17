import { describe, expect, it } from 'vitest';
import { noRouteToNetwork } from './transfer.js';

describe('noRouteToNetwork', () => {
  it("reads OpenSSH's ENETUNREACH line, and nothing that is about one host alone", () => {
    // As ssh (OpenSSH 9.2, Debian 12) prints it when the source has no route to the address.
    expect(noRouteToNetwork(255, 'ssh: connect to host 10.77.0.221 port 22: Network is unreachable')).toBe(true);
    expect(noRouteToNetwork(255, 'ssh: connect to host fd00::5 port 2222: Network is unreachable\n')).toBe(true);
    // A firewall's reject, a host that is down, a refused port: that host only.
    expect(noRouteToNetwork(255, 'ssh: connect to host 10.77.0.9 port 22: No route to host')).toBe(false);
    expect(noRouteToNetwork(255, 'ssh: connect to host 10.77.0.9 port 22: Connection timed out')).toBe(false);
    expect(noRouteToNetwork(255, 'ssh: connect to host 10.77.0.9 port 22: Connection refused')).toBe(false);
    // Anything the remote end said, however worded, is not ssh's connect().
    expect(noRouteToNetwork(1, 'ssh: connect to host 10.77.0.221 port 22: Network is unreachable')).toBe(false);
  });
});
