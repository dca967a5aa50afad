/** keepalived VRRP: every served VIP held by an instance, members that agree, unique VRIDs, elections that can move. */
import { hostNics, hostVrrp, serviceVips, vrrpInstancesOf } from '../cluster.ts';
import { networkOf } from '../../facts/netaddr.ts';
import { parseVrrpVip, type VrrpInstance } from '../schema.ts';
import { add, directorUsages, serviceIndex, type RuleContext } from './context.ts';

/** keepalived must hold every VIP: each served VIP is a VRRP VIP of an instance the director is a member of. */
export function checkVipsHeld(c: RuleContext): void {
  for (const d of directorUsages(c)) {
    const held = new Set(vrrpInstancesOf(c.inv, d.host).flatMap((i) => i.vips.map((v) => v.address)));
    for (const s of d.services) {
      for (const vip of serviceVips(s)) {
        if (held.has(vip)) continue;
        add(c, d.host, `lvs_services[${serviceIndex(c.inv, d.host, s)}].${s.virtual_server_group ? 'virtual_server_group' : 'vip'}`,
          `service ${s.name}: VIP ${vip} is not a VIP of any VRRP instance ${d.host} is a member of`,
          `add ${vip} to the vips of an lvs_vrrp instance whose priorities list ${d.host} (a single director may be an instance's only member)`, 'lvs_services');
      }
    }
  }
}

export function checkVrrp(c: RuleContext, hosts: Set<string>): void {
  // each member's own view of each instance it is listed in
  type View = { host: string; vrid: number; auth?: string; vips: string; iface: string; network: string; priorities: Record<string, number>; index: number };
  const byName = new Map<string, View[]>();
  const listedMembers = new Map<string, Set<string>>();
  for (const h of hosts) {
    const v = hostVrrp(c.inv, h);
    if (!v) continue;
    v.instances.forEach((i, index) => {
      for (const m of Object.keys(i.priorities)) {
        if (!c.inv.hosts.has(m)) {
          add(c, h, `lvs_vrrp.instances[${index}].priorities.${m}`, `VRRP instance ${i.name}: "${m}" is not a host of the inventory`, 'priorities are keyed by inventory host names of the directors', 'lvs_vrrp');
        }
        const set = listedMembers.get(i.name) ?? new Set();
        set.add(m);
        listedMembers.set(i.name, set);
      }
      if (i.priorities[h] === undefined) return;
      // VRRP over IPv6 is a protocol of its own (its router ids do not clash with IPv4's): the network of its family
      const family = parseVrrpVip(i.vips[0]!)!.family;
      const nic = hostNics(c.inv, h).find((n) => n.name === i.interface && n.family === family);
      const network = nic ? networkOf(nic) : `interface ${i.interface}`;
      const view: View = {
        host: h, vrid: i.virtual_router_id, auth: i.auth_pass, iface: i.interface, network, priorities: i.priorities, index,
        vips: i.vips.map((x) => { const p = parseVrrpVip(x)!; return `${p.address}/${p.prefix}${p.dev ? ` dev ${p.dev}` : ''}`; }).sort().join(' '),
      };
      byName.set(i.name, [...(byName.get(i.name) ?? []), view]);
      if (i.unicast && !nic) {
        add(c, h, `lvs_vrrp.instances[${index}].interface`, `VRRP instance ${i.name} is unicast but ${h} has no ${family === 6 ? 'IPv6 ' : ''}address on ${i.interface} in the inventory`,
          `add {name: ${i.interface}, address: CIDR} to ${h}'s lvs_nics so the source and peer addresses are known`, 'lvs_vrrp');
      }
    });
    // sync groups and the sync daemon refer to instances this host runs
    const mine = new Set(v.instances.filter((i) => i.priorities[h] !== undefined).map((i) => i.name));
    v.sync_groups.forEach((g, gi) => {
      g.instances.forEach((n, k) => {
        if (!v.instances.some((i) => i.name === n)) {
          add(c, h, `lvs_vrrp.sync_groups[${gi}].instances[${k}]`, `sync group ${g.name}: no VRRP instance named ${n}`, `define ${n} in lvs_vrrp.instances or remove it from the group`, 'lvs_vrrp');
        }
      });
      const members = g.instances.filter((n) => mine.has(n));
      if (members.length > 0 && members.length < g.instances.length) {
        add(c, h, `lvs_vrrp.sync_groups[${gi}]`, `sync group ${g.name}: ${h} is a member of ${members.join(', ')} but not of ${g.instances.filter((n) => !mine.has(n)).join(', ')}`,
          'every director of a sync group must be a member of all its instances', 'lvs_vrrp');
      }
    });
    if (v.lvs_sync_daemon && !mine.has(v.lvs_sync_daemon.instance) && mine.size > 0) {
      add(c, h, 'lvs_vrrp.lvs_sync_daemon.instance', `lvs_sync_daemon: ${h} is not a member of VRRP instance ${v.lvs_sync_daemon.instance}`,
        'name an instance this director is a member of (its state decides master/backup of the sync daemon)', 'lvs_vrrp');
    }
  }
  for (const [name, views] of byName) {
    // a member listed by one view but missing its own definition
    for (const m of listedMembers.get(name) ?? []) {
      if (hosts.has(m) && !views.some((v) => v.host === m)) {
        add(c, m, 'lvs_vrrp.instances', `VRRP instance ${name} lists ${m} in its priorities, but ${m}'s own lvs_vrrp does not make it a member`,
          `define ${name} for ${m} too (put lvs_vrrp in the directors' group vars so both members read one definition)`, 'lvs_vrrp');
      }
    }
    const first = views[0]!;
    // equal priorities: no deterministic MASTER/BACKUP election
    const prios = Object.entries(first.priorities);
    const dup = prios.find(([m, p]) => prios.some(([m2, p2]) => m2 !== m && p2 === p));
    if (dup) {
      const same = prios.filter(([, p]) => p === dup[1]).map(([m]) => m);
      add(c, first.host, `lvs_vrrp.instances[${first.index}].priorities`, `VRRP instance ${name}: ${same.join(' and ')} have the same priority ${dup[1]}`,
        'give the intended MASTER a higher priority than the BACKUP (e.g. 150 and 100)', 'lvs_vrrp');
    }
    checkTrackWeights(c, first.host, first.index, name, first.priorities, hostVrrp(c.inv, first.host)!.instances[first.index]!);
    for (const v of views.slice(1)) {
      const diffs: string[] = [];
      if (v.vrid !== first.vrid) diffs.push(`virtual_router_id ${first.vrid} on ${first.host}, ${v.vrid} on ${v.host}`);
      if ((v.auth ?? '') !== (first.auth ?? '')) diffs.push(`auth_pass differs between ${first.host} and ${v.host}`);
      if (v.vips !== first.vips) diffs.push(`vips [${first.vips}] on ${first.host}, [${v.vips}] on ${v.host}`);
      if (JSON.stringify(Object.entries(v.priorities).sort()) !== JSON.stringify(Object.entries(first.priorities).sort())) {
        diffs.push(`priorities differ between ${first.host} and ${v.host}`);
      }
      if (diffs.length) {
        add(c, v.host, `lvs_vrrp.instances[${v.index}]`, `the members of VRRP instance ${name} disagree: ${diffs.join('; ')}`,
          'both members need the same virtual_router_id, auth_pass and vips (define the instance once, in the directors\' group vars)', 'lvs_vrrp');
      }
    }
  }
  // a virtual_router_id is unique per L2 segment
  const byNet = new Map<string, Map<number, { name: string; host: string; index: number }>>();
  const reported = new Set<string>();
  for (const [name, views] of byName) {
    for (const v of views) {
      const ids = byNet.get(v.network) ?? new Map();
      const other = ids.get(v.vrid);
      const pairKey = `${v.network} ${v.vrid} ${[other?.name, name].sort().join(' ')}`;
      if (other && other.name !== name && !reported.has(pairKey)) {
        reported.add(pairKey);
        add(c, v.host, `lvs_vrrp.instances[${v.index}].virtual_router_id`,
          `virtual_router_id ${v.vrid} is used by VRRP instances ${other.name} (${other.host}) and ${name} (${v.host}) on the same network ${v.network}`,
          'give every VRRP instance on one network its own virtual_router_id (1-255)', 'lvs_vrrp');
      } else if (!other) ids.set(v.vrid, { name, host: v.host, index: v.index });
      byNet.set(v.network, ids);
    }
  }
}

