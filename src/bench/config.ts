/**
 * The configuration both tools apply in the benchmark (an LVS-DR real server), named once: the lvsplay playbook
 * and the end-state check read it from here; src/bench/ansible/realserver-dr.yml spells the same paths and
 * content out in Ansible's terms (test/bench/bench-pure.test.ts checks that they agree).
 */

/** the VIP every host puts on lo (inside its own network namespace; never routed) */
export const BENCH_VIP = '198.18.0.250';
/** the host NIC facing the director (the lab's front net) */
export const BENCH_NIC = 'eth1';

export const SYSCTL_FILE = '/etc/sysctl.d/90-lvs-realserver-dr.conf';
export const MODULES_FILE = '/etc/modules-load.d/lvs-realserver-dr.conf';
export const RC_LOCAL = '/etc/rc.local';
/** the handler appends one line here each time it runs: exactly one line after a first and a second run */
export const HANDLER_LOG = '/var/log/lvs-bench-handler.log';
export const HANDLER_LINE = 'realserver-dr converged';

/** arp_ignore=1 / arp_announce=2 on all and the front NIC, in this order (the sysctl file lists them so). */
export function arpSysctls(nic: string): Record<string, number> {
  return {
    'net.ipv4.conf.all.arp_ignore': 1,
    'net.ipv4.conf.all.arp_announce': 2,
    [`net.ipv4.conf.${nic}.arp_ignore`]: 1,
    [`net.ipv4.conf.${nic}.arp_announce`]: 2,
  };
}

/**
 * The modules-load.d file. Written as a plain file by both tools: the lab hosts share the machine's kernel, which
 * has no modprobe, so loading a module now (lvsplay's kernelModule, Ansible's modprobe) cannot be benchmarked here.
 */
export const MODULES_CONTENT = '# loaded at boot: LVS-DR real server\nnf_conntrack\n';

/** the rc.local line that restores the VIP at boot */
export const rcLocalLine = (vip: string) => `ip addr replace ${vip}/32 dev lo`;
