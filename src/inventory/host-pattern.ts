import { expandHostRange } from './host-ranges.ts';

// Ansible's parse_address (parsing/utils/addresses.py): `host:port`, `[host]:port`; a bare IPv6 address has
// no port (its colons are the address), so a port on one needs the brackets: `[fd00::1]:2222`.
const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
// what is left must look like a host name, an IPv4 or IPv6 address, any of them with [x:y] ranges
const HOST_LIKE = /^[A-Za-z0-9_\-.:[\]]+$/;

/**
 * The hosts a host entry of an inventory names, and the port it gives them (`web[01:03]:2222`), as Ansible's
 * _expand_hostpattern. Throws Error (message only) on a malformed range.
 */
export function parseHostPattern(written: string): { names: string[]; port?: number } {
  let host = written;
  let port: number | undefined;
  for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = re.exec(host);
    if (m) {
      host = m[1];
      port = Number(m[2]);
    }
  }
  if (port !== undefined && !HOST_LIKE.test(host)) {
    host = written; // not an address with a port: Ansible keeps the entry whole
    port = undefined;
  }
  return { names: expandHostRange(host), ...(port === undefined ? {} : { port }) };
}
