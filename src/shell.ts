/** Quote a string for POSIX sh (single quotes; embedded quotes closed and escaped). */
export function q(s: string | number): string {
  const str = String(s);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(str)) return str;
  return `'${str.replace(/'/g, `'\\''`)}'`;
}

/** A heredoc-free way to put arbitrary bytes in a script: base64, decoded on the host. */
export function b64(content: string | Buffer): string {
  return Buffer.from(content).toString('base64');
}

/**
 * Shell that writes `content` to stdout on the host, as a pipeline that can take a redirect:
 * `${printBytes(c)} > file`. base64 has no quote characters, and printf is a builtin (no argument-length limit).
 */
export function printBytes(content: string | Buffer): string {
  return `printf '%s\\n' '${b64(content)}' | base64 -d`;
}
