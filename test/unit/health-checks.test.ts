/** Schema of the health checks and keepalived's LVS options; the sync daemon warning (src/cluster/rules/checks.ts). */
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../src/inventory/index.ts';
import { hostVrrp } from '../../src/cluster/cluster.ts';
import { healthCheckSchema } from '../../src/cluster/health-checks.ts';
import { ipvsSysctlsSchema, type Service, serviceSchema } from '../../src/cluster/schema.ts';
import { fileCheckNameReused, syncDaemonActiveActive } from '../../src/cluster/rules/checks.ts';
import { directorConfig, directorSteps, directorShape, keepalivedTable } from '../../roles/lib/director.ts';
import * as z from 'zod';
import { hostInfo } from '../../src/engine/expand.ts';
import { planWith, rawAbsent, rawTools } from './steps-harness.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/roles/${name}`, import.meta.url));
const svc = { name: 'x', vip: '198.18.0.90', port: 53, lb_kind: 'NAT', real_servers: [{ host: 'rs1' }] };
const messages = (r: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } }) =>
  (r.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

test('a UDP service without health_check gets UDP_CHECK, a TCP one TCP_CHECK', (t) => {
  t.is(serviceSchema.parse({ ...svc, protocol: 'UDP' }).health_check.type, 'UDP_CHECK');
  t.deepEqual(serviceSchema.parse({ ...svc, protocol: 'UDP' }).health_check, { type: 'UDP_CHECK', connect_timeout: 5, retry: 2, delay_before_retry: 2, require_reply: false });
  t.is(serviceSchema.parse(svc).health_check.type, 'TCP_CHECK');
  t.is(serviceSchema.parse({ ...svc, protocol: 'UDP', health_check: { type: 'DNS_CHECK' } }).health_check.type, 'DNS_CHECK');
});

test('options keepalived 2.2.7 does not parse are refused with the reason', (t) => {
  t.deepEqual(messages(healthCheckSchema.safeParse({ type: 'SSL_GET', tls_compliant: true })), ['tls_compliant: needs keepalived 2.2.8; keepalived 2.2.7 (Debian 12) does not have it']);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'SSL_GET', sni_name: 'a.example' }))[0]!, /^sni_name: needs keepalived after 2\.3\.4.*enable_sni/);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'FILE_CHECK', name: 'm', path: '/etc/m', dynamic: true }))[0]!, /^dynamic: FILE_CHECK dynamic is documented .* no keepalived release/);
  // a port means nothing to an ICMP echo
  t.regex(messages(healthCheckSchema.safeParse({ type: 'PING_CHECK', connect_port: 80 }))[0]!, /unrecognized|connect_port/i);
});

test('HTTP checks: one URL or several, status ranges, MD5 digests, not both forms', (t) => {
  t.true(healthCheckSchema.safeParse({ type: 'HTTP_GET', urls: [{ path: '/a', status_code: '200-299 301' }, { path: '/b', digest: 'a'.repeat(32) }] }).success);
  t.deepEqual(messages(healthCheckSchema.safeParse({ type: 'HTTP_GET', path: '/', urls: [{ path: '/a' }] })), ['urls: give either path/status_code (one URL) or urls (several), not both']);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'HTTP_GET', urls: [{ path: '/a', digest: 'abc' }] }))[0]!, /urls\.0\.digest: must be an MD5 digest of 32 hex digits/);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'HTTP_GET', status_code: '200-2999' }))[0]!, /status_code/);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'HTTP_GET', connect_ip: '198.18.0.300' }))[0]!, /connect_ip: "198\.18\.0\.300" is not an IP address/);
});

test('UDP_CHECK and DNS_CHECK values', (t) => {
  t.regex(messages(healthCheckSchema.safeParse({ type: 'UDP_CHECK', min_reply_length: 4 }))[0]!, /require_reply: min_reply_length\/max_reply_length apply only with require_reply/);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'UDP_CHECK', payload: 'zz' }))[0]!, /payload: must be hex digits/);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'DNS_CHECK', query_type: 'PTR' }))[0]!, /query_type is A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG or DNSKEY/);
  t.regex(messages(healthCheckSchema.safeParse({ type: 'BOGUS' }))[0]!, /health_check\.type must be HTTP_GET, SSL_GET, TCP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, MISC_CHECK, FILE_CHECK or NONE/);
});

