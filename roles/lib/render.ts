/** keepalived configuration rendered from the ejs templates under roles/NAME/templates/ (pure: inventory → text). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEjs } from '../../src/ejs.ts';
import { PACKAGE_ROOT } from '../../src/package-root.ts';
import { handoverFile, handoverTracker } from '../../src/cluster/handover.ts';
import { trackScriptPath, type HostVrrpInstance, type ResolvedService } from '../../src/cluster/cluster.ts';
import { checkTrackFiles, checkUrls } from '../../src/cluster/health-checks.ts';

/** the roles' source directory (templates are read from there, also when the code runs compiled from dist/) */
const ROLES_DIR = join(PACKAGE_ROOT, 'roles');

export interface KeepalivedConfig {
  host: string;
  routerId: string;
  syncDaemon?: { interface: string; instance: string; id?: number; maxlen?: number };
  /** global_defs max_auto_priority */
  maxAutoPriority?: number;
  syncGroups: { name: string; instances: string[] }[];
  instances: HostVrrpInstance[];
  services: ResolvedService[];
}

/** Render roles/ROLE/templates/TEMPLATE with `data`; templates include shared pieces from roles/lib/templates. */
export function renderTemplate(role: string, template: string, data: Record<string, unknown>): string {
  const filename = join(ROLES_DIR, role, 'templates', template);
  const text = renderEjs(readFileSync(filename, 'utf8'), data, { filename, escape: (s: unknown) => String(s) });
  // collapse blank-line runs the template logic leaves behind, end with one newline
  return `${text.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** keepalived.conf of a director (director, director-nat, director-dr-ha: one template): global_defs, VRRP, virtual_servers. */
export function renderDirectorConfig(role: string, c: KeepalivedConfig): string {
  return renderTemplate('director', 'keepalived.conf.ejs', { ...c, role, syncDaemon: c.syncDaemon ?? null, maxAutoPriority: c.maxAutoPriority ?? null, trackScriptPath, checkTrackFiles, checkUrls, handoverFile, handoverTracker });
}

/** node-svc main config: global_defs and `include CONFDIR/*.conf`. */
export function renderNodeSvcMain(host: string, confDir: string): string {
  return renderTemplate('node-svc', 'keepalived.conf.ejs', { host, routerId: host, syncDaemon: null, maxAutoPriority: null, confDir });
}

/** node-svc: one virtual_server per file. */
export function renderNodeSvcService(host: string, vs: ResolvedService): string {
  return renderTemplate('node-svc', 'service.conf.ejs', { host, vs, checkTrackFiles, checkUrls });
}
