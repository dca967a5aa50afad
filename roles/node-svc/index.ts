/**
 * node-svc: kube-proxy-style services (ClusterIP without Kubernetes) on a plain host. The service IPs live on an
 * always-up dummy device (an interface restart would drop them from eth0); an ipset `hash:ip,port` holds
 * VIP,proto:port; nat chains: PREROUTING and OUTPUT (locally originated traffic never passes PREROUTING) jump to
 * SERVICES, which marks packets to a service; POSTROUTING masquerades marked packets; net.ipv4.vs.conntrack=1 or
 * MASQUERADE never sees IPVS traffic. keepalived: a main config with `include conf.d/*.conf` and one
 * health-checked NAT virtual_server file per service (port mapping allowed); SIGHUP on change.
 * Data: lvs_node_svc (see docs/roles.md).
 */
import * as z from 'zod';
import type { ExpandContext, Step } from '../../src/engine/types.ts';
import { address, ipset, iptablesChain, iptablesRule, kernelModule, link, sysctl } from '../../src/steps/index.ts';
import { hostIpvsSysctls, hostNodeSvc, resolveService } from '../../src/cluster/cluster.ts';
import type { LvsRole } from '../../src/cluster/registry.ts';
import { CLUSTER_CHECKS } from '../../src/cluster/rules/index.ts';
import { renderNodeSvcMain, renderNodeSvcService } from '../lib/render.ts';
import { withDrainState } from '../lib/drained.ts';
import { applyDrain } from '../../src/cluster/drain.ts';
import { ipvsSysctlsSchema, type Service } from '../../src/cluster/schema.ts';
import { installSteps, ipvsModuleSteps, ipvsSysctls, keepalivedConfigFile, keepalivedHandlers, keepalivedRunning, pruneConfDir, roleOptions } from '../lib/steps.ts';

const ROLE = 'node-svc';
const chainName = z.string().regex(/^[A-Za-z0-9_-]{1,28}$/);
const schema = z.strictObject({
  /** overrides of lvs_node_svc settings */
  device: z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/).optional(),
  ipset: z.string().regex(/^[A-Za-z0-9_.-]{1,31}$/).optional(),
  chains: z.strictObject({ services: chainName.optional(), mark_masq: chainName.optional(), postrouting: chainName.optional() }).optional(),
  mark: z.string().regex(/^0x[0-9a-fA-F]{1,8}$/).optional(),
  configPath: z.string().regex(/^\/\S+$/).default('/etc/keepalived/keepalived.conf'),
  confDir: z.string().regex(/^\/\S+[^/]$/).default('/etc/keepalived/conf.d'),
  install: z.boolean().default(true),
  /** `net.ipv4.vs.*` sysctls over the defaults every IPVS host gets (expire_nodest_conn, expire_quiescent_template) */
  ipvsSysctls: ipvsSysctlsSchema.optional(),
});

export type NodeSvcOptions = z.input<typeof schema>;

/** The nat-table rules, in order (kube-proxy's shape, names configurable). */
export function nodeSvcRules(chains: { services: string; mark_masq: string; postrouting: string }, set: string, mark: string): Array<[string, string]> {
  return [
    [chains.services, `-m set --match-set ${set} dst,dst -j ${chains.mark_masq}`],
    [chains.mark_masq, `-j MARK --set-xmark ${mark}/${mark}`],
    [chains.postrouting, `-m mark --mark ${mark}/${mark} -j MASQUERADE`],
    ['PREROUTING', `-j ${chains.services}`],
    ['OUTPUT', `-j ${chains.services}`],
    ['POSTROUTING', `-j ${chains.postrouting}`],
  ];
}

export function nodeSvc(options: NodeSvcOptions = {}): LvsRole {
  const o = roleOptions(schema, options, ROLE);
  return {
    role: ROLE,
    nodeServices: true,
    steps(ctx: ExpandContext) {
      const inv = ctx.inventory;
      const host = ctx.host.name;
      // malformed inventory data is left out here and reported by the cluster check (run before any host is touched)
      const data = hostNodeSvc(inv, host);
      if (!data) return []; // reported by the cluster check
      const device = o.device ?? data.device;
      const set = o.ipset ?? data.ipset;
      const chains = { ...data.chains, ...(o.chains ?? {}) };
      const mark = o.mark ?? data.mark;
      const services = data.services.map((s) => resolveService(inv, s as Service, host));
      const vips = [...new Set(services.map((s) => s.service.vip))];
      const fileOf = (name: string) => `${name}.conf`;
      const steps: Step[] = [
        ...(o.install ? installSteps(['keepalived', 'ipvsadm', 'ipset', 'iptables']) : []),
        ...ipvsModuleSteps(services.map((s) => s.service.scheduler), ['nf_conntrack']),
        kernelModule('dummy', { persist: 'lvs-node-svc' }),
        link(device, { type: 'dummy', up: true }),
        ...vips.map((v) => address(device, `${v}/32`)),
        sysctl('90-lvs-node-svc', { ...ipvsSysctls(o.ipvsSysctls ?? hostIpvsSysctls(inv, host)), 'net.ipv4.vs.conntrack': 1, 'net.ipv4.ip_forward': 1 }),
        ipset(set, 'hash:ip,port', { members: services.map((s) => `${s.service.vip},${s.service.protocol.toLowerCase()}:${s.service.port}`) }),
        iptablesChain('nat', chains.services),
        iptablesChain('nat', chains.mark_masq),
        iptablesChain('nat', chains.postrouting),
        ...nodeSvcRules(chains, set, mark).map(([chain, rule]) => iptablesRule('nat', chain, rule)),
        // a real server drained by `lvsplay drain` is rendered at weight 0 (the node's drain state file, a fact)
        ...services.map((s) => withDrainState((d) => keepalivedConfigFile(`${o.confDir}/${fileOf(s.service.name)}`, renderNodeSvcService(host, applyDrain(s, d))))),
        pruneConfDir(o.confDir, services.map((s) => fileOf(s.service.name))),
        keepalivedConfigFile(o.configPath, renderNodeSvcMain(host, o.confDir)),
        ...keepalivedRunning(),
      ];
      return steps;
    },
    checks: CLUSTER_CHECKS,
    handlers: keepalivedHandlers(),
  };
}