test('conn_reuse_mode is 0, 1 or 2', (t) => {
  t.true(ipvsSysctlsSchema.safeParse({ 'net.ipv4.vs.conn_reuse_mode': 0 }).success);
  t.regex(messages(ipvsSysctlsSchema.safeParse({ 'net.ipv4.vs.conn_reuse_mode': 3 }))[0]!, /net\.ipv4\.vs\.conn_reuse_mode is 0, 1 or 2/);
});

test('the sync daemon following one instance of an active-active pair is a warning on both directors', (t) => {
  const inv = loadInventory(fixture('cluster.yaml'));
  for (const h of ['dir1', 'dir2']) {
    const w = syncDaemonActiveActive(inv, h, hostVrrp(inv, h));
    t.is(w.length, 1);
    t.regex(w[0]!, /lvs_sync_daemon follows VRRP instance VI_1 \(master dir1\), but instance VI_2 has another master \(dir2\): connections to its VIPs 198\.18\.0\.101 are not synced/);
  }
  // one instance: nothing to warn about
  const single = loadInventory(fixture('health-checks.yaml'));
  t.deepEqual(syncDaemonActiveActive(single, 'h1', hostVrrp(single, 'h1')), []);
});

test('the warning is shown by the director keepalived config step, which still plans its change', (t) => {
  const inv = loadInventory(fixture('cluster.yaml'));
  const o = z.strictObject(directorShape).parse({ install: false });
  const steps = directorSteps('director-dr-ha', ['NAT', 'DR', 'TUN'], o, { host: hostInfo(inv, 'dir1'), inventory: inv, playHosts: ['dir1', 'dir2'] });
  const conf = steps.find((s) => s.name.includes('/etc/keepalived/keepalived.conf'))!;
  // the config does not exist yet: the step plans writing it, and warns
  const p = planWith(conf, Object.fromEntries(conf.facts.map((f) => [f.key, f.key.startsWith('file:') ? rawAbsent : rawTools('keepalived')])));
  t.true(p.changes.length > 0);
  t.true((p.warnings ?? []).some((w) => /instance VI_2 has another master/.test(w)));
});

test('a FILE_CHECK name used by two services of one director is a problem (one track_file, one file)', (t) => {
  const base = serviceSchema.parse({ ...svc, health_check: { type: 'FILE_CHECK', name: 'maint', path: '/etc/lvs/a' } }) as Service;
  const other = { ...base, name: 'y', port: 54 };
  const ps = fileCheckNameReused([{ host: 'h1', field: 'lvs_services[0]', service: base }, { host: 'h1', field: 'lvs_services[1]', service: other }]);
  t.is(ps.length, 1);
  t.is(ps[0]!.field, 'lvs_services[1].health_check.name');
  t.regex(ps[0]!.message, /FILE_CHECK name maint is already the track_file of service x on h1/);
  // another director has its own keepalived: no clash
  t.deepEqual(fileCheckNameReused([{ host: 'h1', field: 'lvs_services[0]', service: base }, { host: 'h2', field: 'lvs_services[1]', service: other }]), []);
});

test('the drift reference carries the scheduler flags and ops keepalived sets (else the drift step would undo them)', (t) => {
  const inv = loadInventory(fixture('health-checks.yaml'));
  const table = keepalivedTable(directorConfig(inv, 'h1', ['NAT', 'DR'], {}));
  const dns = table.services.find((s) => s.port === 53)!;
  t.deepEqual(dns.schedFlags, ['sh-port', 'sh-fallback']);
  t.true(dns.onePacket);
  t.is(table.services.find((s) => s.port === 443)!.schedFlags, undefined);
});
