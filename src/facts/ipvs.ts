import type { Fact } from '../engine/types.ts';
import { canonicalIp, hostPort } from './netaddr.ts';
import { FactParseError, section, splitSections } from './sections.ts';

export type IpvsMethod = 'nat' | 'dr' | 'tun';
export type IpvsProtocol = 'tcp' | 'udp' | 'sctp';

export interface IpvsRealServer {
  address: string; // canonical IP
  port: number;
  method: IpvsMethod;
  weight: number;
}

export interface IpvsService {
  /** 'tcp:10.0.0.1:80', 'udp:[fd00::1]:53', 'fwmark:4:1' (family:mark) */
  id: string;
  protocol: IpvsProtocol | 'fwmark';
  address?: string;
  port?: number;
  fwmark?: number;
  family: 4 | 6;
  scheduler: string;
  /** persistence timeout in seconds, when persistent */
  persistent?: number;
  /** persistence netmask as ipvsadm prints it (dotted for IPv4, prefix length for IPv6) */
  netmask?: string;
  /** scheduler flags (-b), sorted */
  schedFlags: string[];
  pe?: string;
  onePacket: boolean;
  realServers: IpvsRealServer[];
}

export interface IpvsTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

export type IpvsState =
  | { tool: false }
  | { tool: true; kernel: false; message: string }
  | { tool: true; kernel: true; services: IpvsService[]; timeouts?: IpvsTimeouts };

export function serviceId(s: { protocol: string; address?: string; port?: number; fwmark?: number; family: 4 | 6 }): string {
  if (s.protocol === 'fwmark') return `fwmark:${s.family}:${s.fwmark}`;
  return `${s.protocol}:${hostPort(s.address!, s.port!)}`;
}

/** '10.0.0.1:80' or '[fd00::1]:80' → canonical address and port. */
function parseAddrPort(text: string): { address: string; port: number; family: 4 | 6 } | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const address = canonicalIp(m[1]!);
  if (!address) return undefined;
  return { address, port: Number(m[2]), family: address.includes(':') ? 6 : 4 };
}

const METHOD: Record<string, IpvsMethod> = { '-m': 'nat', '-g': 'dr', '-i': 'tun' };

/**
 * Parse `ipvsadm -Sn` (= `ipvsadm-save -n`): `-A -t VIP:PORT -s SCHED [-b FLAGS] [-p T [-M MASK]] [--pe X] [-o]`
 * and `-a -t VIP:PORT -r RIP:PORT -g|-i|-m -w W [--tun-type …]`; fwmark services use `-f MARK [-6]`.
 */
