/** What an operator reads when a connect fails at the socket (src/transport/dial.ts). */
import test from 'ava';
import { socketReason } from '../../src/transport/dial.ts';

const hop = { host: '198.19.0.21', port: 22, user: 'root' };
const err = (code: string) => Object.assign(new Error(code), { code }) as NodeJS.ErrnoException;

test('out of file descriptors (EMFILE, ENFILE): names the limit and the ways out', (t) => {
  for (const code of ['EMFILE', 'ENFILE']) {
    t.is(
      socketReason(err(code), { hop }),
      `lvsplay has no file descriptor left to connect to 198.19.0.21:22 (${code}): raise the open-files limit (ulimit -n, LimitNOFILE) or reach hosts through a jump host`,
    );
  }
});

test('refused and unknown errors', (t) => {
  t.is(socketReason(err('ECONNREFUSED'), { hop }), 'connection refused by 198.19.0.21:22 (is sshd running and listening on port 22?)');
  t.is(socketReason(err('EWHATEVER'), { hop }), undefined);
});
