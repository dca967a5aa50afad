import * as z from 'zod';
import type { Change, Step, StepOptions } from '../engine/types.ts';
import { serviceFact } from '../facts/service.ts';
import { raw, sh } from '../shell.ts';
import { absolutePath, badArg, commonShape, makeStep, parseOptions, PlanError } from './common.ts';

export type ServiceStateWanted = 'started' | 'stopped' | 'restarted' | 'reloaded';

export interface ServiceOptions extends StepOptions {
  state?: ServiceStateWanted;
  /** start at boot (systemd hosts only; ignored with a warning elsewhere) */
  enabled?: boolean;
  /** systemd unit (default NAME.service) */
  unit?: string;
  /** plain manager (hosts without systemd): the start command; daemonizing unless `background` */
  start?: string;
  /** plain manager: the daemon's pidfile (written by the daemon, or by us with `background`) */
  pidfile?: string;
  /** plain manager: the process name (/proc/PID/comm) that proves the pid is the daemon; default: the command's */
  process?: string;
  /** plain manager: the command stays in the foreground; run it in the background and write the pidfile */
  background?: boolean;
  /** plain manager: signal for `reloaded` (default HUP) and for stopping (default TERM) */
  reloadSignal?: string;
  stopSignal?: string;
  /** plain manager: seconds to wait for the old process to exit / the new one to write its pidfile (default 10) */
  timeout?: number;
}

const SIGNAL = z.string().regex(/^(HUP|INT|QUIT|USR1|USR2|TERM|KILL|CONT|STOP)$/, 'must be a signal name like HUP or TERM');
const schema = z.strictObject({
  ...commonShape,
  state: z.enum(['started', 'stopped', 'restarted', 'reloaded']).optional(),
  enabled: z.boolean().optional(),
  unit: z.string().regex(/^[A-Za-z0-9@_.:-]+$/, 'must be a systemd unit name').optional(),
  start: z.string().min(1).refine((s) => !s.includes('\n'), 'must be one line').optional(),
  pidfile: absolutePath.optional(),
  process: z.string().regex(/^[^/\n]{1,64}$/, 'must be a process name').optional(),
  background: z.boolean().optional(),
  reloadSignal: SIGNAL.optional(),
  stopSignal: SIGNAL.optional(),
  timeout: z.number().positive().max(600).optional(),
});

/** How daemons the roles run are started without systemd. keepalived forks and writes its pidfile itself. */
const KNOWN: Record<string, { start: string; pidfile: string; process: string }> = {
  keepalived: { start: 'keepalived -D -p /run/keepalived.pid', pidfile: '/run/keepalived.pid', process: 'keepalived' },
};

interface Plain {
  name: string;
  start: string;
  pidfile: string;
  comm: string;
  background: boolean;
  reloadSignal: string;
  stopSignal: string;
  timeout: number;
}

/** Shell: the live pid of the daemon from its pidfile, or empty (dead, stale, foreign). */
function pidOf(p: Plain): string {
  return [
    `lvs_pid=''`,
    sh`if [ -f ${p.pidfile} ]; then lvs_pid=$(head -n 1 ${p.pidfile} | tr -dc 0-9)`,
    sh`  if [ -z "$lvs_pid" ] || ! kill -0 "$lvs_pid" 2>/dev/null || [ "$(cat /proc/"$lvs_pid"/comm 2>/dev/null)" != ${p.comm} ]; then lvs_pid=''; fi`,
    `fi`,
  ].join('\n');
}

/** Shell: stop the daemon and wait until the process is gone (a zombie counts as gone). */
function stopScript(p: Plain): string {
  const ticks = Math.ceil(p.timeout * 10);
  return [
    pidOf(p),
    `if [ -n "$lvs_pid" ]; then`,
    sh`  kill -${p.stopSignal} "$lvs_pid"`,
    `  lvs_i=0`,
    `  while kill -0 "$lvs_pid" 2>/dev/null && [ "$(sed 's/.*) //' /proc/"$lvs_pid"/stat 2>/dev/null | cut -c1)" != Z ]; do`,
    `    lvs_i=$((lvs_i + 1))`,
    sh`    if [ "$lvs_i" -gt ${ticks} ]; then echo ${`${p.name} (pid `}"$lvs_pid"${`) did not exit within ${p.timeout}s after SIG${p.stopSignal}`} >&2; exit 1; fi`,
    `    sleep 0.1`,
    `  done`,
    `fi`,
    // a daemon killed before it cleaned up leaves its pidfile; the next start must not trust it
    sh`rm -f ${p.pidfile}`,
  ].join('\n');
}