export function parseIpvsSave(key: string, text: string): IpvsService[] {
  const services = new Map<string, IpvsService>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const w = line.trim().split(/\s+/);
    const cmd = w[0];
    if (cmd !== '-A' && cmd !== '-a') throw new FactParseError(key, `unexpected ipvsadm -S line ${JSON.stringify(line)}`, text);
    let protocol: IpvsService['protocol'] | undefined;
    let vip: ReturnType<typeof parseAddrPort>;
    let fwmark: number | undefined;
    let v6 = false;
    const svc: Partial<IpvsService> = { schedFlags: [], onePacket: false };
    const rs: Partial<IpvsRealServer> = {};
    for (let i = 1; i < w.length; i++) {
      const t = w[i]!;
      const next = () => {
        const v = w[++i];
        if (v === undefined) throw new FactParseError(key, `option ${t} without value in ${JSON.stringify(line)}`, text);
        return v;
      };
      switch (t) {
        case '-t': case '-u': case '--sctp-service': {
          protocol = t === '-t' ? 'tcp' : t === '-u' ? 'udp' : 'sctp';
          vip = parseAddrPort(next());
          if (!vip) throw new FactParseError(key, `bad virtual address in ${JSON.stringify(line)}`, text);
          break;
        }
        case '-f': protocol = 'fwmark'; fwmark = Number(next()); break;
        case '-6': v6 = true; break;
        case '-s': svc.scheduler = next(); break;
        case '-p': svc.persistent = Number(next()); break;
        case '-M': svc.netmask = next(); break;
        case '-b': svc.schedFlags = next().split(',').sort(); break;
        case '--pe': case 'pe': svc.pe = next(); break;
        case '-o': case 'ops': svc.onePacket = true; break;
        case '-r': {
          const r = parseAddrPort(next()) ?? (() => {
            // fwmark services may list real servers without a port
            const a = canonicalIp(w[i]!);
            return a ? { address: a, port: 0, family: (a.includes(':') ? 6 : 4) as 4 | 6 } : undefined;
          })();
          if (!r) throw new FactParseError(key, `bad real server address in ${JSON.stringify(line)}`, text);
          rs.address = r.address;
          rs.port = r.port;
          break;
        }
        case '-m': case '-g': case '-i': rs.method = METHOD[t]; break;
        case '-w': rs.weight = Number(next()); break;
        case '--tun-type': case '--tun-port': case '--tun-nocsum': case '--tun-csum': case '--tun-remcsum':
          if (t === '--tun-type' || t === '--tun-port') next();
          break;
        default:
          throw new FactParseError(key, `unknown ipvsadm -S token ${t} in ${JSON.stringify(line)}`, text);
      }
    }
    if (!protocol) throw new FactParseError(key, `no service in ${JSON.stringify(line)}`, text);
    const family: 4 | 6 = protocol === 'fwmark' ? (v6 ? 6 : 4) : vip!.family;
    const base = protocol === 'fwmark' ? { protocol, fwmark: fwmark!, family } : { protocol, address: vip!.address, port: vip!.port, family };
    const id = serviceId(base);
    if (cmd === '-A') {
      if (!svc.scheduler) throw new FactParseError(key, `service without scheduler in ${JSON.stringify(line)}`, text);
      services.set(id, { ...base, id, scheduler: svc.scheduler, schedFlags: svc.schedFlags!, onePacket: svc.onePacket!, realServers: [],
        ...(svc.persistent !== undefined ? { persistent: svc.persistent } : {}),
        ...(svc.netmask !== undefined ? { netmask: svc.netmask } : {}),
        ...(svc.pe !== undefined ? { pe: svc.pe } : {}) });
    } else {
      const s = services.get(id);
      if (!s) throw new FactParseError(key, `real server before its service in ${JSON.stringify(line)}`, text);
      if (rs.address === undefined || !rs.method) throw new FactParseError(key, `incomplete real server ${JSON.stringify(line)}`, text);
      s.realServers.push({ address: rs.address, port: rs.port!, method: rs.method, weight: rs.weight ?? 1 });
    }
  }
  return [...services.values()];
}

/** Parse `ipvsadm -Ln --timeout`: "Timeout (tcp tcpfin udp): 900 120 300". */
function parseIpvsTimeouts(text: string): IpvsTimeouts | undefined {
  const m = /Timeout \(tcp tcpfin udp\):\s*(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  return m ? { tcp: Number(m[1]), tcpfin: Number(m[2]), udp: Number(m[3]) } : undefined;
}

/** The whole IPVS table and the connection timeouts. Reports a kernel without IPVS instead of failing. */
export const ipvsFact: Fact<IpvsState> = {
  key: 'ipvs',
  command: [
    `if ! command -v ipvsadm >/dev/null 2>&1; then echo @@notool`,
    // ipvsadm would make the kernel autoload ip_vs: a fact must not change the host (--check changes nothing)
    `elif [ ! -e /proc/net/ip_vs ]; then echo '@@error notloaded'; echo 'the ip_vs module is not loaded (/proc/net/ip_vs is absent)'`,
    `elif out=$(ipvsadm -Sn 2>&1); then echo @@rules; printf '%s\\n' "$out"; echo @@timeouts; ipvsadm -Ln --timeout 2>&1`,
    `else echo "@@error $?"; printf '%s\\n' "$out"; fi`,
  ].join('\n'),
  parse(stdout): IpvsState {
    const s = splitSections(stdout);
    if (section(s, 'notool')) return { tool: false };
    const err = section(s, 'error');
    if (err) return { tool: true, kernel: false, message: err.lines.join(' ').trim() };
    const rules = section(s, 'rules');
    if (!rules) throw new FactParseError('ipvs', 'no @@rules section', stdout);
    const timeouts = parseIpvsTimeouts(section(s, 'timeouts')?.lines.join('\n') ?? '');
    return { tool: true, kernel: true, services: parseIpvsSave('ipvs', rules.lines.join('\n')), ...(timeouts ? { timeouts } : {}) };
  },
};
