// The benchmark's pure parts: options, fleet, recap parsing, medians and the table, end-state checks, and that the
// Ansible playbook names the same files and content as the lvsplay side (src/bench/config.ts).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseBenchArgs } from '../../src/bench/options.ts';
import { benchHosts, labInventoryYaml, ansibleInventoryYaml } from '../../src/bench/topology.ts';
import { ansibleConfig, parseAnsibleRecap, ANSIBLE_PLAYBOOK } from '../../src/bench/ansible.ts';
import { median, summarize, markdownTable, toolOrder, type RepSample } from '../../src/bench/report.ts';
import { endStateProblems, compareEndStates, sections } from '../../src/bench/end-state.ts';
import { parseTimes } from '../../src/bench/measure.ts';
import { arpSysctls, BENCH_NIC, BENCH_VIP, HANDLER_LINE, HANDLER_LOG, MODULES_CONTENT, MODULES_FILE, SYSCTL_FILE } from '../../src/bench/config.ts';
import { UsageError } from '../../src/errors.ts';

test('options: defaults, lists, bad values', (t) => {
  t.like(parseBenchArgs([]), { hosts: [5, 20, 50], reps: 3, out: 'bench/results.json' });
  t.like(parseBenchArgs(['--hosts', '2,10', '--reps', '1']), { hosts: [2, 10], reps: 1 });
  for (const bad of [['--hosts', '0'], ['--hosts', 'five'], ['--hosts', '201'], ['--reps', '0'], ['--hosts', ','], ['--frobs']]) {
    t.throws(() => parseBenchArgs(bad), { instanceOf: UsageError }, bad.join(' '));
  }
});

test('fleet: unique addresses, lab inventory with jump and key, ansible inventory without ProxyJump', (t) => {
  const hosts = benchHosts(200);
  t.is(new Set(hosts.map((h) => h.mgmt)).size, 200);
  t.false(hosts.some((h) => h.front.startsWith(`${BENCH_VIP}/`)), 'the VIP is no host address');
  t.is(hosts[0]!.name, 'rs001');
  const lab = parse(labInventoryYaml(hosts.slice(0, 2), { jumpPort: 4242, key: '/k', knownHosts: '/kh' }));
  t.is(lab.all.vars.ansible_ssh_common_args, '-o ProxyJump=root@127.0.0.1:4242');
  t.deepEqual(lab.all.hosts.rs002.lab_nics, [{ name: BENCH_NIC, net: 'front', address: '198.18.0.12/24' }]);
  const an = parse(ansibleInventoryYaml(hosts.slice(0, 2)));
  t.is(an.all.vars.ansible_ssh_common_args, undefined);
  t.is(an.all.hosts.rs001.ansible_host, '198.19.0.11');
  t.is(an.all.vars.ansible_timeout, lab.all.vars.ansible_timeout, 'both tools get the same connect timeout');
  t.throws(() => benchHosts(0));
});

test('ansible.cfg has the speed settings; PLAY RECAP is parsed', (t) => {
  const o = { forks: 50, sshConfig: '/lab/ssh_config', controlDir: '/tmp/lvb-x', localTmp: '/tmp/t' };
  const cfg = ansibleConfig({ ...o, flavour: 'ansible' });
  for (const re of [/^forks = 50$/m, /^pipelining = True$/m, /ControlPersist=60s/, /^gathering = explicit$/m, /-F \/lab\/ssh_config/]) t.regex(cfg, re);
  t.notRegex(cfg, /strategy/);
  // mitogen: the same settings plus its strategy from Debian's ansible-mitogen
  const mit = ansibleConfig({ ...o, flavour: 'ansible_mitogen' });
  t.is(mit.replace(/^strategy.*\n/gm, ''), cfg);
  t.regex(mit, /^strategy_plugins = \/usr\/lib\/python3\/dist-packages\/ansible_mitogen\/plugins\/strategy$/m);
  t.regex(mit, /^strategy = mitogen_linear$/m);
  const out = `PLAY RECAP ****\nrs001                      : ok=7    changed=7    unreachable=0    failed=0    skipped=0\nrs002 : ok=1 changed=0 unreachable=1 failed=0\n\n`;
  const r = parseAnsibleRecap(`TASK [x]\nchanged: [rs001]\n\n${out}`);
  t.deepEqual(r.get('rs001'), { ok: 7, changed: 7, unreachable: 0, failed: 0 });
  t.is(r.get('rs002')!.unreachable, 1);
  t.is(parseAnsibleRecap('no recap').size, 0);
});

test('the Ansible playbook spells the same paths and content as the lvsplay side', (t) => {
  const yml = readFileSync(ANSIBLE_PLAYBOOK, 'utf8');
  const play = parse(yml)[0];
  t.false(play.gather_facts);
  const tasks = play.tasks as Array<Record<string, any>>;
  const copy = (dest: string) => tasks.find((x) => x['ansible.builtin.copy']?.dest === dest)?.['ansible.builtin.copy'];
  const sysctlContent = copy(SYSCTL_FILE).content.replaceAll('{{ bench_nic }}', BENCH_NIC);
  t.is(sysctlContent, `# managed by lvsplay: changes here are overwritten\n${Object.entries(arpSysctls(BENCH_NIC)).map(([k, v]) => `${k} = ${v}\n`).join('')}`);
  t.is(copy(MODULES_FILE).content, MODULES_CONTENT);
  t.true(yml.includes(`${HANDLER_LINE}' >> ${HANDLER_LOG}`));
  t.true(yml.includes(`sysctl -p ${SYSCTL_FILE}`));
});

