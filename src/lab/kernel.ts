/**
 * The VM's kernel: Debian's linux-image-6.1.0-NN-amd64 (ip_vs + schedulers, ipip, dummy, 9p, overlay as modules),
 * fetched with `apt-get download` and unpacked with `dpkg -x` into a cache dir: never installed on this machine.
 * The uncompressed kernel is cut out of vmlinuz (the xz stream) so that QEMU boots it directly (PVH, qboot), and
 * modules.dep is built with busybox depmod.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, closeSync, renameSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { run, runOk, LabError } from './run.ts';

export interface Kernel {
  version: string; // 6.1.0-NN-amd64
  vmlinux: string; // uncompressed ELF with a PVH entry
  /** BASE such that BASE/lib/modules/VERSION holds the modules and modules.dep */
  root: string;
  modulesDir: string; // BASE/lib/modules
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

export function defaultCacheDir(env = process.env, cwd = process.cwd()): string {
  return path.resolve(env.LVSPLAY_CACHE_DIR ?? path.join(cwd, '.lvsplay', 'cache'));
}

/** linux-image-6.1.0-NN-amd64, the package linux-image-amd64 depends on. */
async function kernelPackage(log: (s: string) => void): Promise<string> {
  const find = async () => {
    const r = await run('apt-cache', ['depends', 'linux-image-amd64']);
    return /Depends:\s*(linux-image-[0-9][^\s]*-amd64)/.exec(r.stdout)?.[1];
  };
  let pkg = await find();
  if (!pkg) {
    log('lab: apt does not know linux-image-amd64 yet: apt-get update');
    await runOk('apt-get', ['update', '-q'], { what: 'apt-get update' });
    pkg = await find();
  }
  if (!pkg) throw new LabError('cannot find the Debian kernel package (apt-cache depends linux-image-amd64 names none)');
  return pkg;
}

/** Read a module dependency file into name → deps (paths relative to lib/modules/VERSION). */
export function parseModulesDep(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    m.set(line.slice(0, i).trim(), line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
  }
  return m;
}

/** Module files (relative paths) to insmod, dependencies first, for the given module names. */
export function moduleLoadOrder(dep: Map<string, string[]>, names: string[]): string[] {
  const byName = new Map<string, string>();
  for (const k of dep.keys()) byName.set(path.basename(k).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_'), k);
  const order: string[] = [];
  const visit = (file: string) => {
    if (order.includes(file)) return;
    for (const d of [...(dep.get(file) ?? [])].reverse()) visit(d);
    order.push(file);
  };
  for (const n of names) {
    const f = byName.get(n.replace(/-/g, '_'));
    if (!f) throw new LabError(`kernel module ${n} is not in the VM kernel's modules.dep`);
    visit(f);
  }
  return order;
}

/** Download, unpack and prepare the kernel once (cached). */
export async function ensureKernel(cacheDir: string, log: (s: string) => void): Promise<Kernel> {
  const pkg = await kernelPackage(log);
  const version = pkg.replace(/^linux-image-/, '');
  const dir = path.join(cacheDir, 'kernel', pkg);
  const root = path.join(dir, 'root');
  const modulesDir = path.join(root, 'lib', 'modules');
  const vmlinux = path.join(dir, 'vmlinux');
  const done = path.join(dir, '.complete');
  const k: Kernel = { version, vmlinux, root, modulesDir };
  if (existsSync(done)) return k;

  log(`lab: fetching the VM kernel ${pkg} (apt-get download; unpacked under ${dir}, not installed)`);
  // built in a private dir and renamed into place: concurrent labs (test files) may fetch it at the same time
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await runOk('sh', ['-c', 'cd "$1" && apt-get download "$2" 2>&1', 'sh', tmp, pkg], { what: `apt-get download ${pkg}` });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) throw new LabError(`apt-get download ${pkg} left no .deb in ${tmp}`);
    const tmpRoot = path.join(tmp, 'root');
    await runOk('dpkg', ['-x', path.join(tmp, deb), tmpRoot]);
    rmSync(path.join(tmp, deb));

    const vmlinuz = readFileSync(path.join(tmpRoot, 'boot', `vmlinuz-${version}`));
    const at = vmlinuz.indexOf(XZ_MAGIC);
    if (at < 0) throw new LabError(`no xz stream in vmlinuz-${version}: cannot extract the uncompressed kernel`);
    const tmpVmlinux = path.join(tmp, 'vmlinux');
    await xzDecompress(vmlinuz.subarray(at), tmpVmlinux);
    const head = readFileSync(tmpVmlinux).subarray(0, 4);
    if (!head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) throw new LabError(`${tmpVmlinux} is not an ELF kernel`);

    await runOk('busybox', ['depmod', '-b', tmpRoot, version], { what: 'busybox depmod' });
    writeFileSync(path.join(tmp, '.complete'), `${pkg}\n`);
    if (existsSync(done)) return k; // another lab finished first
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  log(`lab: VM kernel ${version} ready`);
  return k;
}

function xzDecompress(data: Buffer, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fd = openSync(out, 'w');
    // --single-stream: stop after the kernel's stream, ignore what follows it in the bzImage
    const p = spawn('xz', ['-dc', '--single-stream'], { stdio: ['pipe', fd, 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    p.on('error', (e) => reject(new LabError(`xz: ${e.message}`)));
    p.on('close', (code) => {
      closeSync(fd);
      code === 0 ? resolve() : reject(new LabError(`xz failed extracting the kernel: ${err.trim()}`));
    });
    // xz stops reading at the end of the kernel's stream: the rest of the write fails with EPIPE, as intended
    p.stdin!.on('error', () => {});
    p.stdin!.end(data);
  });
}
