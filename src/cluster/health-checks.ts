/**
 * keepalived health checkers of a virtual service (`health_check` of an lvs_services entry), as strict zod schemas.
 * Keywords and defaults are those of keepalived.conf(5) of keepalived 2.2.7, the version Debian 12 ships (and the
 * VM lab runs): options only later versions know are refused with the reason instead of being rendered into a
 * config that `keepalived -t` would reject on the directors.
 */
import * as z from 'zod';
import { canonicalIp, ipFamily } from '../facts/netaddr.ts';

/** The keepalived version the roles render for (Debian 12 bookworm). */
export const KEEPALIVED_VERSION = '2.2.7';

const port = z
  .number({ error: (i) => `${JSON.stringify(i.input)} is not a port number (an integer 1-65535)` })
  .int({ error: 'a port is an integer 1-65535' })
  .min(1, { error: 'a port is an integer 1-65535' })
  .max(65535, { error: 'a port is an integer 1-65535' });
/** An IPv4 or IPv6 address (the data model's, shared with schema.ts). */
export const ipAddress = z.string({ error: 'must be an IP address such as 198.18.0.21 or fd00::21' }).refine((s) => ipFamily(s) !== undefined, {
  error: (i) => `${JSON.stringify(i.input)} is not an IP address (write it like 198.18.0.21 or fd00::21)`,
}).transform((s) => canonicalIp(s)!); // one spelling (fd00::21, as ip and ipvsadm print it) for every comparison
const seconds = z.number().int().min(1).max(86400);
const retry = z.number().int().min(0).max(100);
/** A command line for keepalived: an absolute program path then arguments; no double quotes. */
const commandLine = z.string().regex(/^\/[^"\n\\]*$/, { error: 'must be a command starting with an absolute path, without " or newlines' });
const objName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { error: 'must be a name of letters, digits, _ . - (at most 63)' });
const hostName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$/, { error: 'must be a host name such as www.example.org' });
/** keepalived's HEX_STR: hex digits, optionally grouped by spaces (`0a1b 2c`) */
const hexString = z.string().regex(/^[0-9A-Fa-f]+( [0-9A-Fa-f]+)*$/, { error: 'must be hex digits such as "0a1b2c" (groups separated by single spaces allowed)' });

/** A key keepalived 2.2.7 does not parse: any value is refused with the reason. */
function refused(reason: string) {
  return z.unknown().refine(() => false, { error: reason }).optional();
}
/** A key only a later keepalived has. */
function newerOnly(why: string) {
  return refused(`needs ${why}; keepalived ${KEEPALIVED_VERSION} (Debian 12) does not have it`);
}

/** The options every connecting checker has (HTTP_GET, SSL_GET, TCP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK). */
const connectShape = {
  /** address to check instead of the real server's (e.g. a management address) */
  connect_ip: ipAddress.optional(),
  /** port to check instead of the real server's */
  connect_port: port.optional(),
  connect_timeout: seconds.default(3),
  /** more attempts before a server is marked down */
  retry: retry.default(2),
  delay_before_retry: seconds.default(2),
};

/** `200`, or keepalived's list of codes and ranges: `"200-299 301 302"`. */
const statusCodes = z.union([
  z.number().int().min(100).max(599),
  z.string().regex(/^[1-5]\d\d(-[1-5]\d\d)?( [1-5]\d\d(-[1-5]\d\d)?)*$/, { error: 'must be status codes or ranges such as "200-299 301"' }),
], { error: 'status_code is a code such as 200 or a list such as "200-299 301"' });

const urlSchema = z.strictObject({
  path: z.string().regex(/^\/\S*$/, { error: 'must be a URL path starting with /' }),
  /** default (neither status_code nor digest): 200-299 */
  status_code: statusCodes.optional(),
  /** MD5 of the body (`genhash`): 32 hex digits */
  digest: z.string().regex(/^[0-9a-fA-F]{32}$/, { error: 'must be an MD5 digest of 32 hex digits (genhash prints it)' }).optional(),
  /** Host header for this URL */
  virtualhost: hostName.optional(),
});

const httpShape = {
  ...connectShape,
  /** one URL (shorthand; default /, status 200) … */
  path: z.string().regex(/^\/\S*$/, { error: 'must be a URL path starting with /' }).optional(),
  status_code: statusCodes.optional(),
  /** … or several, each checked (all must pass) */
  urls: z.array(urlSchema).min(1, { error: 'give at least one url, or leave urls out (path / status_code)' }).optional(),
  /** Host header of every URL (a url's own virtualhost wins) */
  virtualhost: hostName.optional(),
  http_protocol: z.enum(['1.0', '1.0C', '1.1'], { error: 'http_protocol is "1.0", "1.0C" or "1.1"' }).optional(),
};

const onlyPathOrUrls = (c: { path?: string; status_code?: unknown; urls?: unknown[] }) => !(c.urls && (c.path !== undefined || c.status_code !== undefined));
const pathOrUrlsError = { error: 'give either path/status_code (one URL) or urls (several), not both', path: ['urls'] };

