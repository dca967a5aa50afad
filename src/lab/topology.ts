/**
 * The lab's view of an inventory: which hosts to build, their NICs/nets/addresses, and where the jump host listens.
 * Pure: validated from host variables, no side effects (unit-tested).
 *
 * Host variables read:
 *   ansible_host        management address, must be in 198.19.0.0/24 (NIC eth0 on net `mgmt`)
 *   lab_nics            [{name: eth1, net: front, address: 198.18.0.11/24}] (`addresses: [..]` for several; IPv6
 *                       addresses from fd00::/8, ULA, e.g. fd00:18::11/64)
 *   lab_gateway         default gateway, must be inside one of the host's lab_nics subnets; a list for a dual-stack
 *                       host (one address per family: [198.18.1.1, fd00:18:1::1] gives a default route of each)
 *   lab_needs_ipvs      true when the host needs kernel IPVS (decides the VM tier by default)
 *   lab_writable_usr    true: the host gets its own copy-on-write /usr (a package manager can install there);
 *                       default false: /usr is the machine's, read-only
 *   lab_init            plain (default: a reaper as PID 1, daemons by pidfile) or systemd (systemd as PID 1 of the
 *                       host, in its own cgroup and cgroup namespace, like a container)
 *   ansible_ssh_common_args   must contain `-o ProxyJump=USER@127.0.0.1:PORT` (or -J): the lab's jump host
 */
import { createHash } from 'node:crypto';
import { ValidationError, type Location } from '../errors.ts';
import { parseCidr, parseIpv4, sameSubnet } from '../net/ipv4.ts';
import { canonicalIp, ipFamily, parseCidrWithPrefix, sameSubnet as sameSubnetAny } from '../facts/netaddr.ts';
import { proxyJumpFromSshArgs, parseJumpChain } from '../inventory/index.ts';

export const MGMT_NET = 'mgmt';
const MGMT_NIC = 'eth0';
const MGMT_NETWORK = '198.19.0.0';
export const MGMT_PREFIX = 24;
/** the control namespace (jump sshd) sits on the management net at this address */
export const JUMP_ADDRESS = '198.19.0.254';
/** every lab address must be inside this range (RFC 2544 benchmarking space, never routed) */
const LAB_RANGE = { net: '198.18.0.0', prefix: 15 } as const;
/** IPv6 lab addresses: unique local addresses (fd00::/8), never routed; they exist only inside lab namespaces */
const LAB_RANGE6 = { net: 'fd00::', prefix: 8 } as const;

export interface LabNic {
  name: string;
  net: string;
  /** CIDRs, e.g. 198.18.0.11/24 */
  addresses: string[];
}

export interface LabHost {
  name: string;
  /** management address (no prefix) */
  mgmt: string;
  /** eth0 on mgmt first, then lab_nics in order */
  nics: LabNic[];
  /** default gateways, at most one per address family (IPv4 first) */
  gateways: string[];
  needsIpvs: boolean;
  /** its own overlay /usr instead of the machine's read-only one */
  writableUsr: boolean;
  init: 'plain' | 'systemd';
}

export interface LabTopology {
  hosts: LabHost[];
  /** every net, mgmt first */
  nets: string[];
  jump: { user: string; port: number };
  needsIpvs: boolean;
}

