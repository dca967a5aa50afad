/**
 * Golden tests for the keepalived configurations the roles render (test/fixtures/roles/golden/), each also passed
 * through the real `keepalived -t -f FILE` inside a network namespace created here (the config test checks that
 * the VRRP interfaces exist; it parses virtual_server blocks without needing IPVS in the kernel).
 * UPDATE_GOLDEN=1 rewrites the golden files.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import { hostNodeSvc, resolveService } from '../../src/cluster/cluster.ts';
import { directorConfig } from '../../roles/lib/director.ts';
import { renderDirectorConfig, renderNodeSvcMain, renderNodeSvcService } from '../../roles/lib/render.ts';
import type { Service } from '../../src/cluster/schema.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const goldenDir = here('../fixtures/roles/golden');
const update = process.env.UPDATE_GOLDEN === '1';

const cluster = loadInventory(here('../fixtures/roles/cluster.yaml'));
const prod = loadInventory(here('../../inventory/prod.example.yaml'));
const misc = loadInventory(here('../fixtures/roles/misc-check.yaml'));
const tracking = loadInventory(here('../fixtures/roles/tracking.yaml'));
const checks = loadInventory(here('../fixtures/roles/health-checks.yaml'));
const dual = loadInventory(here('../fixtures/roles/ipv6/cluster.yaml'));
const fwmark = loadInventory(here('../fixtures/roles/fwmark.yaml'));
const vsg = loadInventory(here('../fixtures/roles/vsg.yaml'));

const nodeWeb = () => {
  const svc = hostNodeSvc(cluster, 'node1')!.services.find((s) => s.name === 'web')!;
  return renderNodeSvcService('node1', resolveService(cluster, svc as Service, 'node1'));
};

const cases: Array<[string, () => string]> = [
  // the lab's director pair serves NAT, DR and TUN from one keepalived (site.ts: directorDrHa({kinds: all}))
  ['lab-dir1.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(cluster, 'dir1', ['NAT', 'DR', 'TUN'], {}))],
  ['lab-dir2.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(cluster, 'dir2', ['NAT', 'DR', 'TUN'], {}))],
  ['lab-node1-keepalived.conf', () => renderNodeSvcMain('node1', '/etc/keepalived/conf.d')],
  ['lab-node1-conf.d-web.conf', nodeWeb],
  ['prod-lb1.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(prod, 'lb1', ['DR', 'TUN'], {}))],
  ['prod-lb2.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(prod, 'lb2', ['DR', 'TUN'], {}))],
  ['misc-nat2.conf', () => renderDirectorConfig('director-nat', directorConfig(misc, 'nat2', ['NAT'], {}))],
  // every tracker kind: track_interface (the DIP's eth2 by default, eth3 weighted), track_file, track_script, track_process
  ['tracking-t1.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(tracking, 't1', ['DR'], {}))],
  // every health check type (SSL_GET with several URLs, DNS_CHECK, UDP_CHECK, PING_CHECK, FILE_CHECK, MISC_CHECK, the
  // UDP default) and keepalived's LVS/VRRP options (quorum, alpha/omega, inhibit, flags, ops, preempt_delay, garp, sync)
  ['checks-h1.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(checks, 'h1', ['NAT', 'DR'], {}))],
  // dual stack: IPv6 DR/TUN virtual servers (`virtual_server fd00:18::100 80`, IPv6 real servers), an IPv6 VRRP
  // instance per IPv4 one (unicast over IPv6), each pair in a vrrp_sync_group
  ['ipv6-dir1.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(dual, 'dir1', ['NAT', 'DR', 'TUN'], {}))],
  ['ipv6-dir2.conf', () => renderDirectorConfig('director-dr-ha', directorConfig(dual, 'dir2', ['NAT', 'DR', 'TUN'], {}))],
  // fwmark services: `virtual_server fwmark N` for IPv4 DR with persistence and IPv6 NAT (ip_family inet6), real
  // servers at port 0 (each packet keeps its port), checks on the first port or connect_port
  ['fwmark-f1.conf', () => renderDirectorConfig('director', directorConfig(fwmark, 'f1', ['NAT', 'DR', 'TUN'], {}))],
  // virtual_server_group services: `virtual_server_group NAME { VIP PORT ... }` and `virtual_server group NAME`, an
  // IPv4 NAT group of two ports sharing one pool and an IPv6 DR group of two VIPs with persistence
  ['vsg-f1.conf', () => renderDirectorConfig('director', directorConfig(vsg, 'f1', ['NAT', 'DR', 'TUN'], {}))],
];

// one namespace for the config tests, with the interfaces the configs name
const ns = `lvsplay-kt-${process.pid}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-golden-'));

test.before(() => {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
  execFileSync('ip', ['-n', ns, 'link', 'add', 'eth2', 'type', 'veth', 'peer', 'name', 'eth3']);
});

test.after.always(() => {
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * `keepalived -t -f FILE` in the namespace; the file is 0644 as the roles deploy it (keepalived skips an executable
 * one). The track scripts a config names exist (root-owned, 0700, as the role writes them) on a tmpfs over
 * /etc/keepalived in a mount namespace of its own: the machine's /etc is not touched.
 */
function configTest(file: string): { status: number | null; output: string } {
  chmodSync(file, 0o644);
  const scripts = [...readFileSync(file, 'utf8').matchAll(/script "(\/etc\/keepalived\/scripts\/[A-Za-z0-9_.-]+\.sh)"/g)].map((m) => m[1]!);
  const setup = [
    'mkdir -p /etc/keepalived && mount -t tmpfs lvsplay-kt /etc/keepalived && mkdir -m 0755 /etc/keepalived/scripts',
    ...scripts.map((p) => `printf '#!/bin/sh\\nexit 0\\n' > ${p} && chmod 0700 ${p}`),
    `exec ip netns exec ${ns} keepalived -t -f ${file}`,
  ].join(' && ');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', setup], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

for (const [name, render] of cases) {
  test.serial(`${name}: matches the golden file and passes keepalived -t`, (t) => {
    const text = render();
    const golden = path.join(goldenDir, name);
    if (update || !existsSync(golden)) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(golden, text);
      if (!update) t.fail(`golden file ${golden} did not exist: written, review and re-run`);
    }
    t.is(text, readFileSync(golden, 'utf8'));
    let file = path.join(tmp, name);
    if (name === 'lab-node1-keepalived.conf') {
      // test the include for real: conf.d in a temp dir holding the service file
      const confDir = path.join(tmp, 'conf.d');
      mkdirSync(confDir, { recursive: true });
      writeFileSync(path.join(confDir, 'web.conf'), nodeWeb());
      writeFileSync(file, text.replace('include /etc/keepalived/conf.d/*.conf', `include ${confDir}/*.conf`));
    } else {
      writeFileSync(file, text);
    }
    const r = configTest(file);
    t.is(r.status, 0, `keepalived -t -f ${file} failed:\n${r.output}`);
    t.notRegex(r.output, /WARNING|unknown keyword|SECURITY VIOLATION/i, r.output);
  });
}

test.serial('keepalived -t rejects a broken config (the check can fail)', (t) => {
  const file = path.join(tmp, 'broken.conf');
  writeFileSync(file, readFileSync(path.join(goldenDir, 'lab-dir1.conf'), 'utf8').replace('interface eth1', 'interface eth9'));
  t.not(configTest(file).status, 0);
});
