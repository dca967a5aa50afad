// Pure: the VM's module load order, QEMU arguments (network confinement) and guest scripts.
import test from 'ava';
import { parseModulesDep, moduleLoadOrder } from '../../src/lab/kernel.ts';
import { qemuArgs, guestInit, initramfsInit, guestFleetContext, type VmPaths } from '../../src/lab/vm.ts';
import { labPaths } from '../../src/lab/paths.ts';
import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';

const DEP = `kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/fs/netfs/netfs.ko:
kernel/net/9p/9pnet.ko:
kernel/net/9p/9pnet_virtio.ko: kernel/drivers/virtio/virtio.ko kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio.ko:
kernel/drivers/virtio/virtio_ring.ko:
kernel/fs/overlayfs/overlay.ko:
`;

test('modules load dependencies first, each once', (t) => {
  const order = moduleLoadOrder(parseModulesDep(DEP), ['9pnet_virtio', '9p', 'overlay']).map((f) => path.basename(f));
  t.deepEqual(order, ['virtio_ring.ko', '9pnet.ko', 'virtio.ko', '9pnet_virtio.ko', 'netfs.ko', 'fscache.ko', '9p.ko', 'overlay.ko']);
  t.throws(() => moduleLoadOrder(parseModulesDep(DEP), ['ip_vs']), { message: /ip_vs is not in the VM kernel/ });
});

const v: VmPaths = {
  dir: '/L/vm', share: '/L/vm/share', initrd: '/L/vm/initrd.cpio', initramfsDir: '/L/vm/initramfs',
  guestInit: '/L/vm/guest-init.sh', guestUp: '/L/vm/guest-up.sh', console: '/L/vm/console.log', pidFile: '/L/vm/qemu.pid',
};
const k = { version: '6.1.0-56-amd64', vmlinux: '/C/vmlinux', root: '/C/root', modulesDir: '/C/root/lib/modules' };

test('QEMU: TCG, qboot + PVH kernel, read-only root share, user net restricted to one loopback forward', (t) => {
  const a = qemuArgs(k, v, 2222).join(' ');
  t.regex(a, /-accel tcg,thread=multi/);
  t.regex(a, /-bios \/usr\/share\/qemu\/qboot\.rom -kernel \/C\/vmlinux/);
  t.regex(a, /local,path=\/,mount_tag=hostroot,security_model=none,readonly=on/);
  const net = a.match(/-netdev (\S+)/)![1];
  t.is(net, 'user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22');
  t.notRegex(a, /-enable-kvm|accel kvm/);
});

test('guest scripts: modules bound, modprobe wrapper, the same fleet script with guest paths', (t) => {
  const init = initramfsInit(k, ['kernel/net/9p/9pnet.ko'], v);
  t.regex(init, /insmod \$m/);
  t.regex(init, /mount --bind \/newroot\/C\/root\/lib\/modules \/newroot\/usr\/lib\/modules/);
  t.regex(init, /exec switch_root \/newroot \/bin\/sh \/L\/vm\/guest-init\.sh/);
  const g = guestInit(v, k.version);
  t.regex(g, /echo \/usr\/sbin\/lvsplay-modprobe > \/proc\/sys\/kernel\/modprobe/);
  t.regex(g, /ip addr add 10\.0\.2\.15\/24 dev eth0/);
  t.regex(g, /\/bin\/sh \/L\/vm\/guest-up\.sh/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lvsplay-labcfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = guestFleetContext(labPaths(dir), v);
  t.like(ctx, { jumpListen: '0.0.0.0', jumpPort: 22, jumpReady: '/run/lvsplay-lab/jump.ready', hostsDir: '/run/lvsplay-lab/hosts' });
});