test('median and the table', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 2, 3]), 2.5);
  t.throws(() => median([]));
  const phases = { startup_s: 0.1, connect_s: 0.5, facts_s: 0.3, apply_s: 0.2 };
  const rep = (r: number, l: number, a: number, m: number): RepSample => ({
    hosts: 5,
    rep: r,
    order: toolOrder(r - 1),
    lvsplay: { first: { wall_s: l, cpu_s: 1, peak_mb: 80, roundTrips: 2, phases }, second: { wall_s: l / 2, cpu_s: 1, peak_mb: 70, roundTrips: 1, phases } },
    ansible: { first: { wall_s: a, cpu_s: 3, peak_mb: 300 }, second: { wall_s: a / 2, cpu_s: 3, peak_mb: 300 } },
    ansible_mitogen: { first: { wall_s: m, cpu_s: 2, peak_mb: 200 }, second: { wall_s: m / 2, cpu_s: 2, peak_mb: 200 } },
    floor: { wall_s: 1, cpu_s: 0.5, peak_mb: 50, ssh_s: 0.2 },
  });
  const rows = summarize([rep(1, 2, 10, 12), rep(2, 4, 30, 18), rep(3, 3, 20, 15)]);
  t.is(rows.length, 2);
  // best = the faster Ansible of the cell: here plain Ansible on the first run is slower (20) than mitogen (15)
  t.like(rows[0], { hosts: 5, run: 'first', lvsplay_s: 3, ansible_s: 20, ansible_mitogen_s: 15, ratio: 6.67, ratio_best: 5, roundTrips: 2, floor_s: 1, lvsplay_floor: 3, reps: 3 });
  t.like(rows[0], { lvsplay_mb: 80, ansible_mb: 300, ansible_mitogen_mb: 200, lvsplay_phases: phases });
  t.like(rows[1], { run: 'second', lvsplay_s: 1.5, ansible_s: 10, ansible_mitogen_s: 7.5, ratio_best: 5, roundTrips: 1 });
  const md = markdownTable(rows);
  t.regex(md, /^\| hosts \| run \| lvsplay s \| ansible s \| mitogen s \| best\/lvsplay \|/);
  t.regex(md, /\| 5 \| first \| 3\.00 \| 20\.00 \| 15\.00 \| 5\.00× \| 1\.00 \| 3\.00 \| 2\.00 \| 80 \| 300 \| 200 \| 2 \| 1\.00 \| 3\.00× \| 0\.10 \/ 0\.50 \/ 0\.30 \/ 0\.20 \|$/m);
  // every tool goes first once in three repetitions
  t.deepEqual([0, 1, 2].map((i) => toolOrder(i)[0]), ['lvsplay', 'ansible', 'ansible_mitogen']);
});

const good = (vip = BENCH_VIP) => `== ${SYSCTL_FILE}
644 root root
# managed by lvsplay: changes here are overwritten
${Object.entries(arpSysctls(BENCH_NIC)).map(([k, v]) => `${k} = ${v}`).join('\n')}
== ${MODULES_FILE}
644 root root
${MODULES_CONTENT}== /etc/rc.local
755 root root
#!/bin/sh
# BEGIN lvsplay managed block
ip addr replace ${vip}/32 dev lo
# END lvsplay managed block
== ${HANDLER_LOG}
644 root root
${HANDLER_LINE}
== sysctl
${Object.entries(arpSysctls(BENCH_NIC)).map(([k, v]) => `${k} = ${v}`).join('\n')}
== lo
lo inet 127.0.0.1/8 scope host lo
lo inet ${vip}/32 scope global lo
`;

test('end state: the wanted state passes, each kind of wrong state is named', (t) => {
  t.deepEqual(endStateProblems(good(), BENCH_VIP, BENCH_NIC), []);
  t.is(sections(good()).get('lo'), `lo inet 127.0.0.1/8 scope host lo\nlo inet ${BENCH_VIP}/32 scope global lo\n`);
  const cases: Array<[string, string, RegExp]> = [
    ['handler twice', good().replace(`${HANDLER_LINE}\n`, `${HANDLER_LINE}\n${HANDLER_LINE}\n`), /handler ran 2 times/],
    ['rc.local not executable', good().replace('755 root root', '644 root root'), /rc\.local: mode\/owner/],
    ['live sysctl', good().replace(/(== sysctl\n(?:.*\n)*?net\.ipv4\.conf\.all\.arp_ignore = )1/, '$10'), /live sysctl net\.ipv4\.conf\.all\.arp_ignore is not 1/],
    ['no VIP', good().replace(/lo inet 198\.18\.0\.250.*\n/, ''), /is not on lo/],
    ['no modules file', good().replace(/(== \/etc\/modules-load\.d\/.*\n)[\s\S]*?(== \/etc\/rc\.local)/, '$1absent\n$2'), /modules-load.*missing/],
  ];
  for (const [name, snap, re] of cases) {
    const p = endStateProblems(snap, BENCH_VIP, BENCH_NIC);
    t.true(p.some((x) => re.test(x)), `${name}: ${p.join('; ')}`);
  }
});