export const healthCheckSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('HTTP_GET'), ...httpShape }).refine(onlyPathOrUrls, pathOrUrlsError),
  z.strictObject({
    type: z.literal('SSL_GET'),
    ...httpShape,
    /** send the virtualhost as SNI in the TLS handshake */
    enable_sni: z.boolean().default(false),
    sni_name: newerOnly('keepalived after 2.3.4 (not in a release yet); enable_sni sends the virtualhost as the SNI'),
    tls_compliant: newerOnly('keepalived 2.2.8'),
  }).refine(onlyPathOrUrls, pathOrUrlsError),
  z.strictObject({ type: z.literal('TCP_CHECK'), ...connectShape }),
  z.strictObject({
    type: z.literal('DNS_CHECK'),
    ...connectShape,
    /** query type (keepalived's default SOA) */
    query_type: z.enum(['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'RRSIG', 'DNSKEY'], { error: 'query_type is A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG or DNSKEY' }).default('SOA'),
    /** the name queried (keepalived's default: the root ".") */
    name: z.string().regex(/^(\.|[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252}))$/, { error: 'must be a domain name such as example.org (or . for the root)' }).default('.'),
  }),
  z.strictObject({
    type: z.literal('UDP_CHECK'),
    ...connectShape,
    // a down server is seen from ICMP errors; host-unreachable waits for ARP to time out (keepalived.conf(5): >= 4 s)
    connect_timeout: seconds.default(5),
    /** datagram sent (default: random bytes) */
    payload: hexString.optional(),
    /** true: some reply is needed; a hex string: the reply must start with it (x = any digit) */
    require_reply: z.union([z.boolean(), z.string().regex(/^[0-9A-Fa-fXx]+( [0-9A-Fa-fXx]+)*$/, { error: 'must be hex digits (x for any) such as "0a1bxx"' })]).default(false),
    min_reply_length: z.number().int().min(0).max(65535).optional(),
    max_reply_length: z.number().int().min(0).max(65535).optional(),
  }).refine((c) => c.require_reply !== false || (c.min_reply_length === undefined && c.max_reply_length === undefined), {
    error: 'min_reply_length/max_reply_length apply only with require_reply', path: ['require_reply'],
  }),
  // an ICMP echo has no port
  z.strictObject({ type: z.literal('PING_CHECK'), connect_ip: connectShape.connect_ip, connect_timeout: connectShape.connect_timeout, retry: connectShape.retry, delay_before_retry: connectShape.delay_before_retry }),
  z.strictObject({
    type: z.literal('MISC_CHECK'),
    script: commandLine,
    timeout: seconds.default(5),
    /** the exit code sets the weight: 0 up, 1 down, 2-255 up with weight = code - 2 (misc_dynamic) */
    dynamic: z.boolean().default(false),
    retry: retry.optional(),
    delay_before_retry: seconds.optional(),
  }),
  z.strictObject({
    type: z.literal('FILE_CHECK'),
    /** name of the keepalived track_file the role declares for it */
    name: objName,
    /** a file holding a number; 0 (or, with a weight, a value > -weight) keeps the server up */
    path: z.string().regex(/^\/[^"\s]+$/, { error: 'must be an absolute path without spaces or "' }),
    /** the value read × weight is added to the server's weight; 0 or none: non-zero = down */
    weight: z.number().int().min(-254).max(254).optional(),
    /** with a weight: a larger value lowers the weight instead (`weight N reverse`) */
    reverse: z.boolean().default(false),
    // documented in keepalived.conf(5), but no keepalived release parses it (2.2.7 to 2.3.4: "Unknown keyword")
    dynamic: refused('FILE_CHECK dynamic is documented by keepalived.conf(5) but no keepalived release (2.2.7 to 2.3.4) parses it; with a weight the value already moves the server weight'),
  }).refine((c) => !c.reverse || c.weight !== undefined, { error: 'reverse needs a weight', path: ['reverse'] }),
  z.strictObject({ type: z.literal('NONE') }),
], { error: 'health_check.type must be HTTP_GET, SSL_GET, TCP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK, MISC_CHECK, FILE_CHECK or NONE' });
export type HealthCheck = z.output<typeof healthCheckSchema>;

/** Checkers that only say something about a TCP service: never the health check of a UDP one. */
export const TCP_ONLY_CHECKS: ReadonlySet<HealthCheck['type']> = new Set(['TCP_CHECK', 'HTTP_GET', 'SSL_GET']);

/**
 * The check of a service without `health_check`: TCP_CHECK for TCP; for UDP a UDP_CHECK (a TCP connect says nothing
 * about a UDP backend). DNS services are better served by an explicit DNS_CHECK (it needs a name the backend answers).
 */
export function defaultHealthCheck(protocol: 'TCP' | 'UDP'): HealthCheck {
  return protocol === 'UDP'
    ? { type: 'UDP_CHECK', connect_timeout: 5, retry: 2, delay_before_retry: 2, require_reply: false }
    : { type: 'TCP_CHECK', connect_timeout: 3, retry: 2, delay_before_retry: 2 };
}

/** The URLs an HTTP_GET/SSL_GET checks (the path/status_code shorthand is one URL: default /, 200). */
export function checkUrls(c: Extract<HealthCheck, { type: 'HTTP_GET' | 'SSL_GET' }>): Array<z.output<typeof urlSchema>> {
  return c.urls ?? [{ path: c.path ?? '/', status_code: c.status_code ?? 200 }];
}

/** The track_file blocks the FILE_CHECKs of some services need (one per name). */
export function checkTrackFiles(checks: readonly HealthCheck[]): Array<{ name: string; path: string }> {
  const out = new Map<string, { name: string; path: string }>();
  for (const c of checks) if (c.type === 'FILE_CHECK') out.set(c.name, { name: c.name, path: c.path });
  return [...out.values()];
}
