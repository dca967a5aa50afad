/**
 * Authentication in OpenSSH's order (PreferredAuthentications publickey,keyboard-interactive,password): the
 * ssh-agent's keys (when SSH_AUTH_SOCK is set), the key files, then, with a password (ansible_password),
 * keyboard-interactive answering every prompt with it, then password. Records what was tried (never the password),
 * so that a failure can say so.
 */
import type { AnyAuthMethod, AuthHandlerMiddleware, AuthenticationType, NextAuthHandler } from 'ssh2';
import type { IdentityFile, KeyLoader } from './identity.ts';

export interface AuthPlan {
  username: string;
  agentSocket?: string;
  identities: IdentityFile[];
  loader: KeyLoader;
  /** for keyboard-interactive and password authentication */
  password?: string;
}

export interface AuthAttempts {
  /** human-readable list: "ssh-agent (/run/agent.sock)", "key /k/id_ed25519 (ssh-ed25519)", "key /x: file not found" */
  tried: string[];
  /** methods the server said it accepts, from its last failure reply */
  serverMethods?: AuthenticationType[];
}

/**
 * Build an ssh2 authHandler. `waiting(true/false)` brackets key loading, which may prompt for a passphrase, so
 * that the caller can pause its connect timeout meanwhile.
 */
export function makeAuthHandler(
  plan: AuthPlan,
  attempts: AuthAttempts,
  waiting: (isWaiting: boolean) => void,
): AuthHandlerMiddleware {
  const steps: Array<{ method: AuthenticationType; run: () => Promise<AnyAuthMethod | undefined> }> = [];
  const add = (method: AuthenticationType, run: () => Promise<AnyAuthMethod | undefined>) => steps.push({ method, run });
  if (plan.agentSocket) {
    const agent = plan.agentSocket;
    add('publickey', async () => {
      attempts.tried.push(`ssh-agent (${agent})`);
      return { type: 'agent', username: plan.username, agent };
    });
  }
  for (const id of plan.identities) {
    add('publickey', async () => {
      waiting(true);
      let loaded;
      try {
        loaded = await plan.loader.load(id.path);
      } finally {
        waiting(false);
      }
      if (!loaded.ok) {
        // OpenSSH silently skips default key files that do not exist; so do we.
        if (!(loaded.missing && !id.explicit)) attempts.tried.push(`key ${id.path}: ${loaded.reason}`);
        return undefined;
      }
      attempts.tried.push(`key ${id.path} (${loaded.type})`);
      return { type: 'publickey', username: plan.username, key: loaded.key };
    });
  }
  if (plan.password !== undefined) {
    // read when used: the dial withdraws the password after accepting a changed host key (StrictHostKeyChecking=no)
    add('keyboard-interactive', async () => {
      const password = plan.password;
      if (password === undefined) return undefined;
      attempts.tried.push('keyboard-interactive with the password');
      return {
        type: 'keyboard-interactive',
        username: plan.username,
        prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
      };
    });
    add('password', async () => {
      const password = plan.password;
      if (password === undefined) return undefined;
      attempts.tried.push('password');
      return { type: 'password', username: plan.username, password };
    });
  }

  let next = 0;
  return (authsLeft, _partialSuccess, callback) => {
    // authsLeft is null on the first call, then the server's list of methods that can continue.
    if (authsLeft) attempts.serverMethods = authsLeft;
    const done = callback as unknown as (m: AnyAuthMethod | false) => void;
    const advance = (): void => {
      let step = steps[next++];
      // skip what the server does not accept (its list is unknown before the first try)
      while (step && authsLeft && !authsLeft.includes(step.method)) step = steps[next++];
      if (!step) return done(false);
      if (!authsLeft && step.method !== 'publickey') {
        // ask with "none" first, as OpenSSH does, to learn whether the server takes keyboard-interactive or password
        next--;
        return (callback as NextAuthHandler)({ type: 'none', username: plan.username });
      }
      step.run().then(
        (method) => (method ? (callback as NextAuthHandler)(method) : advance()),
        () => advance(),
      );
    };
    advance();
  };
}

export function describeAuthFailure(target: string, attempts: AuthAttempts): string {
  const tried = attempts.tried.length ? attempts.tried.join('; ') : 'nothing: no ssh-agent (SSH_AUTH_SOCK unset) and no key file found (~/.ssh/id_rsa, id_ecdsa, id_ed25519)';
  const server = attempts.serverMethods?.length ? `; the server accepts: ${attempts.serverMethods.join(', ')}` : '';
  return (
    `authentication failed for ${target}; tried ${tried}${server}. ` +
    `Check ansible_user, ansible_ssh_private_key_file (or ansible_password) and the host's authorized_keys`
  );
}
