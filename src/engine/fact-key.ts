/**
 * A fact's key from its kind and EVERY argument its command and parser are built from: facts that share a key share
 * one gathered value, so two facts that differ in any argument must never share one. Parts are joined with ':' and
 * list items with ','; every part but the last (which runs to the end of the key) escapes '%' → %25 and ':' → %3A,
 * list items also ',' → %2C. So for one kind (one fact constructor: its parts in fixed positions) no two argument
 * lists give the same key, and keys stay readable in messages: `file:/etc/keepalived/keepalived.conf`,
 * `pkg:ipvsadm,keepalived`, `iptables-check:nat:SERVICES:-m set --match-set svc dst,dst -j MARK …`.
 */
export function factKey(kind: string, ...parts: ReadonlyArray<string | number | readonly string[]>): string {
  const escape = (s: string, chars: RegExp) => s.replace(/%/g, '%25').replace(chars, (c) => (c === ':' ? '%3A' : '%2C'));
  const encoded = parts.map((p, i) => {
    const last = i === parts.length - 1;
    if (typeof p === 'object') return p.map((item) => escape(item, last ? /,/g : /[:,]/g)).join(',');
    return last ? String(p) : escape(String(p), /:/g);
  });
  return [kind, ...encoded].join(':');
}
