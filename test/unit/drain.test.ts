/**
 * lvsplay drain / undrain (issue 15 point 5), the pure parts: the drain state file, the weight edit of a rendered
 * keepalived config (it must give the bytes the roles render for a drained server, or the next run would report
 * a change), target selection and its errors, the per-director step (second drain and undrain of a non-drained
 * server: no change), and the director role reading the state as a fact.
 */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import { applyDrain, DRAIN_STATE_FILE, formatDrainState, parseDrainState, setConfigWeight, withDrained, withUndrained } from '../../src/cluster/drain.ts';
import { activeConnections, byDirector, drainStep, planDrain, reloadAfter } from '../../src/drill/drain.ts';
import { directorConfig } from '../../roles/lib/director.ts';
import { renderDirectorConfig } from '../../roles/lib/render.ts';
import { fileFact } from '../../src/facts/file.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';
import { expandPlay, hostInfo } from '../../src/engine/expand.ts';
import { directorDrHa } from '../../roles/index.ts';
import { planWith, rawFile, type Raw } from './steps-harness.ts';
import type { Step } from '../../src/engine/types.ts';

const inv = loadInventory(fileURLToPath(new URL('../../inventory/lab.yaml', import.meta.url)));
const KINDS = ['NAT', 'DR', 'TUN'] as const;
const T = '2026-12-02T05:00:00Z';