test('end states of the two tools are compared host by host', (t) => {
  const a = new Map([['rs001', good()], ['rs002', good()]]);
  t.deepEqual(compareEndStates(a, new Map(a), ['x', 'y']), []);
  const b = new Map([['rs001', good()], ['rs002', good().replace('scope global', 'scope host')]]);
  const d = compareEndStates(a, b, ['after lvsplay', 'after ansible-playbook']);
  t.is(d.length, 1);
  t.regex(d[0]!, /^rs002: end states differ\n--- after lvsplay/);
  t.is(compareEndStates(a, new Map([['rs001', good()]]), ['x', 'y']).length, 1, 'a missing host is a difference');
});

test('times output of the fallback wrapper', (t) => {
  t.is(parseTimes('0m0.010000s 0m0.000000s\n1m1.500000s 0m0.250000s\n'), 61.75);
  t.throws(() => parseTimes('garbage'));
});

test('checkEndStates: a wrong or unequal end state voids the run, loudly', async (t) => {
  const { checkEndStates } = await import('../../src/bench/bench.ts');
  const { BenchError } = await import('../../src/bench/ansible.ts');
  const ok = new Map([['rs001', good()]]);
  t.notThrows(() => checkEndStates({ lvsplay: ok, ansible: new Map(ok), ansible_mitogen: new Map(ok) }, ['rs001']));
  const m = t.throws(() => checkEndStates({ lvsplay: ok, ansible: new Map(ok), ansible_mitogen: new Map([['rs001', good().replace('#!/bin/sh\n', '')]]) }, ['rs001']));
  t.regex(m!.message, /ansible_mitogen on rs001: .*rc\.local/);
  t.regex(m!.message, /after ansible-playbook \+ mitogen/);
  const e = t.throws(() => checkEndStates({ lvsplay: ok, ansible: new Map([['rs001', good().replace('#!/bin/sh\n', '')]]) }, ['rs001']), { instanceOf: BenchError });
  t.regex(e!.message, /END STATES WRONG OR DIFFERENT/);
  t.regex(e!.message, /ansible on rs001: \/etc\/rc\.local: does not start with #!\/bin\/sh/);
  t.regex(e!.message, /rs001: end states differ/);
  t.throws(() => checkEndStates({ lvsplay: ok, ansible: new Map() }, ['rs001']), { message: /ansible: no end state from rs001/ });
});

test('lvsplay phases: consecutive milestones, adding up to the engine time', async (t) => {
  const { phaseTimes } = await import('../../src/engine/phases.ts');
  t.deepEqual(phaseTimes(100, { connected: 400, facts: 600, applied: 900 }, 950), { startupMs: 100, connectMs: 300, factsMs: 200, applyMs: 300, verifyMs: 50 });
  // a run where nothing reached a phase (no hosts, --check) never goes negative
  t.deepEqual(phaseTimes(100, { connected: 100, facts: 100, applied: 100 }, 100), { startupMs: 100, connectMs: 0, factsMs: 0, applyMs: 0, verifyMs: 0 });
  t.deepEqual(phaseTimes(100, { connected: 500, facts: 300, applied: 200 }, 600), { startupMs: 100, connectMs: 400, factsMs: 0, applyMs: 0, verifyMs: 100 });
  // start-up's parts: consecutive differences of the command's marks, the last ending at the engine's start
  t.deepEqual(phaseTimes(300, { connected: 400, facts: 600, applied: 900 }, 950, { command: 120.4, inventory: 160, playbook: 250 }).startup, { modulesMs: 120, inventoryMs: 40, playbookMs: 90, planMs: 50 });
  const { startupSplit } = await import('../../src/engine/phases.ts');
  t.deepEqual(startupSplit({ command: 100, inventory: 90, playbook: 200 }, 150), { modulesMs: 100, inventoryMs: 0, playbookMs: 110, planMs: 0 });
});

test('start-up benchmark: the generated inventory has exactly 1,000 lines and loads', async (t) => {
  const { inventoryOfLines } = await import('../../src/bench/startup.ts');
  const { loadInventory } = await import('../../src/inventory/index.ts');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const os = await import('node:os');
  const text = inventoryOfLines(1000);
  t.is(text.split('\n').length - 1, 1000);
  const dir = mkdtempSync(`${os.tmpdir()}/lvsplay-inv1000-`);
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(`${dir}/inv.yaml`, text);
  const inv = loadInventory(`${dir}/inv.yaml`);
  t.true(inv.hosts.size > 250, `${inv.hosts.size} hosts`);
  t.is(inv.hosts.get('rs0001')!.vars.lvs_weight, 2);
  t.like(parseBenchArgs(['--startup']), { startup: true, reps: 10, out: 'bench/startup.json' });
});