/** Shell: start the daemon, wait for its pidfile to name a live process, and check it survives its first second. */
function startScript(p: Plain): string {
  const ticks = Math.ceil(p.timeout * 10);
  // the start command is the operator's shell command by design
  const launch = p.background
    ? sh`nohup sh -c ${`exec ${p.start}`} </dev/null >"$lvs_log" 2>&1 &\necho $! > ${p.pidfile}`
    : sh`if ! ${raw(p.start)} </dev/null >"$lvs_log" 2>&1; then cat "$lvs_log" >&2; echo ${`${p.name}: start command failed: ${p.start}`} >&2; exit 1; fi`;
  return [
    `lvs_log=$(mktemp)`,
    `trap 'rm -f "$lvs_log"' EXIT`,
    launch,
    `lvs_i=0`,
    `while :; do`,
    pidOf(p).replace(/^/gm, '  '),
    `  [ -n "$lvs_pid" ] && break`,
    `  lvs_i=$((lvs_i + 1))`,
    sh`  if [ "$lvs_i" -gt ${ticks} ]; then cat "$lvs_log" >&2; echo ${`${p.name}: no live process in ${p.pidfile} ${p.timeout}s after start`} >&2; exit 1; fi`,
    `  sleep 0.1`,
    `done`,
    `sleep 1`,
    sh`if ! kill -0 "$lvs_pid" 2>/dev/null; then cat "$lvs_log" >&2; echo ${`${p.name}: exited right after starting`} >&2; exit 1; fi`,
  ].join('\n');
}

/**
 * A service started/stopped/restarted/reloaded (and enabled at boot). With systemd (a fact tells) through
 * systemctl; otherwise a plain daemon manager: start command + pidfile, signals, and a restart that waits for the
 * old process to exit (keepalived refuses to start while the old one runs). `reloaded` sends SIGHUP to a running
 * daemon (keepalived keeps its VIPs and IPVS table) and starts a stopped one.
 */