test('drain state: parse, format (sorted, the same state is the same bytes), an old entry keeps its time, empty = no file', (t) => {
  const a = withDrained([], [{ service: 'web-tun', host: 'rs1' }, { service: 'web-dr', host: 'rs1' }], T);
  const text = formatDrainState(a)!;
  t.regex(text, /^# managed by lvsplay/);
  t.true(text.endsWith('web-dr rs1 2026-12-02T05:00:00Z\nweb-tun rs1 2026-12-02T05:00:00Z\n'));
  t.deepEqual(parseDrainState(text), [{ service: 'web-dr', host: 'rs1', since: T }, { service: 'web-tun', host: 'rs1', since: T }]);
  const again = withDrained(parseDrainState(text), [{ service: 'web-dr', host: 'rs1' }], '2026-12-02T06:00:00Z');
  t.is(formatDrainState(again), text, 'a second drain keeps the first time');
  t.deepEqual(parseDrainState(formatDrainState(withUndrained(again, [{ service: 'web-dr', host: 'rs1' }]))), [{ service: 'web-tun', host: 'rs1', since: T }]);
  t.is(formatDrainState(withUndrained(again, [{ service: 'web-dr', host: 'rs1' }, { service: 'web-tun', host: 'rs1' }])), undefined);
  t.deepEqual(parseDrainState('garbage\nweb-dr rs1 yesterday\n# web-dr rs2 2026-12-02T05:00:00Z\n'), [], 'lines that are no entry are ignored');
});

test('the weight edit of a rendered config gives exactly what the role renders for the drained server, and back', (t) => {
  const config = directorConfig(inv, 'dir1', KINDS, {});
  const plain = renderDirectorConfig('director-dr-ha', config);
  const entries = [{ service: 'web-dr', host: 'rs1', since: T }];
  const drained = renderDirectorConfig('director-dr-ha', { ...config, services: config.services.map((s) => applyDrain(s, entries)) });
  t.not(drained, plain);
  const edited = setConfigWeight(plain, { protocol: 'TCP', vip: '198.18.0.100', port: 80 }, '198.18.0.21:80', 0);
  t.is(edited, drained);
  t.is(setConfigWeight(edited!, { protocol: 'TCP', vip: '198.18.0.100', port: 80 }, '198.18.0.21:80', 1), plain);
  // web-tun's rs1 (same address, another virtual_server) is untouched; unknown service, real server or protocol: undefined
  t.regex(edited!, /virtual_server 198\.18\.0\.101 80 \{[^]*real_server 198\.18\.0\.21 80 \{\n\s+weight 1\n/);
  t.is(setConfigWeight(plain, { protocol: 'TCP', vip: '198.18.0.100', port: 81 }, '198.18.0.21:80', 0), undefined);
  t.is(setConfigWeight(plain, { protocol: 'TCP', vip: '198.18.0.100', port: 80 }, '198.18.0.29:80', 0), undefined);
  t.is(setConfigWeight(plain, { protocol: 'UDP', vip: '198.18.0.100', port: 80 }, '198.18.0.21:80', 0), undefined);
  // a fwmark service: its block is `virtual_server fwmark 1`, its real servers `real_server ADDR 0`
  const fw = renderDirectorConfig('director-dr-ha', directorConfig(inv, 'dir1', ['NAT', 'DR', 'TUN'], {}));
  const fwEdited = setConfigWeight(fw, { protocol: 'TCP', vip: '198.18.0.102', port: 80, fwmark: 1 }, '198.18.0.21:0', 0)!;
  t.regex(fwEdited, /virtual_server fwmark 1 \{[^}]*real_server 198\.18\.0\.21 0 \{\n\s+weight 0\n/);
  t.is(fwEdited.split('\n').filter((l, i) => l !== fw.split('\n')[i]).length, 1);
  t.is(setConfigWeight(fw, { protocol: 'TCP', vip: '198.18.0.102', port: 80, fwmark: 2 }, '198.18.0.21:0', 0), undefined);
});

test('targets: every director of every service whose pool holds the host; --service narrows', (t) => {
  const all = planDrain(inv, ['rs1'], { command: 'drain' });
  t.deepEqual(all.map((x) => [x.service, x.real, x.weight, x.directors.join('+')]), [
    ['web-dr', '198.18.0.21:80', 1, 'dir1+dir2'],
    ['web-tun', '198.18.0.21:80', 1, 'dir2+dir1'],
    ['web6-dr', '[fd00:18::21]:80', 1, 'dir1+dir2'],
    ['web6-tun', '[fd00:18::21]:80', 1, 'dir2+dir1'],
    ['echo-udp', '198.18.0.21:5353', 1, 'dir1+dir2'],
    // a fwmark service's real server is ADDR:0 in the table (each packet keeps its port)
    ['web-fwmark', '198.18.0.21:0', 1, 'dir1+dir2'],
    ['web', '198.18.0.21:80', 1, 'node1'],
  ]);
  t.deepEqual([...byDirector(all).keys()].sort(), ['dir1', 'dir2', 'node1']);
  const dr = planDrain(inv, ['rs1'], { command: 'drain', services: ['web-dr'] });
  t.deepEqual([...byDirector(dr).keys()], ['dir1', 'dir2']);
  t.deepEqual(planDrain(inv, ['nat1'], { command: 'undrain' }).map((x) => [x.service, x.real]), [['web-nat', '198.18.1.31:8080'], ['web6-nat', '[fd00:18:1::31]:8080'], ['web-group', '198.18.1.31:8080'], ['web-group', '198.18.1.31:8080']]);
});

test('targets: unknown host or service, a host that is no real server, a service that does not hold it, a narrow --limit: usage errors naming it and the fix', (t) => {
  const err = (hosts: string[], o: { services?: string[]; limit?: string[] } = {}) => t.throws(() => planDrain(inv, hosts, { command: 'drain', ...o }))!.message;
  t.regex(err(['rs9']), /drain: no host "rs9" in the inventory .*\(real servers: nat1, nat2, rs1, rs2\)/);
  t.regex(err(['dir1']), /drain: dir1 is not a real server of any service \(real servers: nat1, nat2, rs1, rs2\)/);
  t.regex(err(['rs1'], { services: ['web-xx'] }), /drain: no service "web-xx" in the inventory \(services: web-nat, web-dr, web-tun, web6-nat, web6-dr, web6-tun, echo-udp, web-fwmark, web-group, web\): fix --service/);
  t.regex(err(['rs1'], { services: ['web-nat'] }), /drain: rs1 is not a real server of web-nat \(its pool: nat1, nat2; rs1 serves web-dr, web-tun, web6-dr, web6-tun, echo-udp, web-fwmark, web\)/);
  t.regex(err(['rs1'], { services: ['web-dr'], limit: ['dir1', 'rs1'] }), /--limit leaves out dir2, director\(s\) of web-dr: a drain changes every director of a service at once \(widen --limit\)/);
  t.regex(err([]), /drain: name the real server\(s\) to drain/);
});

const LIST = `-A -t 198.18.0.100:80 -s rr\n-a -t 198.18.0.100:80 -r 198.18.0.21:80 -g -w W1\n-a -t 198.18.0.100:80 -r 198.18.0.22:80 -g -w 1\n`;
const ipvsRaw = (w: number) => `@@rules\n${LIST.replace('W1', String(w))}@@timeouts\nTimeout (tcp tcpfin udp): 900 120 300\n`;

function facts(step: Step, o: { state?: string; config?: string; weight: number }): Record<string, Raw> {
  const raw: Record<string, Raw> = {};
  for (const f of step.facts) raw[f.key] = '@@absent\n';
  raw[fileFact(DRAIN_STATE_FILE).key] = o.state === undefined ? '@@absent\n' : rawFile(o.state);
  if (o.config !== undefined) raw[fileFact('/etc/keepalived/keepalived.conf').key] = rawFile(o.config);
  raw.ipvs = ipvsRaw(o.weight);
  return raw;
}

test('the director step: drain changes state, config and table at once; a second drain and an undrain of a non-drained server change nothing', (t) => {
  const [target] = planDrain(inv, ['rs1'], { command: 'drain', services: ['web-dr'] });
  const config = renderDirectorConfig('director-dr-ha', directorConfig(inv, 'dir1', KINDS, {}));
  const step = drainStep([target!], { drain: true, now: T });
  const p = planWith(step, facts(step, { config, weight: 1 }));
  t.deepEqual(p.changes.map((c) => c.summary), [
    `${DRAIN_STATE_FILE}: web-dr rs1 drained`,
    '/etc/keepalived/keepalived.conf: web-dr rs1 weight 0',
    'web-dr: 198.18.0.21:80 weight 1 → 0 in the IPVS table',
  ]);
  t.regex(p.changes[1]!.script, /keepalived -t -f/);
  t.regex(p.changes[2]!.script, /ipvsadm -e -t 198\.18\.0\.100:80 -r 198\.18\.0\.21:80 -g -w 0/);
  const state = formatDrainState([{ service: 'web-dr', host: 'rs1', since: T }])!;
  const drainedConfig = setConfigWeight(config, { protocol: 'TCP', vip: '198.18.0.100', port: 80 }, '198.18.0.21:80', 0)!;
  t.deepEqual(planWith(step, facts(step, { state, config: drainedConfig, weight: 0 })).changes, [], 'second drain: 0 changed');
  const undrain = drainStep([target!], { drain: false, now: T });
  t.deepEqual(planWith(undrain, facts(undrain, { config, weight: 1 })).changes, [], 'undrain of a server not drained: 0 changed');
  t.deepEqual(planWith(undrain, facts(undrain, { state, config: drainedConfig, weight: 0 })).changes.map((c) => c.summary), [
    `remove ${DRAIN_STATE_FILE} (nothing drained any more)`,
    '/etc/keepalived/keepalived.conf: web-dr rs1 weight 1',
    'web-dr: 198.18.0.21:80 weight 0 → 1 in the IPVS table',
  ]);
  // a director that does not declare the service (not converged): a plan error, so the command changes nothing
  t.throws(() => planWith(step, facts(step, { config: '# empty\n', weight: 1 })), { message: /^no keepalived config .* declares real server 198\.18\.0\.21:80 of virtual_server 198\.18\.0\.100 80 \(web-dr\)/ });
});

test('an IPv6 real server: the config edit and ipvsadm -e name it bracketed ([fd00:18::21]:80), as ipvsadm writes it', (t) => {
  const [target] = planDrain(inv, ['rs1'], { command: 'drain', services: ['web6-dr'] });
  t.like(target, { service: 'web6-dr', vip: 'fd00:18::100', real: '[fd00:18::21]:80' });
  const config = renderDirectorConfig('director-dr-ha', directorConfig(inv, 'dir1', KINDS, {}));
  const edited = setConfigWeight(config, { protocol: 'TCP', vip: 'fd00:18::100', port: 80 }, '[fd00:18::21]:80', 0)!;
  t.regex(edited, /virtual_server fd00:18::100 80 \{[^]*?real_server fd00:18::21 80 \{\n\s+weight 0\n/);
  t.regex(edited, /virtual_server 198\.18\.0\.100 80 \{[^]*?real_server 198\.18\.0\.21 80 \{\n\s+weight 1\n/, 'the IPv4 service is untouched');
  const step = drainStep([target!], { drain: true, now: T });
  const raw = facts(step, { config, weight: 1 });
  raw.ipvs = '@@rules\n-A -t [fd00:18::100]:80 -s rr\n-a -t [fd00:18::100]:80 -r [fd00:18::21]:80 -g -w 1\n@@timeouts\nTimeout (tcp tcpfin udp): 900 120 300\n';
  const p = planWith(step, raw);
  t.deepEqual(p.changes.map((c) => c.summary).slice(1), ['/etc/keepalived/keepalived.conf: web6-dr rs1 weight 0', 'web6-dr: [fd00:18::21]:80 weight 1 → 0 in the IPVS table']);
  t.regex(p.changes[2]!.script, /ipvsadm -e -t '?\[fd00:18::100\]:80'? -r '?\[fd00:18::21\]:80'? -g -w 0/);
});

test('reload only after a config change, never a start of a stopped keepalived', (t) => {
  const [target] = planDrain(inv, ['rs1'], { command: 'drain', services: ['web-dr'] });
  const step = reloadAfter([target!]);
  const raw: Record<string, Raw> = Object.fromEntries(step.facts.map((f) => [f.key, '']));
  const svcKey = step.facts[0]!.key;
  raw[svcKey] = '@@pid 42\n';
  t.deepEqual(planWith(step, raw).changes, [], 'no config changed: no reload');
  const changed = new PredictedState();
  changed.file('/etc/keepalived/keepalived.conf').set('x');
  t.deepEqual(planWith(step, raw, changed).changes.map((c) => c.summary), ['reload keepalived (SIGHUP to pid 42)']);
  const stopped = new PredictedState();
  stopped.file('/etc/keepalived/keepalived.conf').set('x');
  const p = planWith(step, { ...raw, [svcKey]: '@@nopidfile\n' }, stopped);
  t.deepEqual(p.changes, [], 'a stopped keepalived is not started');
  t.regex(p.warnings!.join(''), /keepalived is not running: its config holds the new weight/);
});

test('active connections per target from ipvsadm -Ln --exact (a missing row is 0)', (t) => {
  const targets = planDrain(inv, ['rs1'], { command: 'drain', services: ['web-dr', 'web-tun'] });
  const listing = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  198.18.0.100:80 rr',
    '  -> 198.18.0.21:80                Route   0      3          7',
    '  -> 198.18.0.22:80                Route   1      0          2',
  ].join('\n');
  t.deepEqual([...activeConnections(listing, targets).values()], [3, 0]);
});

test('the director role renders a drained server at weight 0 from the drain state fact (a later run keeps it and changes nothing)', (t) => {
  const { steps } = expandPlay({ hosts: 'dir1', roles: [directorDrHa({ kinds: ['NAT', 'DR', 'TUN'] })] }, { host: hostInfo(inv, 'dir1'), inventory: inv, playHosts: ['dir1', 'dir2'] });
  const conf = steps.find((s) => s.step.name === 'file /etc/keepalived/keepalived.conf')!.step;
  t.true(conf.facts.some((f) => f.key === fileFact(DRAIN_STATE_FILE).key), 'the config step reads the drain state');
  const config = directorConfig(inv, 'dir1', KINDS, {});
  const plain = renderDirectorConfig('director-dr-ha', config);
  const drained = setConfigWeight(plain, { protocol: 'TCP', vip: '198.18.0.100', port: 80 }, '198.18.0.21:80', 0)!;
  const raw = (state: string | undefined, current: string): Record<string, Raw> => ({
    [fileFact(DRAIN_STATE_FILE).key]: state === undefined ? '@@absent\n' : rawFile(state),
    [fileFact('/etc/keepalived/keepalived.conf').key]: rawFile(current, { mode: 0o644, owner: 'root', group: 'root' }),
  });
  const state = formatDrainState([{ service: 'web-dr', host: 'rs1', since: T }]);
  t.deepEqual(planWith(conf, raw(state, drained)).changes, [], 'drained config + drain state: no change');
  t.deepEqual(planWith(conf, raw(undefined, plain)).changes, [], 'not drained: no change');
  t.deepEqual(planWith(conf, raw(state, plain)).changes.map((c) => c.summary), ['update /etc/keepalived/keepalived.conf'], 'drain state without the config edit: the run renders weight 0');
});
