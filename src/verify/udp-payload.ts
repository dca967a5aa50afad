/**
 * What a UDP probe sends: what the service's own health check sends its real servers, so a real DNS (or other UDP)
 * server answers the probes as it answers keepalived. DNS_CHECK: a DNS query for its name and type; UDP_CHECK with
 * a payload: that payload; otherwise (web-backend's responder answers anything) a text line. Pure.
 */
import type { HealthCheck } from '../cluster/health-checks.ts';

const DNS_TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48 };

/** A DNS query (RFC 1035 §4.1: header with RD, one question, class IN) as hex; the id is filled in per probe. */
export function dnsQueryHex(name: string, type: string): string {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.');
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
  const header = Buffer.from([0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(DNS_TYPES[type] ?? 6, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, qname, tail]).toString('hex');
}

/** The probe's datagram as hex, or undefined for the text line; `dns` says the first two bytes are a DNS id. */
export function udpProbePayload(check: HealthCheck): { hex: string; dns: boolean } | undefined {
  if (check.type === 'DNS_CHECK') return { hex: dnsQueryHex(check.name, check.query_type), dns: true };
  if (check.type === 'UDP_CHECK' && check.payload) return { hex: check.payload.replace(/ /g, ''), dns: false };
  return undefined;
}
