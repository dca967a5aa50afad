/**
 * The keepalived-native planned handover of a VRRP instance: every instance tracks a file of its own
 * (track_file, weight 1) that is absent or 0 in normal operation. Writing a negative number into it lowers the
 * member's priority by that much (keepalived clamps the result to 1), so a preempting backup takes the VIP
 * while this member still holds it and forwards: no gap, unlike a keepalived stop, which removes the virtual
 * servers before the VIP leaves. Removing the file gives the priority back (preempt-back). The directory must
 * exist when keepalived loads the config (keepalived drops a track file whose directory is missing).
 */
export const HANDOVER_DIR = '/etc/keepalived/handover';

/** The tracked file of a VRRP instance (instance names are [A-Za-z0-9][A-Za-z0-9_.-]*: never a dot file). */
export function handoverFile(instance: string): string {
  return `${HANDOVER_DIR}/${instance}`;
}

/** The name of the instance's handover tracker in keepalived.conf. */
export function handoverTracker(instance: string): string {
  return `lvsplay_handover_${instance}`;
}

/**
 * The value written for a handover: -253 takes the priority to 1 whatever it was (-254 and below would put the
 * instance in FAULT instead, dropping the VIP at once). A nopreempt backup does not take over from a lower
 * priority master, so a nopreempt instance is handed over through FAULT: its VIP leaves with the priority-0 advert.
 */
export function handoverValue(nopreempt: boolean): number {
  return nopreempt ? -254 : -253;
}

/** What the role writes into the directory (it also makes the directory exist before keepalived reads the config). */
export const HANDOVER_README = `${HANDOVER_DIR}/.README`;
export const HANDOVER_README_TEXT = `# managed by lvsplay: keepalived tracks one file per VRRP instance here (track_file lvsplay_handover_NAME).
# A file NAME holding -253 lowers instance NAME's priority to 1, so the backup takes its VIPs (planned handover);
# absent or 0: normal priority. Written by \`lvsplay handover NAME\` and \`drill failover --mode handover\`;
# \`lvsplay handover --back\` removes it.
`;
