/**
 * A planned handover of a VRRP instance in a sync group, on tier 1 (real keepalived VRRP in namespaces, no IPVS):
 * VI_1 and VI_3 in sync group G_1, rendered as the director roles render one (each member tracks every member's
 * handover file, `sync_group_tracking_weight`). `lvsplay handover VI_1` must move both VIPs to dir2 with dir1
 * still BACKUP, never FAULT (the earlier rendering, weight 0, put the group in FAULT), and `--back` returns both.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useLab } from '../helpers/lab.ts';
import { lvsplay } from '../helpers/cli.ts';
import { startVrrpPair } from '../helpers/vrrp-pair.ts';

const dir = mkdtempSync(join(tmpdir(), 'lvsplay-syncgroup-'));
const topology = join(dir, 'pair.yaml');
writeFileSync(
  topology,
  `all:
  vars:
    ansible_user: root
    ansible_ssh_common_args: -o ProxyJump=root@127.0.0.1:2299
  children:
    directors:
      vars:
        lvs_vrrp:
          instances:
            - { name: VI_1, interface: eth1, virtual_router_id: 51, unicast: true, advert_int: 1, priorities: { dir1: 150, dir2: 100 }, vips: [198.18.0.100/32] }
            - { name: VI_3, interface: eth1, virtual_router_id: 53, unicast: true, advert_int: 1, priorities: { dir1: 150, dir2: 100 }, vips: [198.18.0.103/32] }
          sync_groups:
            - { name: G_1, instances: [VI_1, VI_3] }
      hosts:
        dir1: { ansible_host: 198.19.0.11, lab_nics: [{ name: eth1, net: front, address: 198.18.0.11/24 }] }
        dir2: { ansible_host: 198.19.0.12, lab_nics: [{ name: eth1, net: front, address: 198.18.0.12/24 }] }
`,
);
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const lab = useLab(test, { topology });

const vips = async (host: string) => (await lab().ssh(host, 'ip -4 -o addr show dev eth1')).stdout.match(/198\.18\.0\.10[03]/g)?.sort().join(' ') ?? '';
/** keepalived's own view of its instances (SIGUSR1 data dump): "VI_1=BACKUP VI_3=BACKUP" */
const states = async (host: string) => {
  const r = await lab().ssh(host, 'rm -f /tmp/keepalived.data; kill -USR1 $(cat /run/keepalived.pid); sleep 1; grep -E "^ VRRP Instance|^   State" /tmp/keepalived.data');
  const out: string[] = [];
  let name = '';
  for (const l of r.stdout.split('\n')) {
    const i = /VRRP Instance = (\S+)/.exec(l);
    if (i) name = i[1]!;
    // the instance's own state is its first State line (tracked objects' states follow, indented deeper)
    const s = /^ {3}State = (\S+)$/.exec(l);
    if (s && name) {
      out.push(`${name}=${s[1]}`);
      name = '';
    }
  }
  return out.sort().join(' ');
};
const until = async (what: () => Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 500));
  }
  return true;
};

test.serial('lvsplay handover VI_1 moves its whole sync group to dir2 (dir1 BACKUP, not FAULT); --back returns both VIPs', async (t) => {
  await startVrrpPair(lab().ssh, { syncGroup: true });
  t.true(await until(async () => (await vips('dir1')) === '198.18.0.100 198.18.0.103'), 'dir1 holds both VIPs at the start');
  const r = await lvsplay(['handover', 'VI_1', '-i', lab().inventory]);
  t.log(r.stdout);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.true(await until(async () => (await vips('dir2')) === '198.18.0.100 198.18.0.103' && (await vips('dir1')) === ''), `dir2 holds both VIPs (dir1: ${await vips('dir1')}, dir2: ${await vips('dir2')})`);
  t.is(await states('dir1'), 'VI_1=BACKUP VI_3=BACKUP', 'the handed-over group is BACKUP on dir1, not FAULT');
  t.is(await states('dir2'), 'VI_1=MASTER VI_3=MASTER');
  const b = await lvsplay(['handover', '--back', '-i', lab().inventory]);
  t.is(b.code, 0, b.stdout + b.stderr);
  t.true(await until(async () => (await vips('dir1')) === '198.18.0.100 198.18.0.103' && (await vips('dir2')) === ''), 'both VIPs back on dir1');
  t.is((await lab().ssh('dir1', 'ls /etc/keepalived/handover | wc -l')).stdout.trim(), '0');
});
