/** lvsplay command line: option parsing, exit codes, and wiring of inventory → playbook → engine → output. */
import { readFileSync } from 'node:fs';
import { PACKAGE_ROOT } from './package-root.ts';
import { EXIT, UsageError, reportError } from './errors.ts';
import { maskText } from './secret-values.ts';

// Each command's module is imported only when that command runs (`await import`): `--version`, `--help` and
// `inventory` never load ssh2, listr2, zod or the roles (start-up time: docs/benchmark.md, "Start-up").

export const VERSION: string = JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, 'utf8')).version;

const HELP = `lvsplay ${VERSION} — build and test LVS/IPVS clusters over SSH

Usage:
  lvsplay run PLAYBOOK.ts -i INVENTORY [options]   converge hosts, then verify the cluster
  lvsplay verify PLAYBOOK.ts -i INVENTORY          only the verification: traffic distribution per service
  lvsplay drill failover|realservers PLAYBOOK.ts -i INVENTORY   rehearse a failure, measure takeover and lost probes
  lvsplay handover INSTANCE | --back -i INVENTORY   move a VRRP instance to its backup for maintenance (and back)
  lvsplay drain|undrain HOST -i INVENTORY          weight 0 for a real server on its directors, wait (and back)
  lvsplay facts -i INVENTORY [--limit P] [--json F] gather and print the facts of each host
  lvsplay inventory -i INVENTORY [--list|--graph]  resolved hosts, groups and merged variables
  lvsplay report EVENTS.jsonl|DRILL.json [-o F.html] an HTML report (charts) of a saved --json file
  lvsplay lab up|down|status|ssh|install ...       a local cluster of real hosts (see: lvsplay lab --help)
  lvsplay COMMAND --help                            help for one command

Exit codes: 0 ok, 2 a host failed (or verification failed), 3 a host was unreachable,
            4 invalid inventory/playbook (nothing touched), 5 bad options, 130 interrupted (a signal).`;

export async function main(argv: string[]): Promise<number> {
  // every line lvsplay prints goes through the secret mask (secret-values.ts)
  const out = (s: string) => process.stdout.write(maskText(s));
  const err = (s: string) => process.stderr.write(maskText(s));
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out(HELP + '\n');
        return cmd === undefined ? EXIT.usage : EXIT.ok;
      case '-V':
      case '--version':
      case 'version':
        out(`lvsplay ${VERSION}\n`);
        return EXIT.ok;
      case 'run':
        return await (await import('./commands/run.ts')).runCommand(rest, { out, err });
      case 'facts':
        return await (await import('./commands/facts.ts')).factsCommand(rest, { out, err });
      case 'inventory':
        return await (await import('./commands/inventory.ts')).inventoryCommand(rest, { out, err });
      case 'verify':
        return await (await import('./commands/verify.ts')).verifyCommand(rest, { out, err });
      case 'drill':
        return await (await import('./commands/drill.ts')).drillCommand(rest, { out, err });
      case 'handover':
        return await (await import('./commands/handover.ts')).handoverCommand(rest, { out, err });
      case 'drain':
      case 'undrain':
        return await (await import('./commands/drain.ts')).drainCommand(rest, { out, err }, cmd);
      case 'report':
        return await (await import('./commands/report.ts')).reportCommand(rest, { out, err });
      case 'lab': {
        const { labMain } = await import('./lab/cli.ts');
        return await labMain(rest);
      }
      default:
        throw new UsageError(`unknown command "${cmd}" (commands: run, facts, inventory, lab; see lvsplay --help)`);
    }
  } catch (e) {
    return reportError(e, err);
  }
}
