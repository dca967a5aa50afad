/**
 * `lvsplay lab …` command line: up, down, status, ssh, install. Returns the exit code (0 ok, 1 lab failure,
 * 4 bad inventory, 5 usage).
 */
import { ValidationError, ValidationErrors, UsageError, EXIT } from '../errors.ts';
import { labUp, labDown, labStatus, labSsh } from './lab.ts';
import { installPackages, requireRoot } from './install.ts';
import { LabError } from './run.ts';

const LAB_USAGE = `usage: lvsplay lab COMMAND [options]

  up -i INVENTORY [--vm | --no-vm]   build every host of the inventory (idempotent)
  down                               remove everything the lab created (idempotent)
  status [--no-check]                show the lab's hosts (and whether each answers ssh)
  ssh HOST [CMD...]                  ssh to a lab host through the lab jump host
  install [--vm]                     apt-get install the Debian packages the lab needs (--vm: also QEMU, and
                                     chromium for the report tests)

options:
  --dir DIR     lab directory (default: $LVSPLAY_LAB_DIR or ./.lvsplay/lab)
  --vm          run the hosts inside a QEMU VM with a Debian kernel (real IPVS; minutes)
  --no-vm       namespaces on this machine only (seconds; no IPVS unless the kernel has it)
  default       the VM only when a host has lab_needs_ipvs: true and this kernel lacks IPVS
`;

interface Parsed {
  cmd: string;
  inventory?: string;
  dir?: string;
  vm?: boolean;
  check: boolean;
  rest: string[];
}

export function parseLabArgs(argv: string[]): Parsed {
  const out: Parsed = { cmd: '', check: true, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // after `ssh HOST`, everything is the remote command
    if (out.cmd === 'ssh' && out.rest.length >= 1) {
      out.rest.push(...argv.slice(i));
      break;
    }
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') out.cmd = out.cmd || 'help';
    else if (a === '-i' || a === '--inventory') out.inventory = value();
    else if (a.startsWith('--inventory=')) out.inventory = a.slice(12);
    else if (a === '--dir') out.dir = value();
    else if (a.startsWith('--dir=')) out.dir = a.slice(6);
    else if (a === '--vm') out.vm = true;
    else if (a === '--no-vm') out.vm = false;
    else if (a === '--no-check') out.check = false;
    else if (a.startsWith('-') && out.cmd !== 'ssh') throw new UsageError(`unknown option ${a}\n${LAB_USAGE}`);
    else if (!out.cmd) out.cmd = a;
    else out.rest.push(a);
  }
  return out;
}

export async function labMain(argv: string[]): Promise<number> {
  try {
    const a = parseLabArgs(argv);
    switch (a.cmd) {
      case '':
      case 'help':
        process.stdout.write(LAB_USAGE);
        return a.cmd === 'help' ? EXIT.ok : EXIT.usage;
      case 'up':
        if (!a.inventory) throw new UsageError('lab up needs -i INVENTORY (e.g. -i inventory/lab.yaml)');
        await labUp({ inventory: a.inventory, dir: a.dir, vm: a.vm });
        return EXIT.ok;
      case 'down':
        await labDown({ dir: a.dir });
        return EXIT.ok;
      case 'status': {
        const s = await labStatus({ dir: a.dir, check: a.check });
        if (!s.tier) {
          process.stdout.write(`no lab in ${s.dir}\n`);
          return 1;
        }
        process.stdout.write(`lab ${s.id} (${s.dir}): ${s.up ? 'up' : 'NOT fully running'}, ${s.tier === 'vm' ? 'VM tier' : 'namespace tier'}, jump root@127.0.0.1:${s.jumpPort}, since ${s.startedAt}\n`);
        for (const h of s.hosts) {
          const reach = h.reachable === undefined ? '' : h.reachable ? '  ssh ok' : `  ssh FAILED: ${h.error ?? ''}`;
          process.stdout.write(`  ${h.name.padEnd(12)} ${h.mgmt.padEnd(15)} ${h.running ? 'running' : 'STOPPED'}${reach}\n`);
        }
        return s.up && s.hosts.every((h) => h.reachable !== false) ? EXIT.ok : 1;
      }
      case 'ssh':
        if (a.rest.length === 0) throw new UsageError('lab ssh needs a HOST');
        return await labSsh({ dir: a.dir, host: a.rest[0], cmd: a.rest.slice(1) });
      case 'install': {
        requireRoot('lvsplay lab install');
        const done = await installPackages({ vm: a.vm === true });
        if (done.length === 0) process.stdout.write('lab: every package the lab needs is installed\n');
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown lab command ${a.cmd}\n${LAB_USAGE}`);
    }
  } catch (e) {
    if (e instanceof ValidationError) {
      process.stderr.write(`lvsplay lab: ${e.toString()}\n`);
      return e.exitCode;
    }
    if (e instanceof ValidationErrors || e instanceof UsageError || e instanceof LabError) {
      process.stderr.write(`lvsplay lab: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