export interface HostVarsInput {
  name: string;
  vars: Record<string, unknown>;
  source?: Location;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const NIC_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const NET_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;

/** The first ProxyJump hop of an ssh argument string (`-o ProxyJump=root@127.0.0.1:2222`, `-J …`), if any. */
export function parseJump(args: string): { user: string; host: string; port: number } | undefined {
  try {
    const chain = proxyJumpFromSshArgs(args);
    return chain === undefined ? undefined : parseJumpChain(chain, 'root')[0];
  } catch {
    return undefined;
  }
}

export function topologyFromHosts(hosts: HostVarsInput[], file: string): LabTopology {
  if (hosts.length === 0) {
    throw new ValidationError('the inventory has no hosts: nothing for the lab to build', { file });
  }
  const out: LabHost[] = [];
  const nets: string[] = [MGMT_NET];
  const seenAddr = new Map<string, string>(); // address → host
  let jump: { user: string; port: number } | undefined;

  for (const h of hosts) {
    const loc = (field: string): Location => ({ file, ...h.source, host: h.name, field });
    if (!NAME_RE.test(h.name)) {
      throw new ValidationError(`host name ${JSON.stringify(h.name)} cannot name a lab namespace`, loc('name'),
        'use letters, digits, ".", "_" or "-" (at most 63 characters)');
    }
    const v = h.vars;

    // jump host: same for every host, on loopback
    const args = typeof v.ansible_ssh_common_args === 'string' ? v.ansible_ssh_common_args : '';
    const j = parseJump(args);
    if (!j) {
      throw new ValidationError('no ProxyJump in ansible_ssh_common_args: lab hosts are reached through the lab jump host',
        loc('ansible_ssh_common_args'), 'set ansible_ssh_common_args: "-o ProxyJump=root@127.0.0.1:2222" in all.vars');
    }
    if (j.host !== '127.0.0.1' && j.host !== 'localhost') {
      throw new ValidationError(`the lab jump host must be on 127.0.0.1, not ${j.host}`, loc('ansible_ssh_common_args'),
        'use -o ProxyJump=root@127.0.0.1:PORT');
    }
    if (j.port < 1 || j.port > 65535) {
      throw new ValidationError(`jump port ${j.port} is out of range`, loc('ansible_ssh_common_args'), 'use a free port between 1024 and 65535');
    }
    if (jump && (jump.port !== j.port || jump.user !== j.user)) {
      throw new ValidationError(`host ${h.name} uses jump ${j.user}@127.0.0.1:${j.port}, others use ${jump.user}@127.0.0.1:${jump.port}`,
        loc('ansible_ssh_common_args'), 'one lab has one jump host: set ansible_ssh_common_args once, in all.vars');
    }
    jump ??= { user: j.user, port: j.port };

    // management address
    const mgmt = typeof v.ansible_host === 'string' ? v.ansible_host : undefined;
    if (!mgmt || parseIpv4(mgmt) === undefined || !sameSubnet(mgmt, MGMT_NETWORK, MGMT_PREFIX)) {
      throw new ValidationError(`ansible_host ${JSON.stringify(v.ansible_host ?? null)} is not a lab management address`,
        loc('ansible_host'), `give every lab host an ansible_host in ${MGMT_NETWORK}/${MGMT_PREFIX}, e.g. 198.19.0.11`);
    }
    const last = Number(mgmt.split('.')[3]);
    if (last === 0 || last === 255 || mgmt === JUMP_ADDRESS) {
      throw new ValidationError(`ansible_host ${mgmt} is reserved`, loc('ansible_host'),
        `use 198.19.0.1 … 198.19.0.253 (${JUMP_ADDRESS} is the lab jump host)`);
    }
    claim(seenAddr, mgmt, h.name, loc('ansible_host'));

    const nics: LabNic[] = [{ name: MGMT_NIC, net: MGMT_NET, addresses: [`${mgmt}/${MGMT_PREFIX}`] }];
    const rawNics = v.lab_nics ?? [];
    if (!Array.isArray(rawNics)) {
      throw new ValidationError('lab_nics must be a list', loc('lab_nics'),
        'lab_nics: [{name: eth1, net: front, address: 198.18.0.11/24}]');
    }
    rawNics.forEach((raw, i) => {
      const f = `lab_nics[${i}]`;
      if (!raw || typeof raw !== 'object') throw new ValidationError(`${f} must be a mapping`, loc(f), '{name: eth1, net: front, address: 198.18.0.11/24}');
      const r = raw as Record<string, unknown>;
      const name = r.name;
      const net = r.net;
      if (typeof name !== 'string' || !NIC_RE.test(name)) {
        throw new ValidationError(`${f}.name ${JSON.stringify(name ?? null)} is not an interface name`, loc(`${f}.name`),
          'a name like eth1 (at most 15 characters)');
      }
      if (nics.some((n) => n.name === name)) {
        throw new ValidationError(`${f}: interface ${name} is defined twice${name === MGMT_NIC ? ` (${MGMT_NIC} is the management NIC)` : ''}`,
          loc(`${f}.name`), 'give every NIC of a host its own name (eth1, eth2, …)');
      }
      if (typeof net !== 'string' || !NET_RE.test(net) || net === MGMT_NET) {
        throw new ValidationError(`${f}.net ${JSON.stringify(net ?? null)} is not a usable net name`, loc(`${f}.net`),
          `a short name like front or back (not ${MGMT_NET}, which the lab uses for management)`);
      }
      const list = r.addresses ?? (r.address === undefined ? [] : [r.address]);
      if (!Array.isArray(list)) throw new ValidationError(`${f}.addresses must be a list`, loc(`${f}.addresses`), 'addresses: [198.18.0.11/24, 198.18.0.12/24]');
      const addresses = list.map((a, k) => {
        const c6 = typeof a === 'string' && a.includes(':') ? parseCidrWithPrefix(a) : undefined;
        if (c6) {
          if (c6.prefix === 0 || c6.prefix === 128 || !sameSubnetAny(c6.address, LAB_RANGE6.net, LAB_RANGE6.prefix)) {
            throw new ValidationError(`${f} address ${a} is not a lab IPv6 address`, loc(`${f}.address`),
              `IPv6 lab addresses come from ${LAB_RANGE6.net}/${LAB_RANGE6.prefix} (unique local) with a prefix 1-127, e.g. fd00:18::11/64`);
          }
          claim(seenAddr, c6.address, h.name, loc(`${f}.address`), k);
          return `${c6.address}/${c6.prefix}`;
        }
        const c = typeof a === 'string' ? parseCidr(a) : undefined;
        if (!c || c.prefix === 0) {
          throw new ValidationError(`${f} address ${JSON.stringify(a)} is not a CIDR`, loc(`${f}.address`),
            'write it with its prefix, e.g. 198.18.0.11/24');
        }
        if (!sameSubnet(c.address, LAB_RANGE.net, LAB_RANGE.prefix) || sameSubnet(c.address, MGMT_NETWORK, MGMT_PREFIX)) {
          throw new ValidationError(`${f} address ${a} is outside the lab range`, loc(`${f}.address`),
            `lab addresses come from ${LAB_RANGE.net}/${LAB_RANGE.prefix} (outside the management net ${MGMT_NETWORK}/${MGMT_PREFIX})`);
        }
        claim(seenAddr, c.address, h.name, loc(`${f}.address`), k);
        return `${c.address}/${c.prefix}`;
      });
      if (!nets.includes(net)) nets.push(net);
      nics.push({ name, net, addresses });
    });

    const gateways = labGateways(v.lab_gateway, nics.slice(1), loc('lab_gateway'));
    if (v.lab_writable_usr !== undefined && typeof v.lab_writable_usr !== 'boolean') {
      throw new ValidationError('lab_writable_usr must be true or false', loc('lab_writable_usr'), 'lab_writable_usr: true gives the host its own copy-on-write /usr');
    }
    if (v.lab_init !== undefined && v.lab_init !== 'plain' && v.lab_init !== 'systemd') {
      throw new ValidationError(`lab_init must be plain or systemd, got ${JSON.stringify(v.lab_init)}`, loc('lab_init'), 'lab_init: systemd runs systemd as the host\'s PID 1');
    }
    out.push({ name: h.name, mgmt, nics, gateways, needsIpvs: v.lab_needs_ipvs === true, writableUsr: v.lab_writable_usr === true, init: v.lab_init === 'systemd' ? 'systemd' : 'plain' });
  }
  return { hosts: out, nets, jump: jump!, needsIpvs: out.some((h) => h.needsIpvs) };
}

/**
 * `lab_gateway`: an address or a list of them, at most one per family, each a neighbour on one of the host's lab
 * NICs (the route is added on-link at build time, before the gateway itself may exist: a director's floating DIP).
 */
function labGateways(raw: unknown, nics: LabNic[], loc: Location): string[] {
  if (raw === undefined || raw === null) return [];
  const list = (Array.isArray(raw) ? raw : [raw]).map(String);
  const out = list.map((g) => {
    const fam = ipFamily(g);
    const gw = fam === undefined ? undefined : canonicalIp(g)!;
    const onLink = gw !== undefined && nics.some((n) =>
      n.addresses.some((a) => {
        const c = parseCidrWithPrefix(a)!;
        return c.family === fam && sameSubnetAny(gw, c.address, c.prefix) && gw !== c.address;
      }),
    );
    if (!onLink) {
      throw new ValidationError(`lab_gateway ${g} is not on any of the host's lab_nics subnets`, loc,
        'the gateway must be a neighbour address on one of lab_nics (e.g. the director inner address)');
    }
    return gw;
  });
  for (const fam of [4, 6] as const) {
    if (out.filter((g) => ipFamily(g) === fam).length > 1) {
      throw new ValidationError(`lab_gateway lists ${out.filter((g) => ipFamily(g) === fam).join(' and ')}: one default route per address family`, loc,
        'give at most one IPv4 and one IPv6 gateway, e.g. lab_gateway: [198.18.1.1, fd00:18:1::1]');
    }
  }
  return out.sort((a, b) => ipFamily(a)! - ipFamily(b)!);
}

function claim(seen: Map<string, string>, addr: string, host: string, loc: Location, _k = 0): void {
  const other = seen.get(addr);
  if (other !== undefined && other !== host) {
    throw new ValidationError(`address ${addr} is used by ${other} and ${host}`, loc, 'give every host its own addresses');
  }
  seen.set(addr, host);
}

/** Stable fingerprint of what the lab builds: equal fingerprints mean `lab up` has nothing to do. */
export function topologyHash(t: LabTopology): string {
  return createHash('sha256').update(JSON.stringify(t)).digest('hex').slice(0, 16);
}
