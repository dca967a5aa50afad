import { sh } from '../shell.ts';
import type { Fact } from '../engine/types.ts';
import { FactParseError } from './sections.ts';

/** Commands whose presence steps branch on; gathered once per host. */
export const TOOLS = [
  'modprobe',
  'busybox',
  'systemctl',
  'ip',
  'sysctl',
  'iptables',
  'ip6tables',
  'ipset',
  'ipvsadm',
  'apt-get',
  'dpkg-query',
  'dnf',
  'yum',
  'rpm',
] as const;
export type Tool = (typeof TOOLS)[number] | 'busybox-modprobe' | 'busybox-sysctl';

export interface HostTools {
  has(tool: Tool): boolean;
}

/** Which of TOOLS are on PATH, and which applets busybox offers that steps fall back to. */
export const toolsFact: Fact<HostTools> = {
  key: 'host:tools',
  command: [
    sh`for c in ${TOOLS}; do if command -v "$c" >/dev/null 2>&1; then echo "$c"; fi; done`,
    // steps fall back to busybox's applets only when the command itself is missing: busybox --list runs only then,
    // and as one process, not a busybox + grep pair per applet (every process counts: facts run on every host)
    `if command -v busybox >/dev/null 2>&1 && ! { command -v modprobe && command -v sysctl; } >/dev/null 2>&1; then bl=$(busybox --list 2>/dev/null); for a in modprobe sysctl; do`,
    `  case "
$bl
" in *"
$a
"*) echo "busybox-$a";; esac; done; fi`,
  ].join('\n'),
  parse(stdout): HostTools {
    const set = new Set(stdout.split('\n').map((l) => l.trim()).filter(Boolean));
    return { has: (t) => set.has(t) };
  },
};

export interface InitSystem {
  /** true when systemd is PID 1 (the sd_booted() test: /run/systemd/system exists) and systemctl is installed */
  systemd: boolean;
}

export const initFact: Fact<InitSystem> = {
  key: 'host:init',
  command: `if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then echo systemd; else echo other; fi`,
  parse(stdout): InitSystem {
    const v = stdout.trim();
    if (v !== 'systemd' && v !== 'other') throw new FactParseError('host:init', 'expected systemd|other', stdout);
    return { systemd: v === 'systemd' };
  },
};

export interface OsRelease {
  id: string;
  /** ID plus ID_LIKE, lowercased: ['ubuntu', 'debian'] */
  family: string[];
  versionId: string;
}

/** /etc/os-release (ID, ID_LIKE, VERSION_ID); empty values when the file is missing. */
export const osFact: Fact<OsRelease> = {
  key: 'host:os',
  command: `if [ -r /etc/os-release ]; then cat /etc/os-release; elif [ -r /usr/lib/os-release ]; then cat /usr/lib/os-release; fi`,
  parse(stdout): OsRelease {
    const vars: Record<string, string> = {};
    for (const line of stdout.split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
    }
    const id = (vars.ID ?? '').toLowerCase();
    const like = (vars.ID_LIKE ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    return { id, family: [id, ...like].filter(Boolean), versionId: vars.VERSION_ID ?? '' };
  },
};
