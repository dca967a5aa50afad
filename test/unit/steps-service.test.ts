import test from 'ava';
import { ValidationError } from '../../src/errors.ts';
import { service } from '../../src/steps/index.ts';
import { planWith } from './steps-harness.ts';
import { PredictedState } from '../../src/engine/predicted-state.ts';

const KA = 'service:keepalived.service:/run/keepalived.pid:keepalived';
const invalid = (t: import('ava').ExecutionContext, fn: () => unknown, re: RegExp) => {
  const e = t.throws(fn, { instanceOf: ValidationError });
  t.regex(e!.toString(), re);
};

test('service on systemd: start/stop/restart/reload/enable from systemctl facts', (t) => {
  const active = '@@active active\n@@enabled enabled\n';
  const inactive = '@@active inactive\n@@enabled disabled\n';
  t.deepEqual(planWith(service('keepalived'), { [KA]: active }).changes, []);
  t.deepEqual(planWith(service('keepalived'), { [KA]: inactive }).changes.map((c) => c.script.split('\n')[0]), ['systemctl start keepalived.service']);
  t.deepEqual(planWith(service('keepalived', { state: 'stopped' }), { [KA]: active }).changes.map((c) => c.script.split('\n')[0]), ['systemctl stop keepalived.service']);
  t.deepEqual(planWith(service('keepalived', { state: 'stopped' }), { [KA]: inactive }).changes, []);
  t.deepEqual(planWith(service('keepalived', { state: 'restarted' }), { [KA]: active }).changes.map((c) => c.script.split('\n')[0]), ['systemctl restart keepalived.service']);
  t.deepEqual(planWith(service('keepalived', { state: 'reloaded' }), { [KA]: active }).changes.map((c) => c.script.split('\n')[0]), ['systemctl reload keepalived.service']);
  t.deepEqual(planWith(service('keepalived', { state: 'reloaded' }), { [KA]: inactive }).changes.map((c) => c.script.split('\n')[0]), ['systemctl start keepalived.service']);
  t.deepEqual(planWith(service('keepalived', { enabled: true }), { [KA]: inactive }).changes.map((c) => c.script.split('\n')[0]), ['systemctl start keepalived.service', 'systemctl enable keepalived.service']);
  t.deepEqual(planWith(service('keepalived', { enabled: false }), { [KA]: active }).changes.map((c) => c.script.split('\n')[0]), ['systemctl disable keepalived.service']);
  t.throws(() => planWith(service('keepalived'), { [KA]: '@@active inactive\n@@enabled masked\n' }), { message: /masked[\s\S]*systemctl unmask/ });
  // a unit written by an earlier file step of the run (or not loaded yet): daemon-reload before starting
  const unitKey = 'service:lvsplay-dr.service:/run/lvsplay-dr.pid:lvsplay-dr';
  const state = new PredictedState();
  state.file('/etc/systemd/system/lvsplay-dr.service').set('[Unit]\n');
  t.deepEqual(planWith(service('lvsplay-dr', { enabled: true }), { [unitKey]: '@@active inactive\n@@enabled \n' }, state).changes.map((c) => c.script.split('\n')[0]), ['systemctl daemon-reload', 'systemctl start lvsplay-dr.service', 'systemctl enable lvsplay-dr.service']);
  t.deepEqual(planWith(service('lvsplay-dr'), { [unitKey]: '@@active active\n@@enabled enabled\n' }, state).changes.map((c) => c.script.split('\n')[0]), ['systemctl daemon-reload']);
});

test('service without systemd: keepalived uses its pidfile; restart stops (and waits) before starting', (t) => {
  t.deepEqual(planWith(service('keepalived'), { [KA]: '@@pid 42\n' }).changes, []);
  const start = planWith(service('keepalived'), { [KA]: '@@nopidfile\n' });
  t.is(start.changes[0]!.summary, 'start keepalived (keepalived -D -p /run/keepalived.pid)');
  t.regex(start.changes[0]!.script, /if ! keepalived -D -p \/run\/keepalived\.pid <\/dev\/null >"\$lvs_log" 2>&1; then/);
  const restart = planWith(service('keepalived', { state: 'restarted' }), { [KA]: '@@pid 42\n' });
  const s = restart.changes[0]!.script;
  t.true(s.indexOf('kill -TERM') < s.indexOf('while kill -0') && s.indexOf('while kill -0') < s.indexOf('keepalived -D -p'), 'SIGTERM, wait for exit, then start');
  t.regex(s, /did not exit within 10s after SIGTERM/);
  const reload = planWith(service('keepalived', { state: 'reloaded' }), { [KA]: '@@pid 42\n' });
  t.is(reload.changes[0]!.summary, 'reload keepalived (SIGHUP to pid 42)');
  t.regex(reload.changes[0]!.script, /kill -HUP "\$lvs_pid"/);
  t.is(planWith(service('keepalived', { state: 'reloaded' }), { [KA]: '@@stale\n' }).changes[0]!.summary, 'start keepalived (was not running)');
  t.deepEqual(planWith(service('keepalived', { enabled: true }), { [KA]: '@@pid 42\n' }).warnings, ['enabled ignored: the host does not run systemd (start at boot is up to its init)']);
  t.deepEqual(planWith(service('keepalived', { state: 'stopped' }), { [KA]: '@@stale\n' }).changes, []);
});

test('service without systemd and without a start command fails clearly', (t) => {
  t.throws(() => planWith(service('nginx'), { 'service:nginx.service:/run/nginx.pid:nginx': '@@nopidfile\n' }), { message: /no start command is known for nginx[\s\S]*give start/ });
  const custom = service('web', { start: '/usr/bin/python3 -m http.server 80', background: true, pidfile: '/run/web.pid', process: 'python3' });
  t.is(custom.facts[0]!.key, 'service:web.service:/run/web.pid:python3');
  t.regex(planWith(custom, { 'service:web.service:/run/web.pid:python3': '@@nopidfile\n' }).changes[0]!.script, /nohup sh -c 'exec \/usr\/bin\/python3 -m http.server 80' <\/dev\/null >"\$lvs_log" 2>&1 &\necho \$! > \/run\/web\.pid/);
});

test('service validation', (t) => {
  invalid(t, () => service('keepalived', { state: 'running' } as never), /option "state"/);
  invalid(t, () => service('keepalived', { reloadSignal: 'SIGHUP' }), /must be a signal name like HUP/);
  invalid(t, () => service('web', { start: 'x', background: true }), /pidfile: is needed with background/);
  invalid(t, () => service('a b'), /is not a service name/);
  t.is(service('keepalived', { state: 'reloaded', name: 'reload keepalived' }).name, 'reload keepalived');
  t.is(service('keepalived', { state: 'reloaded' }).name, 'service keepalived reloaded');
});

test('a reload handler after a start in the same run reloads the daemon it started, not a second start', (t) => {
  const state = new PredictedState();
  const start = planWith(service('keepalived'), { [KA]: '@@nopidfile\n' }, state);
  t.regex(start.changes[0]!.summary, /^start keepalived/);
  const reload = planWith(service('keepalived', { state: 'reloaded' }), { [KA]: '@@nopidfile\n' }, state);
  t.deepEqual(reload.changes.map((c) => c.summary), ['reload keepalived (SIGHUP)']);
  // and a stop earlier in the run means a later `started` starts it again
  const s2 = new PredictedState();
  planWith(service('keepalived', { state: 'stopped' }), { [KA]: '@@pid 42\n' }, s2);
  t.regex(planWith(service('keepalived'), { [KA]: '@@pid 42\n' }, s2).changes[0]!.summary, /^start keepalived/);
});
