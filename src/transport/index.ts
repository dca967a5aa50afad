export * from './types.ts';
export { SshPool, type SshPoolOptions, type PoolStats } from './pool.ts';
export { CommandTimeoutError, BecomeError } from './errors.ts';
export { PASSPHRASE_ENV, type PassphrasePrompt } from './identity.ts';
export {
  parseKnownHosts,
  checkHostKey,
  hostForm,
  fingerprintSha256,
  type KnownHostEntry,
  type HostKeyStatus,
} from './known-hosts.ts';
export { JUMP_CHANNELS_DEFAULT, JUMP_CHANNELS_MAX } from './jump-lines.ts';
export { fdShortfall, openFilesLimit, socketsNeeded } from './fd-budget.ts';