/**
 * A weighted tracker moves the failing member's priority by |weight|: unless that exceeds the gap between the
 * MASTER's priority and the best BACKUP's, the VIP never moves (and at equal priorities the address decides).
 */
function checkTrackWeights(c: RuleContext, host: string, index: number, name: string, priorities: Record<string, number>, i: VrrpInstance): void {
  const ranked = Object.entries(priorities).sort((a, b) => b[1] - a[1]);
  if (ranked.length < 2) return;
  const [[top, p1], [second, p2]] = [ranked[0]!, ranked[1]!];
  const gap = p1 - p2;
  const trackers: Array<[string, { name: string; weight?: number }[]]> = [
    ['interfaces', i.track.interfaces], ['files', i.track.files], ['scripts', i.track.scripts], ['processes', i.track.processes],
  ];
  for (const [kind, list] of trackers) {
    list.forEach((t, k) => {
      if (t.weight === undefined || t.weight === 0 || Math.abs(t.weight) > gap) return;
      add(c, host, `lvs_vrrp.instances[${index}].track.${kind}[${k}].weight`,
        `VRRP instance ${name}: tracking ${t.name} with weight ${t.weight} can never change mastership: the priority gap between ${top} (${p1}) and ${second} (${p2}) is ${gap}, and |${t.weight}| <= ${gap}`,
        `use a weight beyond the gap (e.g. ${t.weight < 0 ? -(gap + 10) : gap + 10}), or no weight (a failure puts the instance in FAULT)`, 'lvs_vrrp');
    });
  }
}
