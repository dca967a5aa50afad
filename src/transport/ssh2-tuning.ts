/**
 * Where lvsplay reaches into ssh2's internals (ssh2 1.17; test/transport/ssh2-tuning.test.ts fails when an upgrade
 * moves them), all for latency: OpenSSH's sshd sends small packets without TCP_NODELAY, so a packet that follows
 * one the receiver has not acknowledged yet waits for the acknowledgement, and a receiver with nothing to send
 * delays it by 40 ms (Nagle's algorithm meeting delayed ACKs). Over a jump host the relaying sshd does the same on
 * its hop to the host. A packet from us carries the acknowledgements along every hop, so lvsplay answers the server's
 * packets it would otherwise leave unanswered. Each function does nothing when the internals it needs are missing.
 */
import { createRequire } from 'node:module';
import type { Client, ClientChannel } from 'ssh2';

interface PacketWriter {
  allocStart: number;
  alloc(payloadLength: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

interface Protocol {
  _packetRW?: { write?: PacketWriter };
  _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler };
  channelWindowAdjust?(remoteId: number, bytes: number): void;
  requestSuccess?(): void;
}

type GlobalRequestHandler = (proto: Protocol, name: string, wantReply: boolean, data: unknown) => void;

const protocolOf = (client: Client): Protocol | undefined => (client as unknown as { _protocol?: Protocol })._protocol;

type SendPacket = (proto: Protocol, packet: Buffer) => void;
let sendPacket: SendPacket | null | undefined;
function packetSender(): SendPacket | null {
  if (sendPacket === undefined) {
    try {
      const utils = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as { sendPacket?: SendPacket };
      sendPacket = typeof utils.sendPacket === 'function' ? utils.sendPacket : null;
    } catch {
      sendPacket = null;
    }
  }
  return sendPacket;
}

const SSH_MSG_IGNORE = 2;

/** Send SSH_MSG_IGNORE (an empty string): the one message every implementation takes without answering. After the handshake only (strict KEX refuses it during the first key exchange). */
export function sendIgnore(client: Client): boolean {
  const proto = protocolOf(client);
  const w = proto?._packetRW?.write;
  const send = packetSender();
  if (!proto || !w || typeof w.alloc !== 'function' || typeof w.finalize !== 'function' || !send) return false;
  const p = w.allocStart;
  const packet = w.alloc(5);
  packet[p] = SSH_MSG_IGNORE;
  packet.writeUInt32BE(0, p + 1);
  send(proto, w.finalize(packet));
  return true;
}

/**
 * Answer a command's output at once with an empty window adjust on its channel (measured in the tier-1 lab: `sh -s`
 * through the jump, 48 → 5 ms per command: the exit status no longer waits behind the last output). One answer
 * per channel for all the output that arrived in one read (a microtask after it): each answer is an encrypted
 * packet and a socket write, and a burst of small writes by the remote shell used to get one each. Only while
 * the channel is open or half-closed by us: a message after our close could reach a channel the server has freed,
 * which OpenSSH treats as a protocol error.
 */
const answering = new WeakSet<ClientChannel>();

export function acknowledgeOutput(client: Client, ch: ClientChannel): void {
  if (answering.has(ch)) return;
  answering.add(ch);
  queueMicrotask(() => {
    answering.delete(ch);
    const c = ch as unknown as { outgoing?: { id?: number; state?: string } };
    const proto = protocolOf(client);
    const state = c.outgoing?.state;
    if ((state === 'open' || state === 'eof') && typeof c.outgoing?.id === 'number' && typeof proto?.channelWindowAdjust === 'function') {
      proto.channelWindowAdjust(c.outgoing.id, 0);
    }
  });
}

/**
 * After login OpenSSH announces its host keys (hostkeys-00@openssh.com, for UpdateHostKeys) and ssh2 asks the
 * server to prove each (hostkeys-prove-00): a signature per host key on the server, a verification per key here,
 * and a reply that held the first command of every connection 40 ms. lvsplay learns no host keys that way
 * (known_hosts is checked at the handshake): the announcement is acknowledged when asked (OpenSSH does not ask),
 * answered with an ignore message (the server sends more small packets right after it: login notes, then the
 * first channel's confirmation), and not proven. Call right after client.connect().
 */
export function skipHostKeyProofs(client: Client): void {
  const handlers = protocolOf(client)?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return;
  handlers.GLOBAL_REQUEST = (proto, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return original(proto, name, wantReply, data);
    if (wantReply && typeof proto.requestSuccess === 'function') proto.requestSuccess();
    else sendIgnore(client);
  };
}
