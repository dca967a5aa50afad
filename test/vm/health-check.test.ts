/**
 * A health check from issue 12 point 4 on the VM tier (real IPVS, real keepalived 2.2.7): a UDP service checked
 * with UDP_CHECK (payload + require_reply) takes a real server out of the IPVS table when its UDP echo server stops
 * and puts it back when it answers again; the second run changes nothing. Times are measured and logged.
 */
import test from 'ava';
import { useLab, vmUnavailable, skipLoudly } from '../helpers/lab.ts';
import { jsonLines, lvsplay } from '../helpers/cli.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PB = 'test/fixtures/playbooks/health-check-vm.ts';
const RIP = { w1: '198.18.0.52', w2: '198.18.0.53' } as const;
// a UDP echo server on port 5353 (python3 is in the guest: it shares the machine's root filesystem)
const ECHO = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 5353))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(d, a)
`;
const startEcho = `cat > /run/udp-echo.py <<'PY'\n${ECHO}PY\nsetsid python3 /run/udp-echo.py </dev/null >/dev/null 2>&1 & echo $! > /run/udp-echo.pid`;
const stopEcho = 'kill "$(cat /run/udp-echo.pid)"';

const why = await vmUnavailable();
if (why) {
  skipLoudly(test, 'VM health check suite', why);
} else {
  const lab = useLab(test, { topology: 'test/fixtures/lab/health-check.yaml', vm: true });
  const table = async () => (await lab().ssh('d1', 'ipvsadm -Ln -u 198.18.0.180:5353')).stdout;
  /** Seconds until `want(table)` holds (polled over ssh), or undefined after `limitS`. */
  const until = async (want: (t: string) => boolean, limitS: number): Promise<number | undefined> => {
    const t0 = Date.now();
    while (Date.now() - t0 < limitS * 1000) {
      if (want(await table())) return (Date.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 500));
    }
    return undefined;
  };
  const has = (rip: string) => (t: string) => t.includes(`${rip}:5353`);

  test.serial('UDP_CHECK removes a real server whose UDP service stops and re-adds it when it answers again', async (t) => {
    t.timeout(12 * 60_000);
    for (const h of ['w1', 'w2']) t.is((await lab().ssh(h, startEcho)).code, 0);
    const r = await lvsplay(['run', PB, '-i', lab().inventory, '--no-verify'], { timeoutMs: 8 * 60_000 });
    t.is(r.code, 0, r.stdout.slice(-3000) + r.stderr);
    const conf = (await lab().ssh('d1', 'cat /etc/keepalived/keepalived.conf')).stdout;
    t.regex(conf, /UDP_CHECK \{[\s\S]*payload 6c7673706c6179\n\s*require_reply\n/);
    const up = await until((x) => has(RIP.w1)(x) && has(RIP.w2)(x), 90);
    t.truthy(up !== undefined, `both real servers in the table after the run:\n${await table()}`);
    await lab().ssh('w1', stopEcho);
    const gone = await until((x) => !has(RIP.w1)(x) && has(RIP.w2)(x), 90);
    t.truthy(gone !== undefined, `w1 left the table after its echo server stopped:\n${await table()}`);
    await lab().ssh('w1', startEcho);
    const back = await until((x) => has(RIP.w1)(x) && has(RIP.w2)(x), 90);
    t.truthy(back !== undefined, `w1 back in the table after its echo server answers again:\n${await table()}`);
    t.log(`both up ${up?.toFixed(1)} s after the run; w1 removed ${gone?.toFixed(1)} s after its echo server stopped, re-added ${back?.toFixed(1)} s after it started again`);
  });

  test.serial('the second run changes nothing', async (t) => {
    const json = join(lab().dir, 'second.jsonl');
    const r = await lvsplay(['run', PB, '-i', lab().inventory, '--no-verify', '--json', json], { timeoutMs: 8 * 60_000 });
    t.is(r.code, 0, r.stdout + r.stderr);
    const hosts = jsonLines(readFileSync(json, 'utf8')).at(-1)!.hosts as Record<string, { changed: number }>;
    for (const h of ['d1', 'w1', 'w2']) t.is(hosts[h]?.changed, 0, `${h}: ${r.stdout}`);
  });
}
