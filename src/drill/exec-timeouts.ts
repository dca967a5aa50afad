/**
 * A drill's control command (kill a watcher or keepalived, start a detached link flap) returns at once on a healthy
 * host: this bound only keeps a hung connection from hanging the drill.
 */
export const CONTROL_EXEC_TIMEOUT_MS = 20_000;
