/**
 * The benchmark fleet: N plain real-server hosts with one front NIC each. Written twice: as the lab topology /
 * lvsplay inventory (jump port, lab key and known_hosts) and as an Ansible inventory (same hosts and variables;
 * Ansible reaches them through the lab's ssh_config, see ansible.ts).
 */
import { stringify } from 'yaml';
import { BENCH_NIC, BENCH_VIP } from './config.ts';
import { MAX_HOSTS } from './options.ts';

export interface BenchHost {
  name: string;
  /** management address (ansible_host) */
  mgmt: string;
  /** front NIC address with prefix */
  front: string;
}

/** rs001 … rsN: mgmt 198.19.0.(10+i), front 198.18.0.(10+i)/24 (below the VIP .250). */
export function benchHosts(n: number): BenchHost[] {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new RangeError(`bench fleet size ${n}: must be 1..${MAX_HOSTS}`);
  return Array.from({ length: n }, (_, k) => {
    const i = k + 1;
    return { name: `rs${String(i).padStart(3, '0')}`, mgmt: `198.19.0.${10 + i}`, front: `198.18.0.${10 + i}/24` };
  });
}

/**
 * ansible_timeout (SSH connect timeout, both tools read it): 60 s instead of the default 10. With 50 hosts on a busy
 * 2-core machine, Ansible's per-host ProxyJump connections timed out "during banner exchange" at 10 s and the run
 * failed; lvsplay gets the same setting.
 */
export const CONNECT_TIMEOUT_S = 60;

const benchVars = { ansible_timeout: CONNECT_TIMEOUT_S, bench_vip: BENCH_VIP, bench_nic: BENCH_NIC };

export interface LabAccess {
  jumpPort: number;
  key: string;
  knownHosts: string;
}

/** The lab topology, which is also lvsplay's inventory. */
export function labInventoryYaml(hosts: BenchHost[], a: LabAccess): string {
  const doc = {
    all: {
      vars: {
        ansible_user: 'root',
        ansible_ssh_private_key_file: a.key,
        lvsplay_known_hosts: a.knownHosts,
        ansible_ssh_common_args: `-o ProxyJump=root@127.0.0.1:${a.jumpPort}`,
        ...benchVars,
      },
      hosts: Object.fromEntries(
        hosts.map((h) => [h.name, { ansible_host: h.mgmt, lab_nics: [{ name: BENCH_NIC, net: 'front', address: h.front }] }]),
      ),
    },
  };
  return `# lvsplay bench: ${hosts.length} real servers (generated)\n${stringify(doc)}`;
}

/** The same hosts for ansible-playbook: no ProxyJump here, the ssh_args in ansible.cfg give `-F LAB/ssh_config`. */
export function ansibleInventoryYaml(hosts: BenchHost[]): string {
  const doc = {
    all: {
      vars: { ansible_user: 'root', ...benchVars },
      hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.mgmt }])),
    },
  };
  return `# lvsplay bench: ${hosts.length} real servers for Ansible (generated)\n${stringify(doc)}`;
}