export function service(name: string, options: ServiceOptions = {}): Step {
  const label = `service ${name}`;
  if (typeof name !== 'string' || !/^[A-Za-z0-9@_.-]+$/.test(name)) badArg(label, 'name', `"${name}" is not a service name`);
  const o = parseOptions(schema, options, label);
  const state = o.state ?? 'started';
  const unit = o.unit ?? (name.includes('.') ? name : `${name}.service`);
  const known = KNOWN[name];
  const start = o.start ?? known?.start;
  const pidfile = o.pidfile ?? known?.pidfile ?? `/run/${name}.pid`;
  if (o.background && o.pidfile === undefined && !known) badArg(label, 'pidfile', 'is needed with background: true', `e.g. pidfile: '/run/${name}.pid'`);
  const plain: Plain | undefined = start
    ? {
        name,
        start,
        pidfile,
        comm: (o.process ?? (o.start ? o.start.split(/\s+/)[0]!.split('/').pop()! : known!.process)).slice(0, 15),
        background: o.background ?? false,
        reloadSignal: o.reloadSignal ?? 'HUP',
        stopSignal: o.stopSignal ?? 'TERM',
        timeout: o.timeout ?? 10,
      }
    : undefined;
  const fact = serviceFact(unit, pidfile, plain?.comm ?? name);
  return makeStep('service', `${label} ${state}`, [fact], o, (ctx) => {
    const st = ctx.fact(fact);
    const changes: Change[] = [];
    const warnings: string[] = [];
    // an earlier step of this run (or a handler's notifier) may have started/stopped it: plan from that, not from
    // the facts gathered before the run (a reload handler after a start must reload, not start a second daemon)
    const predicted = ctx.predict.service(name).get();
    ctx.predict.service(name).set(state === 'stopped' ? 'stopped' : 'running');
    if (st.manager === 'systemd') {
      const running = predicted ? predicted === 'running' : st.active === 'active' || st.active === 'reloading' || st.active === 'activating';
      if (st.enabled === 'masked' && state !== 'stopped') throw new PlanError(`${label}: unit ${unit} is masked`, `systemctl unmask ${unit}`);
      // a unit file written earlier in this run (or one systemd has not loaded yet) needs a daemon-reload first
      const unitWritten =
        ['/etc/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'].some((d) => ctx.predict.file(`${d}/${unit}`).get() !== undefined) ||
        ctx.predict.filesStartingWith(`/etc/systemd/system/${unit}.d/`).length > 0; // a drop-in
      if (unitWritten || (st.enabled === 'not-found' && state !== 'stopped')) {
        changes.push({ summary: 'systemctl daemon-reload', script: 'systemctl daemon-reload' });
      }
      // `systemctl start` succeeds when a unit's condition is false (keepalived.service without a config) and the
      // unit stays inactive: check it is active, or fail with its status, instead of reporting a start that was not
      const active = sh`systemctl is-active --quiet ${unit} || { systemctl status --no-pager --lines=20 ${unit} >&2 || true; echo ${`${unit} is not active after the ${state === 'restarted' ? 'restart' : 'start'}`} >&2; exit 1; }`;
      if (state === 'started' && !running) changes.push({ summary: `start ${unit}`, script: `${sh`systemctl start ${unit}`}\n${active}` });
      if (state === 'stopped' && running) changes.push({ summary: `stop ${unit}`, script: sh`systemctl stop ${unit}` });
      if (state === 'restarted') changes.push({ summary: `restart ${unit}`, script: `${sh`systemctl restart ${unit}`}\n${active}` });
      if (state === 'reloaded') {
        changes.push(running ? { summary: `reload ${unit}`, script: sh`systemctl reload ${unit}` } : { summary: `start ${unit} (was not running)`, script: `${sh`systemctl start ${unit}`}\n${active}` });
      }
      if (o.enabled !== undefined) {
        const isEnabled = ['enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated'].includes(st.enabled);
        if (o.enabled && !isEnabled) changes.push({ summary: `enable ${unit}`, script: sh`systemctl enable ${unit}` });
        if (!o.enabled && st.enabled === 'enabled') changes.push({ summary: `disable ${unit}`, script: sh`systemctl disable ${unit}` });
      }
      return { changes };
    }
    if (!plain) {
      throw new PlanError(`${label}: the host does not run systemd and no start command is known for ${name}`, `give start (and pidfile) in the options, e.g. service('${name}', {start: '/usr/sbin/${name}', pidfile: '/run/${name}.pid'})`);
    }
    if (o.enabled !== undefined) warnings.push(`enabled ignored: the host does not run systemd (start at boot is up to its init)`);
    const running = predicted ? predicted === 'running' : st.pid !== undefined;
    if (state === 'started' && !running) changes.push({ summary: `start ${name} (${plain.start})`, script: `${stopScript(plain)}\n${startScript(plain)}` });
    if (state === 'stopped' && running) changes.push({ summary: `stop ${name}${st.pid ? ` (pid ${st.pid})` : ''}`, script: stopScript(plain) });
    if (state === 'restarted') changes.push({ summary: `restart ${name}`, script: `${stopScript(plain)}\n${startScript(plain)}` });
    if (state === 'reloaded') {
      changes.push(
        running
          ? { summary: `reload ${name} (SIG${plain.reloadSignal}${st.pid ? ` to pid ${st.pid}` : ''})`, script: `${pidOf(plain)}\nif [ -n "$lvs_pid" ]; then kill -${plain.reloadSignal} "$lvs_pid"; else\n${startScript(plain)}\nfi` }
          : { summary: `start ${name} (was not running)`, script: `${stopScript(plain)}\n${startScript(plain)}` },
      );
    }
    return { changes, ...(warnings.length ? { warnings } : {}) };
  });
}
